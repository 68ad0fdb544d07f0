"""Ground-truth cluster dynamics of B worlds in one pass: go quiet, activate, activation cascade, vanish
into a ghost, ASN shift, resize, ghosts dropped, spawns.

Every draw is keyed by (world seed, tick, stream, cluster id) (:mod:`scythe_desktop.engine.keyed_random`), so
a world's trajectory is the same in any batch and in any row order. The common tick with no event costs a
couple of dozen array operations over (B, C); events touch only the rows (or worlds) that have them.
Knows nothing of observers, nodes or fields.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.batch.state import ClusterSlab
from scythe_desktop.engine.clusters import (
    ACTIVATING,
    ACTIVE,
    GHOST,
    QUIET,
    STATE_SILENCE,
    DynamicsTables,
)
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, destination, unit_vectors, wrap_lon
from scythe_desktop.engine.scenario import Scenario

_NEW_ATTRS: Final = 16  # keyed indices per new cluster: id * 16 + attribute


class Events:
    """Cluster ids touched by one tick, by kind, as (world index, id) pairs; recorded only when asked
    (the RL path does not read them)."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.pairs: dict[str, list[tuple[NDArray[np.intp], NDArray[np.int64]]]] = {}

    def add(self, kind: str, mask: NDArray[np.bool_], ids: NDArray[np.int64]) -> None:
        if self.collect:
            w = np.nonzero(mask)[0]
            if w.size:
                self.pairs.setdefault(kind, []).append((w, ids[mask]))

    def add_pairs(self, kind: str, worlds: NDArray[np.intp], ids: NDArray[np.int64]) -> None:
        if self.collect and worlds.size:
            self.pairs.setdefault(kind, []).append((worlds, ids))

    def of_world(self, world: int, kind: str) -> NDArray[np.int64]:
        parts = [ids[w == world] for w, ids in self.pairs.get(kind, [])]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def new_cluster_rows(
    c: ClusterSlab,
    scenario: Scenario,
    tables: DynamicsTables,
    keys: NDArray[np.uint64],
    worlds: NDArray[np.intp],
    rows: NDArray[np.intp],
    ids: NDArray[np.int64],
    *,
    initial: bool,
) -> None:
    """Fill rows (``worlds[i]``, ``rows[i]``) with fresh clusters ``ids[i]``; ``keys`` are the worlds'
    NEW_CLUSTER keys (B,). Initial clusters start active or quiet, spawned ones start activating."""
    spec = scenario.clusters
    k = keys[worlds]
    base = ids * _NEW_ATTRS
    u = [kr.uniform(k, base + a) for a in range(6)]
    pick = np.minimum(np.searchsorted(tables.region_cdf, u[0], side="right"), tables.region_cdf.size - 1)
    s0, s1 = tables.region_sin_lat[0][pick], tables.region_sin_lat[1][pick]
    lat = np.degrees(np.arcsin(s0 + u[2] * (s1 - s0)))
    lon = wrap_lon(tables.region_lon0[pick] + u[1] * tables.region_span[pick])
    sizes = np.exp(np.log(spec.size_median) + spec.size_sigma * kr.normal(k, base + 6))
    sizes = np.clip(np.rint(sizes), spec.size_min, spec.size_max).astype(np.int64)
    if initial and spec.min_total_nodes:
        total = np.bincount(worlds, weights=sizes, minlength=len(keys))[worlds]
        scale = np.where(total < spec.min_total_nodes, spec.min_total_nodes / np.maximum(total, 1), 1.0)
        sizes = np.where(
            scale > 1.0, np.clip(np.ceil(sizes * scale), spec.size_min, spec.size_max).astype(np.int64), sizes
        )
    if initial:
        state = np.where(u[3] < 0.7, ACTIVE, QUIET).astype(np.int64)
    else:
        state = np.full(ids.shape, ACTIVATING, dtype=np.int64)
    asns = np.asarray(spec.asns, dtype=np.int64)
    at = (worlds, rows)
    c.id[at] = ids
    c.lon[at], c.lat[at] = lon, lat
    c.xyz[at] = unit_vectors(lon, lat).reshape(-1, 3)
    c.node_count[at] = sizes
    c.asn[at] = asns[np.minimum((u[4] * len(asns)).astype(np.int64), len(asns) - 1)]
    c.state[at] = state
    c.activation_left[at] = np.where(state == ACTIVATING, scenario.dynamics.activation_ticks, -1)
    c.silence[at] = STATE_SILENCE[state]
    c.spread_km[at] = spec.spread_km_min + u[5] * (spec.spread_km_max - spec.spread_km_min)
    c.region_occlusion[at] = tables.region_occlusion[pick]
    c.node_seed[at] = (kr.bits(k, base + 7) >> np.uint64(2)).astype(np.int64)
    c.b.transpose(0, 2, 1)[at] = (0.3, 0.3, 0.3, 0.1)
    c.mu[at] = np.log(spec.size_median)
    c.var[at] = spec.size_sigma**2 + 0.25
    c.agreement[at] = 0.5
    c.volatility[at] = 0.0
    c.majority[at] = -1
    c.confidence[at] = 1.0
    c.detected[at] = False
    c.coverage[at] = 0.0
    c.ever_detected[at] = False
    c.credited[at] = False
    c.decoy[at] = False
    c.seen_activating[at] = False


