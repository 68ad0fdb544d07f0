"""Playability of a generated scenario: observers can legally go somewhere from where they see clusters,
within the budget — the repair :mod:`.scenario_generator` runs on a drawn tree, and its initial observers.

Sites are the cells of the RL layout (:class:`~scythe_desktop.engine.rl.cells.CellGrid`, where ``greedy`` and the
trained policies deploy). A drawn tree is repaired until every point of every cluster region lies inside the
coverage radius of some site that an affordable type may use
(:func:`~scythe_desktop.engine.constraints.check_placement`), so wherever the world seed puts a cluster, it can be
watched. That is checked on a grid over each region with a margin of the grid's half cell (its distance bound),
so points between grid nodes are covered too. Repairs, mildest first: with clusters out of reach, allow their
regions, then widen the coverage of the type that needs the least widening — one that stays within its
archetype's plausible radius if any can, else any (its capacity grows with the area); with no usable site at
all, or a radius past the loader's limit, loosen the constraints — the allowed-region list, the cheapest type's
latency, the forbidden regions, every type's latency. Forbidden regions and latency zones are thus kept at the
price of a wide footprint: the 8 × 8 layout's cells lie 45° apart once a region crosses the antimeridian.
:func:`make_playable` returns what it changed, for the scenario's description. No randomness: the repair is a
function of the tree.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.constraints import check_placement
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, great_circle_km
from scythe_desktop.engine.scenario import ObserverType, Scenario, parse_scenario
from scythe_desktop.engine.scenario_draw import PLAUSIBLE_RADIUS_KM, Tree, region_centre, render_toml

#: Grid spacing over a cluster region (km, before the clamp to :data:`MIN_SAMPLES`..:data:`MAX_SAMPLES` a side).
SAMPLE_KM: Final = 150.0
MIN_SAMPLES: Final = 3
MAX_SAMPLES: Final = 25
MAX_RADIUS_KM: Final = 20_000.0  # the loader's limit
_KM_PER_DEGREE: Final = math.pi * EARTH_RADIUS_KM / 180.0
_MAX_REPAIRS: Final = 12


def _parse(tree: Tree) -> Scenario:
    return parse_scenario(render_toml(tree, []), "<generated>")


def sites(scenario: Scenario) -> NDArray[np.float64]:
    """(n, 2) lon/lat where the RL layout's policies can put observers."""
    from scythe_desktop.engine.rl.cells import CellGrid
    from scythe_desktop.engine.rl.spaces import EnvConfig

    cfg = EnvConfig()
    return CellGrid.for_scenario(scenario, cfg.cell_rows, cfg.cell_cols).centres


def affordable(scenario: Scenario, spent: float = 0.0) -> list[int]:
    """Types one more of which fits the hourly budget (running cost plus its set-up fee) on top of ``spent``."""
    budget = scenario.constraints.budget_per_hour
    return [i for i, t in enumerate(scenario.observer_types) if spent + t.cost_per_hour + t.setup_fee <= budget + 1e-9]


def valid_sites(scenario: Scenario, points: NDArray[np.float64], type_index: int) -> NDArray[np.bool_]:
    return np.array([check_placement(scenario, float(lon), float(lat), type_index) is None for lon, lat in points])


def cluster_points(scenario: Scenario) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """Grids over the cluster regions: (P, 2) lon/lat, (P,) the margin (km) within which every point of the
    grid cell around a node lies, and (P,) the node's index in ``clusters.regions``."""
    pts, margin, owner = [], [], []
    for i, name in enumerate(scenario.clusters.regions):
        r = scenario.region(name)
        widest = 1.0 if r.lat_min <= 0.0 <= r.lat_max else math.cos(math.radians(min(abs(r.lat_min), abs(r.lat_max))))
        lon_km, lat_km = r.lon_span * _KM_PER_DEGREE * widest, (r.lat_max - r.lat_min) * _KM_PER_DEGREE
        n_lon, n_lat = (min(MAX_SAMPLES, max(MIN_SAMPLES, math.ceil(km / SAMPLE_KM) + 1)) for km in (lon_km, lat_km))
        lon = (r.lon_min + r.lon_span * np.linspace(0.0, 1.0, n_lon) + 180.0) % 360.0 - 180.0
        glon, glat = np.meshgrid(lon, np.linspace(r.lat_min, r.lat_max, n_lat))
        pts.append(np.stack([glon.ravel(), glat.ravel()], axis=1))
        # Along the meridian, then the parallel, to the nearest node: a bound on the great-circle distance.
        margin.append(np.full(glon.size, 0.5 * (lat_km / (n_lat - 1) + lon_km / (n_lon - 1))))
        owner.append(np.full(glon.size, i))
    return np.concatenate(pts), np.concatenate(margin), np.concatenate(owner)


def _loosen(tree: Tree) -> bool:
    """Lift the mildest constraint still in force (see the module docstring); False when none is left."""
    k, types = tree["constraints"], tree["observer_types"]
    cheapest = min(types, key=lambda t: t["cost_per_hour"] + t["setup_fee"])
    floor = math.floor(min(z["max_latency_ms"] for z in tree["latency_zones"]) * 0.9 * 10.0) / 10.0
    if k["allowed_regions"]:
        k["allowed_regions"] = []
    elif cheapest["latency_ms"] > floor:
        cheapest["latency_ms"] = floor
    elif k["forbidden_regions"]:
        k["forbidden_regions"] = []
    elif any(t["latency_ms"] > floor for t in types):
        for t in types:
            t["latency_ms"] = min(t["latency_ms"], floor)
    else:
        return False
    return True


