"""The drawing behind :mod:`.scenario_generator`: a scenario as a TOML tree (plain dicts and lists, in the
shipped files' key order) from one numpy Generator and a :class:`GeneratorParams`, and its rendering.

Every value stays inside what :func:`~scythe_desktop.engine.scenario.parse_scenario` accepts; the playability
repair (:mod:`.scenario_playable`) runs on the tree afterwards. Regions are lon/lat boxes written as the loader
reads them: ``lon_min > lon_max`` crosses the antimeridian, a polar cap reaches lat ±90.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from scythe_desktop.engine.scenario_generator import GeneratorParams

Tree = dict[str, Any]

#: Observer archetypes: (radius km, cost $/h, base sampling rate, latency ms, detection, capacity per median
#: cluster size) as (low, high) ranges; a world draws distinct ones, so names stay unique.
ARCHETYPES: Final[dict[str, dict[str, tuple[float, float]]]] = {
    "probe": {"radius": (300, 1200), "cost": (0.5, 3), "rate": (1, 1), "latency": (10, 60), "detection": (0.6, 0.9),
              "capacity": (5, 20)},
    "tap": {"radius": (100, 400), "cost": (1.5, 6), "rate": (2, 2), "latency": (2, 20), "detection": (0.85, 0.98),
            "capacity": (3, 10)},
    "satellite": {"radius": (1500, 4000), "cost": (5, 20), "rate": (0.25, 0.5), "latency": (150, 400),
                  "detection": (0.4, 0.65), "capacity": (30, 150)},
    "drone": {"radius": (200, 800), "cost": (2, 8), "rate": (1, 2), "latency": (20, 80), "detection": (0.7, 0.9),
              "capacity": (5, 15)},
    "relay": {"radius": (600, 2000), "cost": (1, 5), "rate": (0.5, 1), "latency": (60, 200), "detection": (0.5, 0.8),
              "capacity": (10, 40)},
}

#: The widest coverage each archetype plausibly has (km): the playability repair widens a type up to this first.
PLAUSIBLE_RADIUS_KM: Final[dict[str, float]] = {
    "probe": 1500.0, "tap": 600.0, "satellite": 9000.0, "drone": 1200.0, "relay": 3500.0,
}

#: Upper bound on count × median cluster size, so the biggest worlds stay near the shipped ``global`` one.
MAX_TYPICAL_NODES: Final = 300_000


def loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi)))) if hi > lo else float(lo)


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


def box(lon_c: float, lat_c: float, half_lon: float, half_lat: float) -> tuple[list[float], list[float]]:
    """A lon/lat box around a centre, in the loader's form: wraps across the antimeridian, clamps at the poles."""
    if half_lon >= 179.5:
        lon = [-180.0, 180.0]
    else:
        lo, hi = round(_wrap(lon_c - half_lon), 2), round(_wrap(lon_c + half_lon), 2)
        hi = 180.0 if hi <= -180.0 else hi  # a box ending on the antimeridian, not a wrap
        lon = [lo, hi]
    lat_lo = round(max(-90.0, lat_c - half_lat), 2)
    lat_hi = round(min(90.0, lat_c + half_lat), 2)
    if lat_hi - lat_lo < 1.0:  # squeezed against a pole: keep a band at least a degree deep
        lat_lo, lat_hi = (lat_hi - 1.0, lat_hi) if lat_hi >= 90.0 else (lat_lo, lat_lo + 1.0)
    return lon, [lat_lo, lat_hi]


def region_span(region: Tree) -> tuple[float, float]:
    """(lon_min, lon span) of a region of the tree (the span wraps when lon_min > lon_max)."""
    lo, hi = region["lon"]
    return lo, (hi - lo) % 360.0 if lo > hi else hi - lo


def region_centre(region: Tree) -> tuple[float, float]:
    lo, span = region_span(region)
    return _wrap(lo + span / 2.0), (region["lat"][0] + region["lat"][1]) / 2.0


def _inside(rng: np.random.Generator, region: Tree) -> tuple[float, float]:
    """A point well inside a region (the middle 60 % of each side)."""
    lo, span = region_span(region)
    lat_lo, lat_hi = region["lat"]
    return _wrap(lo + span * rng.uniform(0.2, 0.8)), lat_lo + (lat_hi - lat_lo) * rng.uniform(0.2, 0.8)


def _halves(region: Tree) -> tuple[float, float]:
    return region_span(region)[1] / 2.0, (region["lat"][1] - region["lat"][0]) / 2.0


