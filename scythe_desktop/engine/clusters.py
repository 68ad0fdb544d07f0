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

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.belief import N_STATES
from scythe_desktop.engine.geo import destination, great_circle_km, unit_vectors, wrap_lon
from scythe_desktop.engine.scenario import Scenario


class ClusterState(IntEnum):
    ACTIVE = 0
    QUIET = 1
    ACTIVATING = 2
    GHOST = 3


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
    "coherence",
    "spread_km",
    "region_occlusion",
    "node_seed",
    "b",
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
    """Column arrays of equal length n (xyz and b are (n, 3) and (n, 4))."""

    id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    xyz: NDArray[np.float64]
    node_count: NDArray[np.int64]
    asn: NDArray[np.int64]
    state: NDArray[np.int64]
    activation_left: NDArray[np.int64]
    silence: NDArray[np.float64]
    coherence: NDArray[np.float64]
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

    def extend(self, other: ClusterArrays) -> None:
        for name in _COLUMNS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _COLUMNS}

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray]) -> ClusterArrays:
        return cls(**{name: np.array(cols[name]) for name in _COLUMNS})

    def threat(self) -> NDArray[np.float64]:
        return STATE_THREAT[self.state]

    def table(self, ambiguity: NDArray[np.float64]) -> np.ndarray:
        t = np.zeros(len(self), dtype=CLUSTER_DTYPE)
        t["id"] = self.id
        t["lon"] = self.lon
        t["lat"] = self.lat
        t["node_count"] = self.node_count
        t["silence_pressure"] = self.silence
        t["coherence"] = self.coherence
        t["entropy"] = self.entropy
        t["asn"] = self.asn
        t["state"] = self.state
        t["agreement"] = self.agreement
        t["ambiguity"] = ambiguity
        t["volatility"] = self.volatility
        t["coverage_deficit"] = 1.0 - self.coverage
        t["detected"] = self.detected
        t["confidence"] = self.confidence
        t["belief"] = self.b
        t["believed_count"] = np.exp(self.mu)
        t["spread_km"] = self.spread_km
        t["threat"] = self.threat()
        return t


@dataclass
class ClusterEvents:
    """Cluster ids touched by one tick of dynamics, by kind (each an int64 array)."""

    quiet: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    activating: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    active: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    cascade: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    vanished: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    shifted: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    resized: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    spawned: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dropped: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def kinds(self) -> dict[str, NDArray[np.int64]]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def state_changed(self) -> NDArray[np.int64]:
        """Clusters whose node intensity/threat level changed."""
        return np.concatenate([self.quiet, self.activating, self.active, self.cascade])


