"""The evader's side of B worlds: what it can see (:class:`EvaderView`) and its moves (:class:`EvaderMoves`),
applied in array operations under each world's stealth budget.

The evader is the infrastructure's operator. It knows its own clusters (ground truth, decoys included) and
where the observers are and how far they reach — real infrastructure can see probes and taps touching it —
but never the defender's belief: the view is built from cluster rows, observer positions and footprints
only, and the moves read nothing else. Moves are applied in slot order each tick, before the dynamics; a
move that is not possible (a row that is not the evader's, a state it cannot leave, no free row for a
decoy) or that the remaining stealth cannot pay is refused and costs nothing. Knows nothing of policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.adversary_spec import Adversary
from scythe_desktop.engine.batch.dynamics import Events, new_cluster_rows
from scythe_desktop.engine.clusters import ACTIVATING, ACTIVE, GHOST, QUIET, STATE_SILENCE
from scythe_desktop.engine.geo import destination, unit_vectors, wrap_lon

if TYPE_CHECKING:
    from scythe_desktop.engine.batch.world_batch import WorldBatch

NONE, GO_QUIET, ACTIVATE, SHIFT, DECOY = 0, 1, 2, 3, 4
MOVE_NAMES: Final = ("none", "quiet", "activate", "shift", "decoy")
#: Event kinds of the evader's moves (``Events`` and ``StepResult.events``), by move kind.
MOVE_EVENTS: Final = ("", "evader_quiet", "evader_activate", "evader_shift", "evader_decoy")


@dataclass
class EvaderMoves:
    """Up to M moves per world, each (B, M): the kind, the cluster row it acts on (quiet, activate, shift),
    the bearing of a shift (degrees from north) and where a decoy appears (lon, lat)."""

    kind: NDArray[np.int64]
    row: NDArray[np.int64]
    bearing: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]

    @classmethod
    def none(cls, worlds: int, moves: int) -> EvaderMoves:
        z = np.zeros((worlds, moves))
        return cls(np.zeros((worlds, moves), dtype=np.int64), np.full((worlds, moves), -1, dtype=np.int64), z, z.copy(),
                   z.copy())


@dataclass(frozen=True)
class EvaderView:
    """What the evader sees of B worlds (copies; nothing of the belief). Cluster arrays are (B, C) over the
    world's rows, observer arrays (B, O)."""

    own: NDArray[np.bool_]  # a live row the evader controls (not padding, not a ghost)
    state: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    node_count: NDArray[np.int64]
    decoy: NDArray[np.bool_]
    activation_left: NDArray[np.int64]
    #: Sum over observers of their footprint weight at the cluster: how watched it is.
    exposure: NDArray[np.float64]
    observer_lon: NDArray[np.float64]
    observer_lat: NDArray[np.float64]
    observer_radius_km: NDArray[np.float64]
    observer_live: NDArray[np.bool_]
    stealth: NDArray[np.float64]  # (B,)
    tick: NDArray[np.int64]  # (B,)
    room: NDArray[np.bool_]  # (B,) a decoy would fit (live clusters under the cap, a free row)


def evader_view(batch: WorldBatch) -> EvaderView:
    """The evader's view of every world now (brings the footprint caches up to date first)."""
    c, o = batch.clusters, batch.observers
    batch.sensing.refresh(c, o)
    own = c.valid() & (c.state != GHOST)
    exposure = batch.sensing.reach.sum(axis=1)
    return EvaderView(
        own=own,
        state=c.state.copy(),
        lon=c.lon.copy(),
        lat=c.lat.copy(),
        node_count=c.node_count.copy(),
        decoy=c.decoy.copy(),
        activation_left=c.activation_left.copy(),
        exposure=np.where(own, exposure, 0.0),
        observer_lon=o.lon.copy(),
        observer_lat=o.lat.copy(),
        observer_radius_km=o.radius.copy(),
        observer_live=o.valid(),
        stealth=batch.stealth.copy(),
        tick=batch.tick.copy(),
        room=(np.count_nonzero(own, axis=1) < batch.scenario.clusters.max_count) & (c.n < c.capacity),
    )


def apply_moves(batch: WorldBatch, moves: EvaderMoves, ev: Events) -> NDArray[np.bool_]:
    """Apply every world's moves in slot order; returns the (B, M) mask of moves applied. Marks what the
    sensing caches must recompute and records one event per applied move (and the state events the node
    emission reads)."""
    adv = batch.scenario.adversary
    if adv is None:
        raise ValueError(f"scenario {batch.scenario.name!r} has no [adversary]: its clusters take no evader moves")
    b = batch.size
    if moves.kind.shape[0] != b or moves.kind.shape[1] > adv.moves_per_tick:
        raise ValueError(f"evader moves must be (worlds={b}, at most {adv.moves_per_tick}), got {moves.kind.shape}")
    costs = np.asarray(adv.move_costs)
    applied = np.zeros(moves.kind.shape, dtype=bool)
    c = batch.clusters
    worlds = np.arange(b)
    for m in range(moves.kind.shape[1]):
        kind = np.where((moves.kind[:, m] >= NONE) & (moves.kind[:, m] <= DECOY), moves.kind[:, m], NONE)
        row = moves.row[:, m]
        r = np.clip(row, 0, c.capacity - 1)
        st = c.state[worlds, r]
        mine = (row >= 0) & (row < c.n) & (st != GHOST)
        live = np.count_nonzero(c.valid() & (c.state != GHOST), axis=1)
        place_ok = (np.abs(moves.lon[:, m]) <= 180.0) & (np.abs(moves.lat[:, m]) <= 90.0)
        possible = np.select(
            [kind == GO_QUIET, kind == ACTIVATE, kind == SHIFT, kind == DECOY],
            [mine & ((st == ACTIVE) | (st == ACTIVATING)), mine & (st == QUIET), mine,
             (live < batch.scenario.clusters.max_count) & (c.n < c.capacity) & place_ok],
            default=False,
        )
        ok = possible & (costs[kind] <= batch.stealth + 1e-9)
        batch.stealth -= np.where(ok, costs[kind], 0.0)
        applied[:, m] = ok
        _quiet(batch, worlds[ok & (kind == GO_QUIET)], r, ev)
        _activate(batch, worlds[ok & (kind == ACTIVATE)], r, ev)
        _shift(batch, adv, worlds[ok & (kind == SHIFT)], r, moves.bearing[:, m], ev)
        _decoy(batch, adv, worlds[ok & (kind == DECOY)], moves.lon[:, m], moves.lat[:, m], ev)
    return applied