@dataclass(frozen=True)
class Theatre:
    """Where a world's regions gather: a centre and a half-extent (degrees of latitude; 180 is the whole globe).
    Coherent theatres, like the shipped scenarios, also keep the RL layout's cell grid dense enough to matter."""

    kind: str  # dateline, polar, local, continental or global
    lon: float
    lat: float
    extent: float

    def point(self, rng: np.random.Generator) -> tuple[float, float]:
        if self.extent >= 180.0:
            return rng.uniform(-180.0, 180.0), float(np.degrees(np.arcsin(rng.uniform(-0.87, 0.87))))
        lat = float(np.clip(self.lat + rng.uniform(-0.5, 0.5) * self.extent, -85.0, 85.0))
        return _wrap(self.lon + rng.uniform(-1.0, 1.0) * self.extent / max(math.cos(math.radians(lat)), 0.35)), lat


def _theatre(rng: np.random.Generator, p: GeneratorParams) -> Theatre:
    if rng.random() < p.antimeridian_probability:
        return Theatre("dateline", 180.0, float(np.degrees(np.arcsin(rng.uniform(-0.7, 0.7)))), rng.uniform(15, 45))
    if rng.random() < p.polar_probability:
        return Theatre("polar", rng.uniform(-180.0, 180.0), 78.0 if rng.random() < 0.5 else -78.0, rng.uniform(20, 40))
    kind = str(rng.choice(["local", "continental", "global"], p=[0.4, 0.4, 0.2]))
    extent = {"local": rng.uniform(12.0, 25.0), "continental": rng.uniform(25.0, 50.0), "global": 180.0}[kind]
    return Theatre(kind, rng.uniform(-180.0, 180.0), float(np.degrees(np.arcsin(rng.uniform(-0.8, 0.8)))), extent)


def _cluster_region(rng: np.random.Generator, p: GeneratorParams, th: Theatre, earlier: list[Tree]) -> Tree:
    i = len(earlier)
    if not earlier and th.kind == "polar":  # the theatre's own cap or band, reaching the pole
        edge = rng.uniform(58.0, 80.0)
        lat = [round(edge, 2), 90.0] if th.lat > 0 else [-90.0, round(-edge, 2)]
        lon = box(th.lon, 0.0, 180.0 if rng.random() < 0.5 else rng.uniform(20.0, 90.0), 1.0)[0]
        kind = "polar_north" if th.lat > 0 else "polar_south"
    elif not earlier and th.kind == "dateline":  # straddles the antimeridian
        h_lon = rng.uniform(5.0, 30.0)
        lon, lat = box(180.0 + rng.uniform(-0.6, 0.6) * h_lon, th.lat, h_lon, rng.uniform(4.0, 18.0))
        kind = "dateline"
    elif earlier and rng.random() < p.overlap_probability:
        # Centred inside an earlier region, so the two always overlap.
        other = earlier[int(rng.integers(len(earlier)))]
        lon_c, lat_c = _inside(rng, other)
        h_lon, h_lat = _halves(other)
        lon, lat = box(lon_c, lat_c, max(3.0, h_lon * rng.uniform(0.4, 1.0)), max(2.0, h_lat * rng.uniform(0.4, 1.0)))
        kind = "overlap"
    else:
        lon, lat = box(*th.point(rng), rng.uniform(5.0, 25.0), rng.uniform(4.0, 15.0))
        kind = "dateline" if lon[0] > lon[1] else "region"
    return {"name": f"{kind}_{i}", "lon": lon, "lat": lat, "latency_zone": "backbone",
            "occlusion": round(rng.uniform(0.0, 0.5), 2), "weight": round(rng.uniform(0.3, 3.0), 2)}


def _forbidden_regions(rng: np.random.Generator, th: Theatre, cluster_regions: list[Tree]) -> list[Tree]:
    out: list[Tree] = []
    for i in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:  # a hole in a cluster region: clusters there are seen only from outside it
            host = cluster_regions[int(rng.integers(len(cluster_regions)))]
            h_lon, h_lat = _halves(host)
            lon, lat = box(*_inside(rng, host), max(1.0, h_lon * rng.uniform(0.2, 0.5)),
                           max(1.0, h_lat * rng.uniform(0.2, 0.5)))
        else:
            lon, lat = box(*th.point(rng), rng.uniform(3.0, 12.0), rng.uniform(3.0, 10.0))
        out.append({"name": f"forbidden_{i}", "lon": lon, "lat": lat, "latency_zone": "backbone",
                    "occlusion": round(rng.uniform(0.3, 0.9), 2), "weight": 0.0})
    return out


