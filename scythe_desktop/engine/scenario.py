"""Scenarios: typed, validated world descriptions loaded from TOML files in ``resources/scenarios``.

A scenario fixes everything a world needs except the seed: named lon/lat regions, ASNs, the number and
size distribution of clusters, dynamics rates, the belief model's noise figures, observer types,
constraints (max instances, allowed/forbidden regions, latency zones, budget per hour), reward weights
and the tick length. Every problem raises :class:`ScenarioError` naming the file, the dotted key and
what was expected. This module knows nothing of worlds, nodes or observers at run time.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scythe_desktop.engine.adversary_spec import Adversary, parse_adversary
from scythe_desktop.engine.geo import wrap_lon
from scythe_desktop.engine.scenario_reader import Reader as _Reader
from scythe_desktop.engine.scenario_reader import ScenarioError
from scythe_desktop.engine.scenario_reader import names_known as _names_known

#: Where the shipped scenarios live (``load_scenario("regional")`` looks here).
SCENARIO_DIR: Final = Path(__file__).resolve().parents[2] / "resources" / "scenarios"

# Sizes a world allocates up front or may grow to: a scenario past them is a ScenarioError, not a MemoryError
# in World(). ``global`` (260 clusters of at most 40,000 nodes, 64 observers) is well inside each.
#: Nodes of one cluster (``size_max``).
MAX_CLUSTER_NODES: Final = 1_000_000
#: Nodes of the whole world at its worst: ``max_count × size_max`` (≈ 290 MB of node buffer).
MAX_WORLD_NODES: Final = 12_000_000
#: Observer × cluster pairs of the sensing caches: ``max_instances × max_count``.
MAX_SENSING_PAIRS: Final = 2_000_000
#: A scenario file is a page of TOML; anything this large is not one.
MAX_SCENARIO_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class Region:
    """A named lon/lat box; ``lon_min > lon_max`` means the box crosses the antimeridian."""

    name: str
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    latency_zone: str
    occlusion: float
    weight: float

    def contains(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
        """Whether the box holds each point: the one antimeridian test, for a plain float (every action check:
        no array round trips) and for arrays alike. Longitudes in [-180, 180] are compared as given (wrapping
        them would move a point on an edge by a rounding error); lon 180 and -180 are the same meridian."""
        one = isinstance(lon, float | int) and isinstance(lat, float | int)
        if one:
            w: Any = lon if -180.0 <= lon <= 180.0 else (lon + 180.0) % 360.0 - 180.0  # type: ignore[operator]
            y: Any = lat
        else:
            a = np.asarray(lon, dtype=np.float64)
            w = np.where((a >= -180.0) & (a <= 180.0), a, wrap_lon(a))
            y = np.asarray(lat, dtype=np.float64)
        lo, hi = self.lon_min, self.lon_max
        if lo <= hi:
            inside = ((w >= lo) & (w <= hi)) | ((w == -180.0) & (hi == 180.0)) | ((w == 180.0) & (lo == -180.0))
        else:  # the box crosses the antimeridian: [lo, 180] and [-180, hi]
            inside = (w >= lo) | (w <= hi)
        out = inside & (y >= self.lat_min) & (y <= self.lat_max)
        return np.bool_(out) if one else out  # type: ignore[return-value]

    @property
    def lon_span(self) -> float:
        return (self.lon_max - self.lon_min) % 360.0 if self.lon_min > self.lon_max else self.lon_max - self.lon_min


@dataclass(frozen=True)
class LatencyZone:
    name: str
    max_latency_ms: float


@dataclass(frozen=True)
class ObserverType:
    """A kind of sensor. ``detection`` is the probability of seeing a fully visible cluster at the centre
    of the footprint at the base sampling rate; ``capacity`` is how many nodes it can watch before load
    degrades detection."""

    name: str
    coverage_radius_km: float
    cost_per_hour: float
    sampling_rate: float
    max_sampling_rate: float
    latency_ms: float
    detection: float
    capacity: float
    #: One-off charge ($) at every deploy and relocation (default: one hour of the type's base cost).
    setup_fee: float = 0.0
    #: An observer is billed for at least this long: decommissioning it earlier charges the rest at once.
    min_billing_hours: float = 0.5


@dataclass(frozen=True)
class ClusterSpec:
    count: int
    max_count: int
    size_median: float
    size_sigma: float
    size_min: int
    size_max: int
    spread_km_min: float
    spread_km_max: float
    asns: tuple[int, ...]
    regions: tuple[str, ...]
    #: Initial sizes are scaled up until their sum reaches this (0: no floor).
    min_total_nodes: int = 0


@dataclass(frozen=True)
class Dynamics:
    """Per-tick rates of the cluster dynamics (probabilities unless named otherwise)."""

    p_quiet: float
    p_activate: float
    activation_ticks: int
    p_vanish: float
    spawn_rate: float
    p_asn_shift: float
    asn_shift_km: float
    cascade_radius_km: float
    p_cascade: float
    p_resize: float
    resize_fraction: float
    ghost_decay: float
    ghost_min_confidence: float
    flicker_fraction: float
    silence_rate: float


@dataclass(frozen=True)
class BeliefSpec:
    report_accuracy: float
    count_noise: float
    count_process_noise: float
    count_resolution: float
    count_weight: float
    quiet_visibility: float
    activating_visibility: float
    occlusion_weight: float
    focus_gain: float
    focus_penalty: float


@dataclass(frozen=True)
class Constraints:
    max_instances: int
    budget_per_hour: float
    allowed_regions: tuple[str, ...]
    forbidden_regions: tuple[str, ...]
    default_observer_type: str


@dataclass(frozen=True)
class RewardWeights:
    information_gain: float
    cost: float
    coverage: float


@dataclass(frozen=True)
class InitialObserver:
    lon: float
    lat: float
    observer_type: str


@dataclass(frozen=True)
class Scenario:
    """A whole scenario; ``source`` is the file it came from and ``text`` its TOML (for snapshots)."""

    name: str
    description: str
    tick_seconds: float
    regions: tuple[Region, ...]
    latency_zones: tuple[LatencyZone, ...]
    observer_types: tuple[ObserverType, ...]
    clusters: ClusterSpec
    dynamics: Dynamics
    belief: BeliefSpec
    constraints: Constraints
    reward: RewardWeights
    initial_observers: tuple[InitialObserver, ...]
    source: str = ""
    text: str = field(default="", repr=False)
    #: The evader (``[adversary]``); None: the clusters follow the random dynamics only.
    adversary: Adversary | None = field(default=None, repr=False)

    @property
    def tick_hours(self) -> float:
        return self.tick_seconds / 3600.0

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    def observer_type(self, name: str) -> ObserverType:
        for t in self.observer_types:
            if t.name == name:
                return t
        raise KeyError(name)

    def observer_type_index(self, name: str) -> int:
        return [t.name for t in self.observer_types].index(name)

    def latency_zone_index(self, name: str) -> int:
        return [z.name for z in self.latency_zones].index(name)

    def fingerprint(self) -> str:
        """A short hash of the world's rules: everything but the name, description and file it came from, so
        the same rules under another name match and any edited number does not."""
        rules = replace(self, name="", description="", source="", text="")
        # The adversary joins the hash only when there is one, so worlds without it keep their fingerprints;
        # which scripted evader plays is not a rule of the world (a policy fits it under any evader).
        extra = "" if self.adversary is None else repr(replace(self.adversary, evader=""))
        return hashlib.sha256((repr(rules) + extra).encode()).hexdigest()[:16]

    def region_of(self, lon: float, lat: float) -> int:
        """Index of the first region containing the point, -1 when none does (for display and binning; what
        may go there is :func:`scythe_desktop.engine.placement.site_refusal`'s, over all containing regions)."""
        for i, r in enumerate(self.regions):
            if bool(r.contains(lon, lat)):
                return i
        return -1


# ------------------------------------------------------------------------------------------- loading


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate scenario TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "<syntax>", f"expected valid TOML: {exc}") from None
    root = _Reader(source, data)

    head = root.sub("scenario")
    zones = [LatencyZone(z.string("name"), z.number("max_latency_ms", lo=0.0)) for z in root.tables("latency_zones")]
    zone_names = [z.name for z in zones]
    regions = []
    for r in root.tables("regions", min_items=1):
        lon = r.pair("lon", lo=-180.0, hi=180.0)
        lat = r.pair("lat", lo=-90.0, hi=90.0)
        if lat[0] >= lat[1]:
            raise r.fail("lat", f"expected lat min < max, got {list(lat)}")
        zone = r.string("latency_zone", zone_names[0] if zone_names else None)
        if zone not in zone_names:
            raise r.fail("latency_zone", f"expected one of the latency zones {zone_names}, got {zone!r}")
        regions.append(
            Region(
                r.string("name"),
                lon[0],
                lon[1],
                lat[0],
                lat[1],
                zone,
                r.probability("occlusion", 0.0),
                r.number("weight", 1.0, lo=0.0),
            )
        )
    region_names = [r.name for r in regions]
    if len(set(region_names)) != len(region_names):
        raise root.fail("regions", f"expected unique region names, got {region_names}")

    types = []
    for t in root.tables("observer_types", min_items=1):
        rate = t.number("sampling_rate", lo=1e-3)
        cost = t.number("cost_per_hour", lo=0.0)
        types.append(
            ObserverType(
                t.string("name"),
                t.number("coverage_radius_km", lo=1.0, hi=20000.0),
                cost,
                rate,
                t.number("max_sampling_rate", lo=rate),
                t.number("latency_ms", lo=0.0),
                t.probability("detection"),
                t.number("capacity", lo=1.0),
                setup_fee=t.number("setup_fee", cost, lo=0.0),
                min_billing_hours=t.number("min_billing_minutes", 30.0, lo=0.0, hi=10_000.0) / 60.0,
            )
        )
    type_names = [t.name for t in types]

    c = root.sub("clusters")
    count = c.integer("count", lo=1, hi=100_000)
    size_min = c.integer("size_min", lo=1)
    spread = c.pair("spread_km", lo=1.0, hi=5000.0)
    cluster_regions = c.strings("regions", region_names)
    _names_known(c, "regions", cluster_regions, region_names, "regions")
    size_max = c.integer("size_max", lo=size_min, hi=MAX_CLUSTER_NODES)
    max_count = c.integer("max_count", count, lo=count, hi=100_000)
    if max_count * size_max > MAX_WORLD_NODES:
        raise c.fail("size_max", f"expected max_count × size_max ≤ {MAX_WORLD_NODES:,} nodes (the most this build "
                                 f"simulates), got {max_count:,} × {size_max:,} = {max_count * size_max:,}")
    clusters = ClusterSpec(
        count=count,
        max_count=max_count,
        size_median=c.number("size_median", lo=1.0, hi=size_max),
        size_sigma=c.number("size_sigma", lo=0.0, hi=5.0),
        size_min=size_min,
        size_max=size_max,
        spread_km_min=min(spread),
        spread_km_max=max(spread),
        asns=c.integers("asns"),
        regions=cluster_regions,
        min_total_nodes=c.integer("min_total_nodes", 0, lo=0, hi=MAX_WORLD_NODES),
    )

    d = root.sub("dynamics")
    dynamics = Dynamics(
        p_quiet=d.probability("p_quiet"),
        p_activate=d.probability("p_activate"),
        activation_ticks=d.integer("activation_ticks", lo=1),
        p_vanish=d.probability("p_vanish"),
        spawn_rate=d.number("spawn_rate", lo=0.0, hi=10.0),
        p_asn_shift=d.probability("p_asn_shift"),
        asn_shift_km=d.number("asn_shift_km", lo=0.0, hi=5000.0),
        cascade_radius_km=d.number("cascade_radius_km", lo=0.0),
        p_cascade=d.probability("p_cascade"),
        p_resize=d.probability("p_resize"),
        resize_fraction=d.number("resize_fraction", 0.05, lo=0.0, hi=0.9),
        ghost_decay=d.probability("ghost_decay"),
        ghost_min_confidence=d.probability("ghost_min_confidence"),
        flicker_fraction=d.probability("flicker_fraction"),
        silence_rate=d.probability("silence_rate", 0.05),
    )

    b = root.sub("belief")
    belief = BeliefSpec(
        report_accuracy=b.number("report_accuracy", lo=1.0 / 3.0, hi=1.0),
        count_noise=b.number("count_noise", lo=1e-3, hi=5.0),
        count_process_noise=b.number("count_process_noise", lo=0.0, hi=1.0),
        count_resolution=b.number("count_resolution", lo=1e-3, hi=2.0),
        count_weight=b.number("count_weight", lo=0.0, hi=10.0),
        quiet_visibility=b.probability("quiet_visibility"),
        activating_visibility=b.probability("activating_visibility"),
        occlusion_weight=b.probability("occlusion_weight"),
        focus_gain=b.number("focus_gain", lo=0.0, hi=10.0),
        focus_penalty=b.probability("focus_penalty"),
    )

    k = root.sub("constraints")
    allowed = k.strings("allowed_regions", [])
    forbidden = k.strings("forbidden_regions", [])
    _names_known(k, "allowed_regions", allowed, region_names, "regions")
    _names_known(k, "forbidden_regions", forbidden, region_names, "regions")
    default_type = k.string("default_observer_type", type_names[0])
    if default_type not in type_names:
        raise k.fail("default_observer_type", f"expected one of the observer types {type_names}, got {default_type!r}")
    max_instances = k.integer("max_instances", lo=0, hi=10_000)
    if max_instances * max_count > MAX_SENSING_PAIRS:
        raise k.fail("max_instances", f"expected max_instances × clusters.max_count ≤ {MAX_SENSING_PAIRS:,}, got "
                                      f"{max_instances:,} × {max_count:,}")
    constraints = Constraints(
        max_instances=max_instances,
        budget_per_hour=k.number("budget_per_hour", lo=0.0),
        allowed_regions=allowed,
        forbidden_regions=forbidden,
        default_observer_type=default_type,
    )

    w = root.sub("reward")
    reward = RewardWeights(
        information_gain=w.number("information_gain"), cost=w.number("cost"), coverage=w.number("coverage", 0.0)
    )

    initial = []
    for o in root.tables("initial_observers", max_items=max_instances):
        kind = o.string("observer_type", default_type)
        if kind not in type_names:
            raise o.fail("observer_type", f"expected one of the observer types {type_names}, got {kind!r}")
        initial.append(InitialObserver(o.number("lon", lo=-180.0, hi=180.0), o.number("lat", lo=-90.0, hi=90.0), kind))

    return Scenario(
        name=head.string("name"),
        description=head.string("description", "-"),
        tick_seconds=head.number("tick_seconds", lo=1e-3),
        regions=tuple(regions),
        latency_zones=tuple(zones),
        observer_types=tuple(types),
        clusters=clusters,
        dynamics=dynamics,
        belief=belief,
        constraints=constraints,
        reward=reward,
        initial_observers=tuple(initial),
        source=source,
        text=text,
        adversary=parse_adversary(root.sub("adversary")) if "adversary" in data else None,
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name (``"tutorial"``, ``"regional"``, ``"global"``) or any TOML path."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SCENARIO_BYTES + 1)
        if len(data) > MAX_SCENARIO_BYTES:
            raise ScenarioError(str(path), "<file>", f"expected a file of at most {MAX_SCENARIO_BYTES:,} bytes")
        text = data.decode("utf-8")
    except FileNotFoundError:
        shipped = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
        raise ScenarioError(str(path), "<file>", f"expected an existing scenario file or one of {shipped}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "<file>", f"expected a readable UTF-8 file: {exc}") from None
    return parse_scenario(text, str(path))


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


__all__ = [
    "SCENARIO_DIR",
    "BeliefSpec",
    "ClusterSpec",
    "Constraints",
    "Dynamics",
    "InitialObserver",
    "LatencyZone",
    "ObserverType",
    "Region",
    "RewardWeights",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "shipped_scenarios",
]
