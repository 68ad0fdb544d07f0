"""``WorldBatch``: B worlds of one scenario stepped together, the one simulator of the engine.

Each world has its own seed and tick; :meth:`WorldBatch.step` applies at most one (already valid) action
per world, then an adversarial world's evader moves (:mod:`scythe_desktop.engine.batch.evader`), advances
every world's dynamics, lets every observer observe, updates every belief and closes
the tick's bill, all in array operations over the world axis. Randomness is keyed by (world seed, tick,
stream, index), so world ``b``'s trajectory is the same in a batch of one (what
:class:`~scythe_desktop.engine.world.World` is), in slot 0 of 8 or in slot 3,000 of 4,096.
:meth:`reset` re-initialises any subset of worlds (the RL auto-reset). Knows nothing of nodes, Qt, the
network or policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.batch.actions import DEPLOY, RELOCATE, ActionBatch, RegionLookup, apply
from scythe_desktop.engine.batch.billing import Billing
from scythe_desktop.engine.batch.dynamics import Events, advance, new_cluster_rows
from scythe_desktop.engine.batch.evader import EvaderMoves, apply_moves, evader_view, regenerate
from scythe_desktop.engine.batch.sensing import Sensing, refresh_entropy
from scythe_desktop.engine.batch.state import ClusterSlab, ObserverSlab, cluster_capacity
from scythe_desktop.engine.clusters import ACTIVATING, GHOST, DynamicsTables
from scythe_desktop.engine.evaders import Evader, make_evader
from scythe_desktop.engine.scenario import Scenario


@dataclass(frozen=True)
class BatchStep:
    """Per-world figures of one tick, each (B,)."""

    entropy_total: NDArray[np.float64]
    entropy_drop: NDArray[np.float64]
    cost_per_hour: NDArray[np.float64]
    cost_tick: NDArray[np.float64]
    coverage_mean: NDArray[np.float64]
    detections: NDArray[np.int64]
    #: Activations first seen this tick while still activating (decoys never count).
    activations_caught: NDArray[np.int64]
    #: Activations that completed this tick unseen.
    activations_evaded: NDArray[np.int64]
    events: Events


class WorldBatch:
    """B seeded worlds of one scenario (see the module docstring)."""

    def __init__(
        self, scenario: Scenario, seeds: ArrayLike, *, collect_events: bool = False, initial_observers: bool = True
    ) -> None:
        self.scenario = scenario
        self.initial_observers = initial_observers
        seeds_a = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
        b = seeds_a.shape[0]
        self.size = b
        self.collect_events = collect_events
        self.tables = DynamicsTables(scenario)
        self.lookup = RegionLookup(scenario)
        self.capacity = cluster_capacity(scenario)
        self.clusters = ClusterSlab.empty(b, self.capacity)
        self.observers = ObserverSlab.empty(b, max(scenario.constraints.max_instances, 1))
        self.sensing = Sensing(scenario, b, self.observers.capacity, self.capacity)
        self.billing = Billing(scenario, b)
        self.seeds = seeds_a.copy()
        self.tick = np.zeros(b, dtype=np.int64)
        self.next_cluster_id = np.zeros(b, dtype=np.int64)
        self.next_observer_id = np.zeros(b, dtype=np.int64)
        self.new_keys = np.zeros(b, dtype=np.uint64)
        self.stealth = np.zeros(b)
        #: Activations caught and evaded since each world's reset (the per-tick figures summed).
        self.caught_total = np.zeros(b, dtype=np.int64)
        self.evaded_total = np.zeros(b, dtype=np.int64)
        adv = scenario.adversary
        #: Who plays the clusters' side when :meth:`step` gets no evader moves (None: dynamics alone).
        self.evader: Evader | None = None if adv is None else make_evader(adv.evader, adv)
        self.reset(np.arange(b), seeds_a)

    # ------------------------------------------------------------------------------------------ reset

    def reset(self, worlds: NDArray[np.intp], seeds: ArrayLike) -> None:
        """Start ``worlds`` afresh with ``seeds``: the scenario's initial clusters and observers, tick 0.
        (With ``initial_observers=False`` the caller deploys them, as World does to validate each.)"""
        worlds = np.asarray(worlds, dtype=np.intp)
        if worlds.size == 0:
            return
        s = self.scenario
        self.seeds[worlds] = np.asarray(seeds, dtype=np.int64)
        self.tick[worlds] = 0
        c, o = self.clusters, self.observers
        rows = np.zeros((self.size, self.capacity), dtype=bool)
        rows[worlds] = True
        c.pad(rows)
        c.n[worlds] = 0
        o_rows = np.zeros((self.size, o.capacity), dtype=bool)
        o_rows[worlds] = True
        o.n[worlds] = 0
        empty = ObserverSlab.empty(1, o.capacity)
        for name, col in o.columns().items():
            if name != "n":
                col[worlds] = getattr(empty, name)[0]
        for arr in o.extra.values():
            arr[worlds] = 0.0
        self.new_keys[worlds] = kr.stream_keys(self.seeds[worlds], 0, kr.Stream.NEW_CLUSTER)
        k = s.clusters.count
        wb = np.repeat(worlds, k)
        ids = np.tile(np.arange(k, dtype=np.int64), worlds.size)
        new_cluster_rows(c, s, self.tables, self.new_keys, wb, ids, ids, initial=True)
        c.n[worlds] = k
        self.next_cluster_id[worlds] = k
        self.next_observer_id[worlds] = 0
        self.stealth[worlds] = 0.0 if s.adversary is None else s.adversary.stealth_budget
        self.caught_total[worlds] = 0
        self.evaded_total[worlds] = 0
        self.billing.reset(worlds)
        self.sensing.mark_worlds(worlds)
        self.sensing.count_dirty[worlds] = True
        refresh_entropy(self.sensing.model, c)
        for init in s.initial_observers if self.initial_observers else ():
            a = ActionBatch.noop(self.size)
            a.kind[worlds] = DEPLOY
            a.lon[worlds], a.lat[worlds] = init.lon, init.lat
            a.type[worlds] = s.observer_type_index(init.observer_type)
            self.act(a)

    # ------------------------------------------------------------------------------------------ views

    def cost_per_hour(self) -> NDArray[np.float64]:
        """Running spend rate per world (B,)."""
        return (self.observers.cost * self.observers.valid()).sum(axis=1)

    def entropy_total(self) -> NDArray[np.float64]:
        return self.clusters.entropy.sum(axis=1)

    # ---------------------------------------------------------------------------------------- stepping

    def act(self, actions: ActionBatch) -> None:
        """Apply one valid action per world now (without advancing time). A NaN or out-of-range
        coordinate of a deploy or relocation raises one ValueError naming the slot; nothing is applied."""
        placed = (actions.kind == DEPLOY) | (actions.kind == RELOCATE)
        for name, bound in (("lon", 180.0), ("lat", 90.0)):
            value = getattr(actions, name)
            bad = placed & ~(np.abs(value) <= bound)  # NaN compares False
            if bad.any():
                b = int(np.flatnonzero(bad)[0])
                raise ValueError(f"world slot {b}: {name} must be a finite number in [-{bound:g}, {bound:g}], "
                                 f"got {float(value[b])!r}")
        apply(
            self.observers,
            actions,
            scenario=self.scenario,
            lookup=self.lookup,
            billing=self.billing,
            sensing=self.sensing,
            tick=self.tick,
            next_observer_id=self.next_observer_id,
        )

    def step(self, actions: ActionBatch | None = None, evader: EvaderMoves | None = None) -> BatchStep:
        """Apply ``actions`` (valid ones only), then the evader's moves (``evader``, else those of the
        scripted :attr:`evader` of an adversarial scenario), then advance every world one tick."""
        if actions is not None:
            self.act(actions)
        c, o = self.clusters, self.observers
        before = self.entropy_total()
        ev = Events(self.collect_events)
        if evader is None and self.evader is not None:
            evader = self.evader.moves(evader_view(self))
        if evader is not None:
            apply_moves(self, evader, ev)
        keys = kr.tick_keys(self.seeds, self.tick)
        moved, counted, evaded = advance(c, self.scenario, self.tables, keys, self.next_cluster_id, self.new_keys, ev)
        if moved.any():
            self._forget_dropped_focus(np.flatnonzero(moved))
            self.sensing.mark_worlds(moved)
        self.sensing.count_dirty |= counted
        detections, coverage_mean = self.sensing.observe(c, o, keys)
        activating = c.state == ACTIVATING
        caught = np.count_nonzero(c.detected & activating & ~c.seen_activating & ~c.decoy, axis=1)
        c.seen_activating |= c.detected & activating
        self.caught_total += caught
        self.evaded_total += evaded
        self.tick += 1
        regenerate(self)
        rate = self.cost_per_hour()
        cost_tick = self.billing.close_tick(rate)
        total = self.entropy_total()
        return BatchStep(total, before - total, rate, cost_tick, coverage_mean, detections, caught, evaded, ev)

    def _forget_dropped_focus(self, worlds: NDArray[np.intp]) -> None:
        """An observer focused on a cluster that is no longer tracked goes back to no focus."""
        o, c = self.observers, self.clusters
        focus = o.focus[worlds]
        known = (focus[:, :, None] == c.id[worlds][:, None, :]).any(axis=2)
        lost = (focus >= 0) & ~known
        if lost.any():
            bw, ow = np.nonzero(lost)
            o.focus[worlds[bw], ow] = -1

    @classmethod
    def replicate(cls, source: WorldBatch, slot: int, seeds: ArrayLike) -> WorldBatch:
        """A batch whose every world is a copy of ``source``'s world ``slot`` (rows, ids, tick, spend),
        each going on with its own seed: what a planner rolls candidate futures out on. Copies that share
        a seed share every future random number (common random numbers across candidates)."""
        seeds_a = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
        out = cls(source.scenario, seeds_a, initial_observers=False)
        for mine, theirs in ((out.clusters, source.clusters), (out.observers, source.observers)):
            for name, col in mine.columns().items():
                col[:] = theirs.columns()[name][slot]
        for name in ("tick", "next_cluster_id", "next_observer_id", "caught_total", "evaded_total"):
            getattr(out, name)[:] = getattr(source, name)[slot]
        out.stealth[:] = source.stealth[slot]
        out.billing.spend[:] = source.billing.spend[slot]
        out.billing.tick_charges[:] = source.billing.tick_charges[slot]
        out.new_keys = kr.stream_keys(seeds_a, 0, kr.Stream.NEW_CLUSTER)
        out.sensing.mark_worlds(np.arange(out.size))
        out.sensing.count_dirty[:] = True
        return out

    def ghosts(self) -> NDArray[np.int64]:
        c = self.clusters
        return np.count_nonzero((c.state == GHOST) & c.valid(), axis=1)


__all__ = ["BatchStep", "WorldBatch"]