def _regions(
    rng: np.random.Generator, p: GeneratorParams
) -> tuple[Theatre, list[Tree], list[Tree], list[str], list[str]]:
    """(theatre, latency zones, regions, names of cluster regions, names of allowed regions)."""
    theatre = _theatre(rng, p)
    clusters: list[Tree] = []
    for _ in range(int(rng.integers(p.regions_min, p.regions_max + 1))):
        clusters.append(_cluster_region(rng, p, theatre, clusters))
    zones: list[Tree] = [{"name": "backbone", "max_latency_ms": float(rng.integers(450, 1001))}]
    if rng.random() < p.latency_zone_probability:
        zones.append({"name": "frontier", "max_latency_ms": float(rng.integers(25, 151))})
        tight = [r for r in clusters if rng.random() < 0.5] or [clusters[int(rng.integers(len(clusters)))]]
        for r in tight:
            r["latency_zone"] = "frontier"
    extra: list[Tree] = []
    allowed: list[str] = []
    if rng.random() < p.allowed_regions_probability:
        keep = [r["name"] for r in clusters if rng.random() < 0.7]
        allowed = keep or [clusters[int(rng.integers(len(clusters)))]["name"]]
        if rng.random() < 0.5:  # a corridor: observers may go there, clusters never live there
            lon_c, lat_c = region_centre(clusters[int(rng.integers(len(clusters)))])
            lon, lat = box(lon_c, lat_c, rng.uniform(20.0, 60.0), rng.uniform(10.0, 30.0))
            extra.append({"name": "corridor", "lon": lon, "lat": lat, "latency_zone": "backbone",
                          "occlusion": 0.0, "weight": 0.0})
            allowed.append("corridor")
    if rng.random() < p.forbidden_probability:
        extra += _forbidden_regions(rng, theatre, clusters)
    return theatre, zones, clusters + extra, [r["name"] for r in clusters], allowed


def _observer_types(rng: np.random.Generator, p: GeneratorParams, size_median: float) -> list[Tree]:
    n = int(rng.integers(p.observer_types_min, p.observer_types_max + 1))
    out = []
    for name in rng.choice(sorted(ARCHETYPES), size=n, replace=False):
        a = ARCHETYPES[str(name)]
        # Costs to the cent's hundredth, so the budget computed from them is the one the file states.
        cost = round(rng.uniform(*a["cost"]), 4)
        rate = round(rng.uniform(*a["rate"]), 2)
        out.append({
            "name": str(name),
            "coverage_radius_km": float(round(rng.uniform(*a["radius"]))),
            "cost_per_hour": cost,
            "setup_fee": round(cost * float(rng.choice([0.0, 0.5, 1.0, 1.5])), 4),
            "min_billing_minutes": float(rng.choice([0.0, 15.0, 30.0, 60.0, 120.0])),
            "sampling_rate": rate,
            "max_sampling_rate": rate * float(rng.choice([2.0, 4.0, 8.0])),
            "latency_ms": round(rng.uniform(*a["latency"]), 1),
            "detection": round(rng.uniform(*a["detection"]), 3),
            "capacity": float(max(10, round(size_median * rng.uniform(*a["capacity"])))),
        })
    return out


def _dynamics(rng: np.random.Generator, p: GeneratorParams, count: int) -> Tree:
    scale = loguniform(rng, p.dynamics_scale_min, p.dynamics_scale_max)

    def rate(base: float, cap: float) -> float:  # the world's scale, jittered per rate
        return min(cap, base * scale * rng.uniform(0.6, 1.5))

    return {
        "p_quiet": rate(0.01, 0.5), "p_activate": rate(0.015, 0.5),
        "activation_ticks": int(rng.integers(p.activation_ticks_min, p.activation_ticks_max + 1)),
        "p_vanish": rate(0.004, 0.2), "spawn_rate": rate(0.002 * count, 10.0),  # shipped: ~0.002 per cluster
        "p_asn_shift": rate(0.002, 0.2), "asn_shift_km": float(rng.integers(150, 801)),
        "cascade_radius_km": float(rng.integers(300, 2001)), "p_cascade": rate(0.25, 0.9),
        "p_resize": rate(0.01, 0.3), "resize_fraction": round(rng.uniform(0.02, 0.15), 3),
        "ghost_decay": round(rng.uniform(0.85, 0.95), 3), "ghost_min_confidence": 0.05,
        "flicker_fraction": round(rng.uniform(0.002, 0.05), 4), "silence_rate": round(rng.uniform(0.03, 0.12), 3),
    }