def _reach_needed(scenario: Scenario, dist: NDArray[np.float64], cells: NDArray[np.float64], t: int) -> NDArray:
    """Per grid node, the distance (km) to type ``t``'s nearest valid site; inf where it has none."""
    ok = valid_sites(scenario, cells, t)
    return dist[ok].min(axis=0) if ok.any() else np.full(dist.shape[1], np.inf)


def _repair_once(tree: Tree, scenario: Scenario) -> bool:
    """One repair step; False when the tree is playable as it stands."""
    cells = sites(scenario)
    points, margin, owner = cluster_points(scenario)
    dist = great_circle_km(cells[:, None, 0], cells[:, None, 1], points[None, :, 0], points[None, :, 1])
    types = affordable(scenario)
    need = {t: _reach_needed(scenario, dist, cells, t) + margin for t in types}
    usable = [t for t in types if np.isfinite(need[t]).all()]
    if not usable:
        if not _loosen(tree):  # every type may go everywhere: cannot happen with a loader-valid tree
            raise RuntimeError(f"{scenario.name}: no observer type fits anywhere, and nothing is left to loosen")
        return True
    radius = {t: scenario.observer_types[t].coverage_radius_km for t in usable}
    uncovered = ~np.any([need[t] <= radius[t] for t in usable], axis=0)
    if not uncovered.any():
        return False
    k = tree["constraints"]
    regions = dict.fromkeys(scenario.clusters.regions[i] for i in owner[uncovered])
    missing = [n for n in regions if k["allowed_regions"] and n not in k["allowed_regions"]]
    if missing:
        k["allowed_regions"] = [*k["allowed_regions"], *missing]
        return True
    wanted = {t: math.ceil(float(need[t][uncovered].max()) * 1.02) for t in usable}
    plausible = [t for t in usable if wanted[t] <= PLAUSIBLE_RADIUS_KM.get(scenario.observer_types[t].name, 0.0)]
    best = min(plausible or usable, key=lambda t: (wanted[t] / radius[t], t))
    if wanted[best] > MAX_RADIUS_KM:
        # False once every cell is a valid site: the footprint's soft edge reaches the rest.
        return _loosen(tree)
    kind = tree["observer_types"][best]
    kind["capacity"] = _widened_capacity(scenario, scenario.observer_types[best], wanted[best])
    kind["coverage_radius_km"] = float(wanted[best])
    return True


def _widened_capacity(scenario: Scenario, kind: ObserverType, radius_km: float) -> float:
    # Capacity follows the footprint's area, up to the world's typical total of nodes (never below today's).
    c = scenario.clusters
    total = c.max_count * c.size_median * math.exp(c.size_sigma**2 / 2.0)
    grown = kind.capacity * (radius_km / kind.coverage_radius_km) ** 2
    return float(round(max(kind.capacity, min(grown, total))))


def make_playable(tree: Tree) -> list[str]:
    """Repair ``tree`` in place until it is playable (see the module docstring); what changed, one phrase each."""
    before = _parse(tree)
    for _ in range(_MAX_REPAIRS):
        scenario = _parse(tree)
        if not _repair_once(tree, scenario):
            return _changes(before, scenario)
    raise RuntimeError(f"{tree['scenario']['name']}: still not playable after {_MAX_REPAIRS} repairs")


def _changes(before: Scenario, after: Scenario) -> list[str]:
    out = [
        f"{a.name} coverage widened to {a.coverage_radius_km:g} km"
        for b, a in zip(before.observer_types, after.observer_types, strict=True)
        if a.coverage_radius_km != b.coverage_radius_km
    ]
    out += [f"{b.name} latency lowered to {a.latency_ms:g} ms"
            for b, a in zip(before.observer_types, after.observer_types, strict=True) if a.latency_ms != b.latency_ms]
    k0, k1 = before.constraints, after.constraints
    if k1.allowed_regions != k0.allowed_regions:
        out.append(f"allowed regions {list(k1.allowed_regions) or 'lifted'}")
    if k1.forbidden_regions != k0.forbidden_regions:
        out.append("forbidden regions lifted")
    return out


def add_initial_observers(tree: Tree, rng: np.random.Generator, probability: float) -> None:
    """With ``probability``, one to three observers at valid sites (cluster-region centres first, then cells),
    leaving room in the budget and the instance cap for one more of every affordable type."""
    if rng.random() >= probability:
        return
    scenario = _parse(tree)
    types = scenario.observer_types
    budget = scenario.constraints.budget_per_hour
    reserve = max(types[t].cost_per_hour + types[t].setup_fee for t in affordable(scenario))
    centres = np.array([region_centre(r) for r in tree["regions"] if r["name"] in scenario.clusters.regions])
    candidates = np.round(np.concatenate([centres[rng.permutation(len(centres))], sites(scenario)]), 2)
    spent, placed = 0.0, list[Tree]()
    for _ in range(int(rng.integers(1, 4))):
        t = int(rng.integers(len(types)))
        cost = types[t].cost_per_hour
        full = len(placed) + 1 >= scenario.constraints.max_instances
        if full or spent + cost + max(reserve, types[t].setup_fee) > budget:
            continue
        ok = np.flatnonzero(valid_sites(scenario, candidates, t))
        if ok.size:
            lon, lat = candidates[ok[0] if rng.random() < 0.5 else ok[int(rng.integers(ok.size))]]
            placed.append({"lon": float(lon), "lat": float(lat), "observer_type": types[t].name})
            spent += cost
    tree["initial_observers"] = placed


__all__ = ["add_initial_observers", "affordable", "cluster_points", "make_playable", "sites", "valid_sites"]