def regenerate(batch: WorldBatch) -> None:
    """The end of a tick: every world's stealth refills by the regeneration, up to the budget."""
    adv = batch.scenario.adversary
    if adv is not None:
        np.minimum(batch.stealth + adv.stealth_regen, adv.stealth_budget, out=batch.stealth)


def _record(ev: Events, kind: str, ws: NDArray[np.intp], ids: NDArray[np.int64], *also: str) -> None:
    for k in (kind, *also):
        ev.add_pairs(k, ws, ids)


def _quiet(batch: WorldBatch, ws: NDArray[np.intp], r: NDArray[np.int64], ev: Events) -> None:
    if ws.size:
        c, rs = batch.clusters, r[ws]
        c.state[ws, rs] = QUIET
        c.activation_left[ws, rs] = -1  # an activation it breaks off is neither caught nor evaded
        c.seen_activating[ws, rs] = False
        _record(ev, MOVE_EVENTS[GO_QUIET], ws, c.id[ws, rs], "quiet")


def _activate(batch: WorldBatch, ws: NDArray[np.intp], r: NDArray[np.int64], ev: Events) -> None:
    if ws.size:
        c, rs = batch.clusters, r[ws]
        c.state[ws, rs] = ACTIVATING
        c.activation_left[ws, rs] = batch.scenario.dynamics.activation_ticks
        c.seen_activating[ws, rs] = False
        _record(ev, MOVE_EVENTS[ACTIVATE], ws, c.id[ws, rs], "activating")


def _shift(batch: WorldBatch, adv: Adversary, ws: NDArray[np.intp], r: NDArray[np.int64],
           bearing: NDArray[np.float64], ev: Events) -> None:
    """Re-home the cluster to the next ASN of the scenario and move it ``shift_km`` along ``bearing``."""
    if not ws.size:
        return
    c, rs = batch.clusters, r[ws]
    asns = np.sort(np.asarray(batch.scenario.clusters.asns, dtype=np.int64))
    c.asn[ws, rs] = asns[(np.searchsorted(asns, c.asn[ws, rs]) + 1) % len(asns)]
    lon, lat = destination(c.lon[ws, rs], c.lat[ws, rs], np.nan_to_num(bearing[ws]), adv.shift_km)
    c.lon[ws, rs], c.lat[ws, rs] = lon, lat
    c.xyz[ws, rs] = unit_vectors(lon, lat).reshape(-1, 3)
    batch.sensing.mark_worlds(ws)
    _record(ev, MOVE_EVENTS[SHIFT], ws, c.id[ws, rs], "shifted")


def _decoy(batch: WorldBatch, adv: Adversary, ws: NDArray[np.intp], lon: NDArray[np.float64],
           lat: NDArray[np.float64], ev: Events) -> None:
    """A new, small, loud cluster at (lon, lat): active from the start, flagged as a decoy."""
    if not ws.size:
        return
    c, s = batch.clusters, batch.scenario
    rows, ids = c.n[ws].copy(), batch.next_cluster_id[ws].copy()
    new_cluster_rows(c, s, batch.tables, batch.new_keys, ws, rows, ids, initial=False)
    at = (ws, rows)
    lo, la = wrap_lon(lon[ws]), lat[ws]
    c.lon[at], c.lat[at] = lo, la
    c.xyz[at] = unit_vectors(lo, la).reshape(-1, 3)
    region = batch.lookup.region(lo, la)
    occlusion = np.array([reg.occlusion for reg in s.regions] + [0.0])
    c.region_occlusion[at] = occlusion[region]  # -1 (outside every region) reads the appended 0
    c.node_count[at] = int(np.clip(adv.decoy_nodes, s.clusters.size_min, s.clusters.size_max))
    c.state[at] = ACTIVE
    c.activation_left[at] = -1
    c.silence[at] = STATE_SILENCE[ACTIVE]
    c.spread_km[at] = s.clusters.spread_km_min
    c.decoy[at] = True
    c.n[ws] += 1
    batch.next_cluster_id[ws] += 1
    batch.sensing.mark_worlds(ws)
    batch.sensing.count_dirty[ws] = True
    _record(ev, MOVE_EVENTS[DECOY], ws, ids, "spawned")


__all__ = [
    "ACTIVATE",
    "DECOY",
    "GO_QUIET",
    "MOVE_EVENTS",
    "MOVE_NAMES",
    "NONE",
    "SHIFT",
    "EvaderMoves",
    "EvaderView",
    "apply_moves",
    "evader_view",
    "regenerate",
]
