"""The evader's observation, action mask, decoding and reward for B worlds at once (a world is a batch of one).

Observation (Dict of float32 Boxes), built from :class:`~scythe_desktop.engine.batch.evader.EvaderView` only
— the evader's own clusters, the observers and their footprints, its stealth — never the defender's belief:

- ``clusters`` (S, 10): valid, state one-hot (active, quiet, activating), x, y over the clusters' box,
  log node count, decoy, activation ticks left (fraction), exposure (clipped at 4, divided by 4);
- ``observers`` (O, 4): valid, x, y, coverage radius / 3,000 km;
- ``globals`` (3,): stealth / budget, episode progress, observers / max instances.

Action: ``moves_per_tick`` sub-actions (MultiDiscrete), each one of ``1 + 3·S + K``: wait; quiet, activate or
shift (straight away from its nearest observer) the cluster of slot s; a decoy at the centre of cell k of a
grid over the clusters' regions. The mask is the concatenation of the sub-actions' masks (sb3-contrib's
convention); a move the stealth left cannot pay is masked, and the engine refuses it anyway.

Reward (:class:`EvaderWeights`): activations that completed unseen, minus activations caught early, minus a
small charge per real cluster detected in the tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from scythe_desktop.engine.adversary_spec import Adversary
from scythe_desktop.engine.batch.evader import ACTIVATE, DECOY, GO_QUIET, SHIFT, EvaderMoves, EvaderView
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import ACTIVATING, ACTIVE, QUIET
from scythe_desktop.engine.evaders.scripted import away_from_nearest_observer
from scythe_desktop.engine.rl.cells import CellGrid
from scythe_desktop.engine.scenario import Scenario

CLUSTER_FEATURES: Final = 10
OBSERVER_FEATURES: Final = 4
GLOBAL_FEATURES: Final = 3


@dataclass(frozen=True)
class EvaderWeights:
    """The evader's reward per tick: ``evaded`` per activation completed unseen, ``caught`` per activation
    caught early, ``detected`` per real cluster an observer detected."""

    evaded: float = 1.0
    caught: float = 1.0
    detected: float = 0.01


class EvaderLayout:
    """Fixed sizes of the evader's spaces for one adversarial scenario."""

    def __init__(self, scenario: Scenario, cluster_slots: int = 48, observer_slots: int = 24,
                 cell_rows: int = 8, cell_cols: int = 8) -> None:
        if scenario.adversary is None:
            raise ValueError(f"scenario {scenario.name!r} has no [adversary] table: there is no evader to play")
        self.scenario = scenario
        self.adv: Adversary = scenario.adversary
        self.slots, self.observer_slots = cluster_slots, observer_slots
        regions = [scenario.region(n) for n in scenario.clusters.regions]
        self.grid = CellGrid(min(r.lon_min for r in regions), max(r.lon_max for r in regions),
                             min(r.lat_min for r in regions), max(r.lat_max for r in regions), cell_rows, cell_cols)
        self.cells = self.grid.centres
        self.choices = 1 + 3 * cluster_slots + len(self.cells)
        self.action_space = spaces.MultiDiscrete([self.choices] * self.adv.moves_per_tick)
        self.observation_space = spaces.Dict({
            "clusters": spaces.Box(-4.0, 4.0, (cluster_slots, CLUSTER_FEATURES), np.float32),
            "observers": spaces.Box(-4.0, 4.0, (observer_slots, OBSERVER_FEATURES), np.float32),
            "globals": spaces.Box(-4.0, 4.0, (GLOBAL_FEATURES,), np.float32),
        })

    def slot_rows(self, view: EvaderView) -> NDArray[np.int64]:
        """(B, S) cluster row of each slot (the world's first S rows the evader controls), -1 if empty."""
        b = view.own.shape[0]
        rank = np.cumsum(view.own, axis=1) - 1
        out = np.full((b, self.slots + 1), -1, dtype=np.int64)
        bw, rows = np.nonzero(view.own & (rank < self.slots))
        out[bw, rank[bw, rows]] = rows
        return out[:, : self.slots]

    def observe(self, view: EvaderView, rows: NDArray[np.int64], progress: NDArray[np.float64]
                ) -> dict[str, NDArray[np.float32]]:
        b = rows.shape[0]
        ok = rows >= 0
        r = np.maximum(rows, 0)

        def take(a: NDArray) -> NDArray:
            return np.take_along_axis(a, r, axis=1)

        st = take(view.state)
        x, y = self.grid.normalise(take(view.lon), take(view.lat))
        feats = np.stack([
            np.ones_like(x), st == ACTIVE, st == QUIET, st == ACTIVATING, x, y,
            np.log1p(take(view.node_count)) / 8.0, take(view.decoy),
            np.maximum(take(view.activation_left), 0) / max(self.scenario.dynamics.activation_ticks, 1),
            np.minimum(take(view.exposure), 4.0) / 4.0,
        ], axis=2) * ok[..., None]
        o = min(self.observer_slots, view.observer_live.shape[1])
        obs_f = np.zeros((b, self.observer_slots, OBSERVER_FEATURES))
        ox, oy = self.grid.normalise(view.observer_lon[:, :o], view.observer_lat[:, :o])
        live = view.observer_live[:, :o]
        obs_f[:, :o] = np.stack([np.ones_like(ox), ox, oy, view.observer_radius_km[:, :o] / 3000.0], axis=2) \
            * live[..., None]
        max_inst = max(self.scenario.constraints.max_instances, 1)
        glob = np.stack([view.stealth / max(self.adv.stealth_budget, 1e-9), progress,
                         live.sum(axis=1) / max_inst], axis=1)
        return {k: np.clip(v, -4.0, 4.0).astype(np.float32) for k, v in
                (("clusters", feats), ("observers", obs_f), ("globals", glob))}

    def mask(self, view: EvaderView, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """(B, M · choices): the mask of every sub-action (each the same; the budget binds their sum)."""
        b = rows.shape[0]
        ok = rows >= 0
        st = np.take_along_axis(view.state, np.maximum(rows, 0), axis=1)
        costs = self.adv.move_costs
        pay = view.stealth[:, None] + 1e-9
        room = view.room
        one = np.zeros((b, self.choices), dtype=bool)
        one[:, 0] = True
        s = self.slots
        one[:, 1 : 1 + s] = ok & ((st == ACTIVE) | (st == ACTIVATING)) & (costs[GO_QUIET] <= pay)
        one[:, 1 + s : 1 + 2 * s] = ok & (st == QUIET) & (costs[ACTIVATE] <= pay)
        one[:, 1 + 2 * s : 1 + 3 * s] = ok & (costs[SHIFT] <= pay)
        one[:, 1 + 3 * s :] = (room & (costs[DECOY] <= view.stealth + 1e-9))[:, None]
        return np.tile(one, (1, self.adv.moves_per_tick))

    def decode(self, index: NDArray[np.int64], view: EvaderView, rows: NDArray[np.int64]) -> EvaderMoves:
        """(B, M) sub-action indices into the engine's moves."""
        b, m = index.shape
        s = self.slots
        out = EvaderMoves.none(b, m)
        block = np.where(index <= 0, -1, np.minimum((index - 1) // s, 3))
        slot = np.clip((index - 1) % s, 0, s - 1)
        row = np.take_along_axis(rows, slot, axis=1)
        kinds = np.array([GO_QUIET, ACTIVATE, SHIFT, DECOY])
        is_row = (block >= 0) & (block < 3) & (row >= 0)
        out.kind[:] = np.where(is_row, kinds[np.maximum(block, 0)], 0)
        out.row[:] = np.where(is_row, row, -1)
        away = away_from_nearest_observer(view)
        out.bearing[:] = np.where(out.kind == SHIFT, np.take_along_axis(away, np.maximum(out.row, 0), axis=1), 0.0)
        cell = np.clip(index - 1 - 3 * s, 0, len(self.cells) - 1)
        decoy = block == 3
        out.kind[decoy] = DECOY
        out.lon[:], out.lat[:] = self.cells[cell, 0], self.cells[cell, 1]
        return out


def evader_reward(weights: EvaderWeights, batch: WorldBatch, caught: NDArray[np.float64] | NDArray[np.int64],
                  evaded: NDArray[np.float64] | NDArray[np.int64]) -> NDArray[np.float64]:
    """(B,) the evader's reward for the tick just stepped (``caught``/``evaded``: the tick's tallies,
    :class:`~scythe_desktop.engine.batch.world_batch.BatchStep`'s ``activations_*``)."""
    c = batch.clusters
    real_detected = np.count_nonzero(c.detected & ~c.decoy & c.valid(), axis=1)
    return weights.evaded * np.asarray(evaded) - weights.caught * np.asarray(caught) - weights.detected * real_detected


__all__ = ["EvaderLayout", "EvaderWeights", "evader_reward"]