def _belief(rng: np.random.Generator) -> Tree:
    def u(lo: float, hi: float) -> float:
        return round(rng.uniform(lo, hi), 3)

    return {
        "report_accuracy": u(0.75, 0.95), "count_noise": u(0.2, 0.4),
        "count_process_noise": 0.002, "count_resolution": 0.1, "count_weight": 0.25,
        "quiet_visibility": u(0.25, 0.45), "activating_visibility": u(0.7, 0.9),
        "occlusion_weight": u(0.4, 0.7), "focus_gain": u(0.3, 0.7), "focus_penalty": u(0.1, 0.3),
    }


def draw_tree(rng: np.random.Generator, p: GeneratorParams, name: str) -> Tree:
    """A whole scenario tree (no initial observers yet; see :mod:`.scenario_playable`)."""
    theatre, zones, regions, cluster_regions, allowed = _regions(rng, p)
    count = round(loguniform(rng, p.clusters_min, p.clusters_max))
    median = min(loguniform(rng, 20.0, 3000.0), MAX_TYPICAL_NODES / count)
    size_min = int(rng.integers(3, 11))
    spread = round(rng.uniform(20.0, 200.0), 1)
    clusters = {
        "count": count,
        "max_count": count + max(1, round(count * rng.uniform(0.1, 0.6))),
        "size_median": round(median, 1),
        "size_sigma": round(rng.uniform(0.3, 1.2), 2),
        "size_min": size_min,
        "size_max": max(size_min, round(median * rng.uniform(6.0, 20.0))),
        "spread_km": [spread, min(5000.0, round(spread * rng.uniform(1.5, 5.0), 1))],
        "asns": sorted(int(a) for a in rng.choice(np.arange(1, 65535), size=int(rng.integers(3, 19)), replace=False)),
        "regions": cluster_regions,
    }
    types = _observer_types(rng, p, median)
    cheapest = min(types, key=lambda t: t["cost_per_hour"] + t["setup_fee"])
    k = loguniform(rng, p.budget_observers_min, p.budget_observers_max)
    # k running observers of the cheapest type, the last one's set-up fee on top: k = 1 is one observer.
    budget = math.ceil((k * cheapest["cost_per_hour"] + cheapest["setup_fee"]) * 10.0) / 10.0
    forbidden = [r["name"] for r in regions if r["name"].startswith("forbidden_")]
    dynamics = _dynamics(rng, p, count)
    belief = _belief(rng)
    summary = (
        f"{count} clusters in {len(cluster_regions)} region(s) of a {theatre.kind} theatre, "
        f"{len(types)} observer type(s) "
        f"({', '.join(t['name'] for t in types)}), a budget of {budget:g}/h (about {k:.1f} {cheapest['name']}s), "
        f"activation in {dynamics['activation_ticks']} ticks, {len(forbidden)} forbidden region(s), "
        f"{len(zones)} latency zone(s)."
    )
    return {
        "scenario": {"name": name, "description": summary, "tick_seconds": 60.0},
        "latency_zones": zones,
        "regions": regions,
        "observer_types": types,
        "clusters": clusters,
        "dynamics": dynamics,
        "belief": belief,
        "constraints": {
            "max_instances": int(min(64, max(2, math.ceil(k * rng.uniform(0.7, 1.5)) + 1))),
            "budget_per_hour": budget,
            "allowed_regions": allowed,
            "forbidden_regions": forbidden,
            "default_observer_type": cheapest["name"],
        },
        "reward": {"information_gain": 1.0, "cost": round(rng.uniform(0.01, 0.05), 3), "coverage": 0.1},
        "initial_observers": [],
    }


# ------------------------------------------------------------------------------------------ rendering


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        # Six significant digits: short, and the same bytes on every platform.
        return repr(float(f"{v:.6g}"))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def render_toml(tree: Tree, header: list[str]) -> str:
    """TOML text of a tree: ``header`` as comments, then tables and arrays of tables in the tree's order."""
    lines = [f"# {h}" for h in header]
    for key, value in tree.items():
        rows = value if isinstance(value, list) else [value]
        for row in rows:
            lines += ["", f"[[{key}]]" if isinstance(value, list) else f"[{key}]"]
            lines += [f"{k} = {_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


__all__ = [
    "ARCHETYPES", "PLAUSIBLE_RADIUS_KM", "Theatre", "Tree", "box", "draw_tree", "loguniform", "region_centre",
    "region_span", "render_toml",
]
