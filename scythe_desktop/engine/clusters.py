"""Clusters: the ground-truth state and belief of every tracked cluster as dense column arrays, and their
per-tick dynamics (go quiet, activate, activation cascade, vanish into a ghost, ASN shift, resize, spawn).

Rows are dense and re-packed when ghosts are dropped; a cluster's ``id`` is stable and never reused.
``state`` is the ground truth: a vanished cluster becomes ``GHOST`` (it has no nodes any more but is still
tracked because the belief remembers it) and is dropped once its ghost confidence decays below the
scenario's threshold. Everything is vectorised over clusters and draws from one seeded Generator, so
the trajectory depends only on the scenario, the seed and the actions, never on whether nodes are emitted.
This module knows nothing of observers, nodes buffers or fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, cast

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.belief import N_STATES
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, destination, unit_vectors, wrap_lon
from scythe_desktop.engine.scenario import Scenario


class ClusterState(IntEnum):
    ACTIVE = 0
    QUIET = 1
    ACTIVATING = 2
    GHOST = 3


# Plain ints for the hot path (IntEnum attribute access costs microseconds).
ACTIVE, QUIET, ACTIVATING, GHOST = (int(s) for s in ClusterState)


#: The public cluster table (one record per tracked cluster); ``belief`` is P(active, quiet, activating,
#: gone), ``confidence`` decays for ghosts, ``believed_count`` is the belief's median node count.
CLUSTER_DTYPE: Final = np.dtype(
    [
        ("id", "<i8"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("node_count", "<i8"),
        ("silence_pressure", "<f8"),
        ("coherence", "<f8"),
        ("entropy", "<f8"),
        ("asn", "<i8"),
        ("state", "<i4"),
        ("agreement", "<f8"),
        ("ambiguity", "<f8"),
        ("volatility", "<f8"),
        ("coverage_deficit", "<f8"),
        ("detected", "?"),
        ("confidence", "<f8"),
        ("belief", "<f8", (N_STATES,)),
        ("believed_count", "<f8"),
        ("spread_km", "<f8"),
        ("threat", "<f8"),
    ]
)

#: Per-state levels used by nodes and fields: intensity, threat, coherence target, silence target.
STATE_INTENSITY: Final = np.array([0.8, 0.15, 0.55, 0.0])
STATE_THREAT: Final = np.array([1.0, 0.3, 1.6, 0.0])
STATE_COHERENCE: Final = np.array([0.85, 0.35, 0.6, 0.0])
STATE_SILENCE: Final = np.array([0.05, 1.0, 0.3, 1.0])

_COLUMNS: Final = (
    "id",
    "lon",
    "lat",
    "xyz",
    "node_count",
    "asn",
    "state",
    "activation_left",
    "silence",
    "spread_km",
    "region_occlusion",
    "node_seed",
    "mu",
    "var",
    "agreement",
    "volatility",
    "majority",
    "confidence",
    "detected",
    "coverage",
    "entropy",
)


@dataclass
class ClusterArrays:
    """Column arrays of equal length n; ``xyz`` is (n, 3) and the state belief ``b`` is stored
    transposed, (4, n) (see :class:`scythe_desktop.engine.belief.BeliefModel`)."""

    id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    xyz: NDArray[np.float64]
    node_count: NDArray[np.int64]
    asn: NDArray[np.int64]
    state: NDArray[np.int64]
    activation_left: NDArray[np.int64]
    silence: NDArray[np.float64]
    spread_km: NDArray[np.float64]
    region_occlusion: NDArray[np.float64]
    node_seed: NDArray[np.int64]
    b: NDArray[np.float64]
    mu: NDArray[np.float64]
    var: NDArray[np.float64]
    agreement: NDArray[np.float64]
    volatility: NDArray[np.float64]
    majority: NDArray[np.int64]
    confidence: NDArray[np.float64]
    detected: NDArray[np.bool_]
    coverage: NDArray[np.float64]
    entropy: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def select(self, keep: NDArray[np.bool_] | NDArray[np.int64]) -> None:
        for name in _COLUMNS:
            setattr(self, name, getattr(self, name)[keep])
        self.b = self.b[:, keep]

    def extend(self, other: ClusterArrays) -> None:
        for name in _COLUMNS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        self.b = np.concatenate([self.b, other.b], axis=1)

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in (*_COLUMNS, "b")}

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray]) -> ClusterArrays:
        return cls(**{name: np.array(cols[name]) for name in (*_COLUMNS, "b")})

    def threat(self) -> NDArray[np.float64]:
        return STATE_THREAT[self.state]

    def table(self, ambiguity: NDArray[np.float64]) -> np.ndarray:
        t = np.zeros(len(self), dtype=CLUSTER_DTYPE)
        t["id"] = self.id
        t["lon"] = self.lon
        t["lat"] = self.lat
        t["node_count"] = self.node_count
        t["silence_pressure"] = self.silence
        t["coherence"] = coherence(self)
        t["entropy"] = self.entropy
        t["asn"] = self.asn
        t["state"] = self.state
        t["agreement"] = self.agreement
        t["ambiguity"] = ambiguity
        t["volatility"] = self.volatility
        t["coverage_deficit"] = 1.0 - self.coverage
        t["detected"] = self.detected
        t["confidence"] = self.confidence
        t["belief"] = self.b.T
        t["believed_count"] = np.exp(self.mu)
        t["spread_km"] = self.spread_km
        t["threat"] = self.threat()
        return t


_NONE: Final = np.zeros(0, dtype=np.int64)
_NONE.flags.writeable = False
EVENT_KINDS: Final = (
    "quiet",
    "activating",
    "active",
    "cascade",
    "vanished",
    "shifted",
    "resized",
    "spawned",
    "dropped",
)


class ClusterEvents:
    """Cluster ids touched by one tick of dynamics, by kind (each an int64 array, empty when none)."""

    __slots__ = EVENT_KINDS

    def __init__(self) -> None:
        for kind in EVENT_KINDS:
            setattr(self, kind, _NONE)

    quiet: NDArray[np.int64]
    activating: NDArray[np.int64]
    active: NDArray[np.int64]
    cascade: NDArray[np.int64]
    vanished: NDArray[np.int64]
    shifted: NDArray[np.int64]
    resized: NDArray[np.int64]
    spawned: NDArray[np.int64]
    dropped: NDArray[np.int64]

    def kinds(self) -> dict[str, NDArray[np.int64]]:
        return {k: getattr(self, k) for k in EVENT_KINDS}

    def state_changed(self) -> NDArray[np.int64]:
        """Clusters whose node intensity/threat level changed."""
        return np.concatenate([self.quiet, self.activating, self.active, self.cascade])


class DynamicsTables:
    """A scenario's dynamics rates arranged for table lookups by state (built once per world)."""

    def __init__(self, scenario: Scenario) -> None:
        d = scenario.dynamics
        # Rows, indexed by state in columns: P(change) (active->quiet, quiet->activating), P(vanish),
        # P(ASN shift), P(resize), the silence pull (rate × target) and the confidence factor per tick.
        self.by_state = np.array(
            [
                [d.p_quiet, d.p_activate, 0.0, 0.0],
                [0.0, d.p_vanish, 0.0, 0.0],
                [d.p_asn_shift, d.p_asn_shift, d.p_asn_shift, 0.0],
                [d.p_resize, d.p_resize, d.p_resize, 0.0],
                STATE_SILENCE * d.silence_rate,
                [1.0, 1.0, 1.0, d.ghost_decay],
            ]
        )
        self.keep = 1.0 - d.silence_rate
        # Inverse CDF of the Poisson number of spawns per tick, drawn from one uniform.
        k = np.arange(12)
        pmf = np.exp(-d.spawn_rate) * d.spawn_rate**k / np.cumprod(np.concatenate([[1.0], k[1:]]))
        self.spawn_cdf = np.cumsum(pmf).tolist()
        regions = [scenario.region(n) for n in scenario.clusters.regions]
        w = np.array([r.weight for r in regions])
        w = w if w.sum() > 0 else np.ones_like(w)
        self.region_cdf = np.cumsum(w) / w.sum()
        self.region_lon0 = np.array([r.lon_min for r in regions])
        self.region_span = np.array([r.lon_span for r in regions])
        self.region_sin_lat = np.sin(np.radians(np.array([[r.lat_min for r in regions], [r.lat_max for r in regions]])))
        self.region_occlusion = np.array([r.occlusion for r in regions])