class Advanced(NamedTuple):
    """What one tick of dynamics changed, per world (B,)."""

    #: Cluster rows or positions changed (spawn, drop, shift): the sensing caches of the world are stale.
    moved: NDArray[np.bool_]
    #: Node counts changed: the observers' loads are stale.
    counted: NDArray[np.bool_]
    #: Activations that completed without any observer seeing the cluster while it was activating.
    evaded: NDArray[np.int64]


def group_ranks(groups: NDArray[np.intp], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """0, 1, … within each run of ``counts[i]`` equal entries of ``groups`` (as np.repeat makes them)."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def advance(
    c: ClusterSlab,
    scenario: Scenario,
    tables: DynamicsTables,
    keys: NDArray[np.uint64],
    next_id: NDArray[np.int64],
    new_keys: NDArray[np.uint64],
    ev: Events,
) -> Advanced:
    """One tick of every world's dynamics in place (``keys``: this tick's ``keyed_random.tick_keys``)."""
    d = scenario.dynamics
    valid = c.valid()
    st = c.state
    u = kr.uniform16(keys[kr.Stream.DYNAMICS], c.id)
    rates = tables.by_state[:, st]  # (6, B, C): every per-state rate of every cluster
    hits = (u < rates[:4]) & valid
    c.silence *= tables.keep
    c.silence += rates[4]
    c.confidence *= rates[5]

    c.activation_left -= 1  # reaches exactly 0 only for activating clusters
    to_active = c.activation_left == 0
    evaded = np.zeros(c.n.shape[0], dtype=np.int64)
    if to_active.any():
        st[to_active] = ACTIVE
        ev.add("active", to_active, c.id)
        evaded = np.count_nonzero(to_active & ~c.seen_activating & ~c.decoy, axis=1)
    change = hits[0]
    to_quiet = change & (st == ACTIVE)
    to_activating = change & (st == QUIET)
    if to_quiet.any():
        st[to_quiet] = QUIET
        ev.add("quiet", to_quiet, c.id)
    if to_activating.any():
        st[to_activating] = ACTIVATING
        c.activation_left[to_activating] = d.activation_ticks
        c.seen_activating[to_activating] = False
        ev.add("activating", to_activating, c.id)
        _cascade(c, d.cascade_radius_km, d.p_cascade, d.activation_ticks, to_activating, keys, ev)
    vanish = hits[1] & ~change & (st == QUIET)
    if vanish.any():
        st[vanish] = GHOST
        c.node_count[vanish] = 0
        ev.add("vanished", vanish, c.id)
    moved = np.zeros(c.n.shape[0], dtype=bool)
    counted = vanish.any(axis=1)
    shift = hits[2] & (st != GHOST)
    if shift.any():
        _shift(c, scenario, shift, keys, ev)
        moved |= shift.any(axis=1)
    resize = hits[3] & (st != GHOST)
    if resize.any():
        _resize(c, scenario, resize, keys, ev)
        counted |= resize.any(axis=1)

    drop = (c.confidence < d.ghost_min_confidence) & valid  # only ghosts' confidence ever falls
    dropped = drop.any(axis=1)
    if dropped.any():
        ev.add("dropped", drop, c.id)
        worlds = np.flatnonzero(dropped)
        c.remove(worlds, drop[worlds])
        moved |= dropped
        counted |= dropped

    u_spawn = kr.uniform(keys[kr.Stream.SPAWN], np.zeros(c.n.shape[0], dtype=np.int64))
    spawn = np.searchsorted(np.asarray(tables.spawn_cdf), u_spawn, side="right")
    if spawn.any():
        live = np.count_nonzero((c.state != GHOST) & c.valid(), axis=1)
        spawn = np.minimum(spawn, np.minimum(scenario.clusters.max_count - live, c.capacity - c.n))
        spawn = np.maximum(spawn, 0)
        worlds = np.flatnonzero(spawn)
        if worlds.size:
            k = spawn[worlds]
            wb = np.repeat(worlds, k)
            rank = group_ranks(wb, k)
            ids = next_id[wb] + rank
            new_cluster_rows(c, scenario, tables, new_keys, wb, c.n[wb] + rank, ids, initial=False)
            c.n[worlds] += k
            next_id[worlds] += k
            ev.add_pairs("spawned", wb, ids)
            moved[worlds] = True
            counted[worlds] = True
    return Advanced(moved, counted, evaded)


def _cascade(
    c: ClusterSlab,
    radius_km: float,
    p: float,
    ticks: int,
    sources: NDArray[np.bool_],
    keys: NDArray[np.uint64],
    ev: Events,
) -> None:
    """Each cluster that starts activating may light up quiet neighbours within the cascade radius."""
    bs, cs = np.nonzero(sources)  # sorted by world
    cos_radius = np.cos(min(radius_km / EARTH_RADIUS_KM, np.pi))
    src = c.xyz[bs, cs]  # (S, 3)
    rows = c.xyz[bs]  # (S, C, 3)
    dots = rows[..., 0] * src[:, 0, None] + rows[..., 1] * src[:, 1, None] + rows[..., 2] * src[:, 2, None]
    starts = np.flatnonzero(np.r_[True, bs[1:] != bs[:-1]])
    worlds = bs[starts]
    near = np.logical_or.reduceat(dots >= cos_radius, starts, axis=0) & (c.state[worlds] == QUIET)
    near &= np.arange(c.capacity) < c.n[worlds][:, None]
    hit_w = near & (kr.uniform(keys[kr.Stream.CASCADE][worlds], c.id[worlds]) < p)
    if hit_w.any():
        hit = np.zeros_like(sources)
        hit[worlds] = hit_w
        c.state[hit] = ACTIVATING
        c.activation_left[hit] = ticks
        c.seen_activating[hit] = False
        ev.add("cascade", hit, c.id)


def _shift(
    c: ClusterSlab,
    scenario: Scenario,
    shift: NDArray[np.bool_],
    keys: NDArray[np.uint64],
    ev: Events,
) -> None:
    """ASN shift: the cluster is re-homed to another AS and its centroid moves."""
    bs, cs = np.nonzero(shift)
    k = keys[kr.Stream.SHIFT][bs]
    cid = c.id[bs, cs]
    asns = np.sort(np.asarray(scenario.clusters.asns, dtype=np.int64))
    step = kr.integers(k, cid * 2, 1, max(2, len(asns)))
    c.asn[bs, cs] = asns[(np.searchsorted(asns, c.asn[bs, cs]) + step) % len(asns)]
    bearing = kr.uniform(k, cid * 2 + 1) * 360.0
    lon, lat = destination(c.lon[bs, cs], c.lat[bs, cs], bearing, scenario.dynamics.asn_shift_km)
    c.lon[bs, cs], c.lat[bs, cs] = lon, lat
    c.xyz[bs, cs] = unit_vectors(lon, lat).reshape(-1, 3)
    ev.add("shifted", shift, c.id)


def _resize(
    c: ClusterSlab,
    scenario: Scenario,
    resize: NDArray[np.bool_],
    keys: NDArray[np.uint64],
    ev: Events,
) -> None:
    """A live cluster gains or loses a fraction of its nodes (at least one)."""
    bs, cs = np.nonzero(resize)
    k = keys[kr.Stream.RESIZE][bs]
    spec, frac = scenario.clusters, scenario.dynamics.resize_fraction
    sign = np.where(kr.uniform(k, c.id[bs, cs]) < 0.5, -1, 1)
    old = c.node_count[bs, cs]
    lo, hi = spec.size_min, spec.size_max
    new = np.minimum(np.maximum(np.rint(old * (1.0 + sign * frac)).astype(np.int64), lo), hi)
    c.node_count[bs, cs] = np.where(new == old, np.minimum(np.maximum(old + sign, lo), hi), new)
    ev.add("resized", resize, c.id)


__all__ = ["Advanced", "Events", "advance", "group_ranks", "new_cluster_rows"]