def _region_point(
    scenario: Scenario, rng: np.random.Generator, k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """k random points in the scenario's cluster regions (area-uniform in each box), and their occlusion."""
    regions = [scenario.region(n) for n in scenario.clusters.regions]
    w = np.array([r.weight for r in regions])
    if w.sum() <= 0:
        w = np.ones_like(w)
    pick = rng.choice(len(regions), size=k, p=w / w.sum())
    u = rng.random((2, k))
    lon0 = np.array([r.lon_min for r in regions])[pick]
    span = np.array([r.lon_span for r in regions])[pick]
    s0 = np.sin(np.radians(np.array([r.lat_min for r in regions])[pick]))
    s1 = np.sin(np.radians(np.array([r.lat_max for r in regions])[pick]))
    lat = np.degrees(np.arcsin(s0 + u[1] * (s1 - s0)))
    lon = wrap_lon(lon0 + u[0] * span)
    occl = np.array([r.occlusion for r in regions])[pick]
    return lon, lat, occl


def new_clusters(
    scenario: Scenario,
    rng: np.random.Generator,
    first_id: int,
    k: int,
    *,
    initial: bool,
) -> ClusterArrays:
    """k fresh clusters; initial ones start active or quiet, spawned ones start activating."""
    spec = scenario.clusters
    lon, lat, occl = _region_point(scenario, rng, k)
    sizes = np.exp(np.log(spec.size_median) + spec.size_sigma * rng.standard_normal(k))
    sizes = np.clip(np.rint(sizes), spec.size_min, spec.size_max).astype(np.int64)
    if initial and spec.min_total_nodes and sizes.sum() < spec.min_total_nodes:
        scale = spec.min_total_nodes / sizes.sum()
        sizes = np.clip(np.ceil(sizes * scale), spec.size_min, spec.size_max).astype(np.int64)
    if initial:
        state = np.where(rng.random(k) < 0.7, ClusterState.ACTIVE, ClusterState.QUIET).astype(np.int64)
    else:
        state = np.full(k, ClusterState.ACTIVATING, dtype=np.int64)
    b = np.tile(np.array([0.3, 0.3, 0.3, 0.1]), (k, 1))
    return ClusterArrays(
        id=np.arange(first_id, first_id + k, dtype=np.int64),
        lon=lon,
        lat=lat,
        xyz=unit_vectors(lon, lat).reshape(k, 3),
        node_count=sizes,
        asn=np.asarray(spec.asns, dtype=np.int64)[rng.integers(0, len(spec.asns), k)],
        state=state,
        activation_left=np.where(state == ClusterState.ACTIVATING, scenario.dynamics.activation_ticks, 0),
        silence=STATE_SILENCE[state].copy(),
        coherence=STATE_COHERENCE[state].copy(),
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


def advance(c: ClusterArrays, scenario: Scenario, rng: np.random.Generator, next_id: int) -> tuple[ClusterEvents, int]:
    """One tick of ground-truth dynamics in place; returns the events and the next free cluster id.

    Spawned clusters are appended at the end; dropped ghosts are removed (rows re-packed).
    """
    d = scenario.dynamics
    ev = ClusterEvents()
    n = len(c)
    u = rng.random((4, n))
    st = c.state
    live = st != ClusterState.GHOST

    to_quiet = (st == ClusterState.ACTIVE) & (u[0] < d.p_quiet)
    quiet = st == ClusterState.QUIET
    to_activating = quiet & (u[0] < d.p_activate)
    to_ghost = quiet & ~to_activating & (u[1] < d.p_vanish)
    activating = st == ClusterState.ACTIVATING
    c.activation_left[activating] -= 1
    to_active = activating & (c.activation_left <= 0)

    st[to_quiet] = ClusterState.QUIET
    st[to_activating] = ClusterState.ACTIVATING
    c.activation_left[to_activating] = d.activation_ticks
    st[to_active] = ClusterState.ACTIVE
    st[to_ghost] = ClusterState.GHOST
    if to_quiet.any():
        ev.quiet = c.id[to_quiet]
    if to_active.any():
        ev.active = c.id[to_active]
    if to_ghost.any():
        ev.vanished = c.id[to_ghost]
        c.node_count[to_ghost] = 0

    # Activation cascade: each cluster that starts activating may light up quiet neighbours.
    if to_activating.any():
        ev.activating = c.id[to_activating]
        src = np.flatnonzero(to_activating)
        dist = great_circle_km(c.lon[src, None], c.lat[src, None], c.lon[None, :], c.lat[None, :])
        near = (dist <= d.cascade_radius_km).any(axis=0) & (st == ClusterState.QUIET)
        hit = near & (rng.random(n) < d.p_cascade)
        if hit.any():
            st[hit] = ClusterState.ACTIVATING
            c.activation_left[hit] = d.activation_ticks
            ev.cascade = c.id[hit]

    # ASN shift: the cluster is re-homed to another AS and its centroid moves.
    shift = live & ~to_ghost & (u[2] < d.p_asn_shift)
    if shift.any():
        k = int(shift.sum())
        asns = np.asarray(scenario.clusters.asns, dtype=np.int64)
        step = rng.integers(1, max(2, len(asns)), k)
        idx = (np.searchsorted(np.sort(asns), c.asn[shift]) + step) % len(asns)
        c.asn[shift] = np.sort(asns)[idx]
        bearing = rng.uniform(0.0, 360.0, k)
        lon, lat = destination(c.lon[shift], c.lat[shift], bearing, d.asn_shift_km)
        c.lon[shift], c.lat[shift] = lon, lat
        c.xyz[shift] = unit_vectors(lon, lat).reshape(k, 3)
        ev.shifted = c.id[shift]

    # Resize: a live cluster gains or loses a fraction of its nodes.
    resize = (st != ClusterState.GHOST) & (u[3] < d.p_resize)
    if resize.any():
        k = int(resize.sum())
        sign = np.where(rng.random(k) < 0.5, -1.0, 1.0)
        spec = scenario.clusters
        old = c.node_count[resize]
        new = np.clip(np.rint(old * (1.0 + sign * d.resize_fraction)), spec.size_min, spec.size_max)
        new = np.where(new == old, np.clip(old + sign.astype(np.int64), spec.size_min, spec.size_max), new)
        c.node_count[resize] = new.astype(np.int64)
        ev.resized = c.id[resize]

    # Slow variables relax toward their state's level.
    rate = d.silence_rate
    c.silence += rate * (STATE_SILENCE[st] - c.silence)
    c.coherence += rate * (STATE_COHERENCE[st] - c.coherence)

    # Ghosts fade; the faded ones leave the table.
    ghost = st == ClusterState.GHOST
    c.confidence[ghost] *= d.ghost_decay
    drop = ghost & (c.confidence < d.ghost_min_confidence)
    if drop.any():
        ev.dropped = c.id[drop]
        c.select(~drop)

    spawn = int(rng.poisson(d.spawn_rate)) if d.spawn_rate > 0 else 0
    spawn = min(spawn, scenario.clusters.max_count - int((c.state != ClusterState.GHOST).sum()))
    if spawn > 0:
        fresh = new_clusters(scenario, rng, next_id, spawn, initial=False)
        c.extend(fresh)
        ev.spawned = fresh.id
        next_id += spawn
    return ev, next_id


__all__ = [
    "CLUSTER_DTYPE",
    "STATE_INTENSITY",
    "STATE_THREAT",
    "ClusterArrays",
    "ClusterEvents",
    "ClusterState",
    "advance",
    "new_clusters",
]