def _region_point(
    tables: DynamicsTables, rng: np.random.Generator, k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """k random points in the scenario's cluster regions (area-uniform in each box), and their occlusion."""
    u = rng.random((3, k))
    pick = np.minimum(np.searchsorted(tables.region_cdf, u[0], side="right"), tables.region_cdf.size - 1)
    s0, s1 = tables.region_sin_lat[0][pick], tables.region_sin_lat[1][pick]
    lat = np.degrees(np.arcsin(s0 + u[2] * (s1 - s0)))
    lon = wrap_lon(tables.region_lon0[pick] + u[1] * tables.region_span[pick])
    return lon, lat, tables.region_occlusion[pick]


def new_clusters(
    scenario: Scenario,
    tables: DynamicsTables,
    rng: np.random.Generator,
    first_id: int,
    k: int,
    *,
    initial: bool,
) -> ClusterArrays:
    """k fresh clusters; initial ones start active or quiet, spawned ones start activating."""
    spec = scenario.clusters
    lon, lat, occl = _region_point(tables, rng, k)
    sizes = np.exp(np.log(spec.size_median) + spec.size_sigma * rng.standard_normal(k))
    sizes = np.clip(np.rint(sizes), spec.size_min, spec.size_max).astype(np.int64)
    if initial and spec.min_total_nodes and sizes.sum() < spec.min_total_nodes:
        scale = spec.min_total_nodes / sizes.sum()
        sizes = np.clip(np.ceil(sizes * scale), spec.size_min, spec.size_max).astype(np.int64)
    if initial:
        state = np.where(rng.random(k) < 0.7, ACTIVE, QUIET).astype(np.int64)
    else:
        state = np.full(k, ACTIVATING, dtype=np.int64)
    b = np.tile(np.array([[0.3], [0.3], [0.3], [0.1]]), (1, k))
    return ClusterArrays(
        id=np.arange(first_id, first_id + k, dtype=np.int64),
        lon=lon,
        lat=lat,
        xyz=unit_vectors(lon, lat).reshape(k, 3),
        node_count=sizes,
        asn=np.asarray(spec.asns, dtype=np.int64)[rng.integers(0, len(spec.asns), k)],
        state=state,
        activation_left=np.where(state == ACTIVATING, scenario.dynamics.activation_ticks, -1),
        silence=STATE_SILENCE[state].copy(),
        spread_km=rng.uniform(spec.spread_km_min, spec.spread_km_max, k),
        region_occlusion=occl,
        node_seed=rng.integers(0, 2**62, k, dtype=np.int64),
        b=b,
        mu=np.full(k, np.log(spec.size_median)),
        var=np.full(k, spec.size_sigma**2 + 0.25),
        agreement=np.full(k, 0.5),
        volatility=np.zeros(k),
        majority=np.full(k, -1, dtype=np.int64),
        confidence=np.ones(k),
        detected=np.zeros(k, dtype=bool),
        coverage=np.zeros(k),
        entropy=np.zeros(k),
    )


def advance(
    c: ClusterArrays, scenario: Scenario, tables: DynamicsTables, rng: np.random.Generator, next_id: int
) -> tuple[ClusterEvents, int]:
    """One tick of ground-truth dynamics in place; returns the events and the next free cluster id.

    Spawned clusters are appended at the end; dropped ghosts are removed (rows re-packed). The common
    tick with no event costs a couple of dozen small array operations.
    """
    d = scenario.dynamics
    ev = ClusterEvents()
    n = len(c)
    u = rng.random(4 * n + 1)
    st = c.state
    # One lookup gives every per-state rate for every cluster (the state at the start of the tick).
    rates = tables.by_state[:, st]
    hits = u[: 4 * n].reshape(4, n) < rates[:4]
    any_change, any_vanish, any_shift, any_resize = cast(list[bool], hits.any(axis=1).tolist())
    # Silence pressure relaxes toward its state's level; ghosts' confidence fades.
    c.silence *= tables.keep
    c.silence += rates[4]
    c.confidence *= rates[5]

    # activation_left counts down for everyone; it reaches exactly 0 only for activating clusters.
    c.activation_left -= 1
    to_active = c.activation_left == 0
    if to_active.any():
        st[to_active] = ACTIVE
        ev.active = c.id[to_active]
    change = hits[0]
    if any_change:
        to_quiet = change & (st == ACTIVE)
        to_activating = change & (st == QUIET)
        st[to_quiet] = QUIET
        st[to_activating] = ACTIVATING
        c.activation_left[to_activating] = d.activation_ticks
        if to_quiet.any():
            ev.quiet = c.id[to_quiet]
        if to_activating.any():
            ev.activating = c.id[to_activating]
            _cascade(c, d.cascade_radius_km, d.p_cascade, d.activation_ticks, to_activating, rng, ev)
    if any_vanish:
        vanish = hits[1] & ~change & (st == QUIET)
        if vanish.any():
            st[vanish] = GHOST
            c.node_count[vanish] = 0
            ev.vanished = c.id[vanish]
    if any_shift:
        _shift(c, scenario, hits[2] & (st != GHOST), rng, ev)
    if any_resize:
        _resize(c, scenario, hits[3] & (st != GHOST), rng, ev)

    drop = c.confidence < d.ghost_min_confidence  # only ghosts' confidence ever falls
    if drop.any():
        ev.dropped = c.id[drop]
        c.select(~drop)

    spawn = 0
    u_spawn = float(u[-1])
    for p in tables.spawn_cdf:
        if u_spawn < p:
            break
        spawn += 1
    if spawn:
        spawn = min(spawn, scenario.clusters.max_count - int(np.count_nonzero(c.state != GHOST)))
    if spawn > 0:
        fresh = new_clusters(scenario, tables, rng, next_id, spawn, initial=False)
        c.extend(fresh)
        ev.spawned = fresh.id
        next_id += spawn
    return ev, next_id


def _cascade(
    c: ClusterArrays,
    radius_km: float,
    p: float,
    ticks: int,
    sources: NDArray[np.bool_],
    rng: np.random.Generator,
    ev: ClusterEvents,
) -> None:
    """Each cluster that starts activating may light up quiet neighbours within the cascade radius."""
    src = np.flatnonzero(sources)
    cos_radius = np.cos(min(radius_km / EARTH_RADIUS_KM, np.pi))
    near = ((c.xyz[src] @ c.xyz.T) >= cos_radius).any(axis=0) & (c.state == QUIET)
    hit = near & (rng.random(len(c)) < p)
    if hit.any():
        c.state[hit] = ACTIVATING
        c.activation_left[hit] = ticks
        ev.cascade = c.id[hit]


def _shift(
    c: ClusterArrays, scenario: Scenario, shift: NDArray[np.bool_], rng: np.random.Generator, ev: ClusterEvents
) -> None:
    """ASN shift: the cluster is re-homed to another AS and its centroid moves."""
    k = int(shift.sum())
    if k == 0:
        return
    asns = np.sort(np.asarray(scenario.clusters.asns, dtype=np.int64))
    step = rng.integers(1, max(2, len(asns)), k)
    idx = (np.searchsorted(asns, c.asn[shift]) + step) % len(asns)
    c.asn[shift] = asns[idx]
    bearing = rng.uniform(0.0, 360.0, k)
    lon, lat = destination(c.lon[shift], c.lat[shift], bearing, scenario.dynamics.asn_shift_km)
    c.lon[shift], c.lat[shift] = lon, lat
    c.xyz[shift] = unit_vectors(lon, lat).reshape(k, 3)
    ev.shifted = c.id[shift]


def _resize(
    c: ClusterArrays, scenario: Scenario, resize: NDArray[np.bool_], rng: np.random.Generator, ev: ClusterEvents
) -> None:
    """A live cluster gains or loses a fraction of its nodes (at least one)."""
    k = int(resize.sum())
    if k == 0:
        return
    spec, frac = scenario.clusters, scenario.dynamics.resize_fraction
    sign = np.where(rng.random(k) < 0.5, -1, 1)
    old = c.node_count[resize]
    lo, hi = spec.size_min, spec.size_max
    new = np.minimum(np.maximum(np.rint(old * (1.0 + sign * frac)).astype(np.int64), lo), hi)
    new = np.where(new == old, np.minimum(np.maximum(old + sign, lo), hi), new)
    c.node_count[resize] = new
    ev.resized = c.id[resize]


def coherence(c: ClusterArrays) -> NDArray[np.float64]:
    """How coordinated a cluster's nodes are, in [0, 1]: high when active, falling with silence."""
    return np.where(c.state == GHOST, 0.0, STATE_COHERENCE[c.state] * (1.0 - 0.5 * c.silence))


__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "CLUSTER_DTYPE",
    "EVENT_KINDS",
    "GHOST",
    "QUIET",
    "STATE_INTENSITY",
    "STATE_THREAT",
    "ClusterArrays",
    "ClusterEvents",
    "ClusterState",
    "DynamicsTables",
    "advance",
    "coherence",
    "new_clusters",
]
