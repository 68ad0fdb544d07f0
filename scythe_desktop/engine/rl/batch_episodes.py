"""Episodes of B observer worlds stepped together: one shard of
:class:`~scythe_desktop.engine.rl.vec_env.ObserverVecEnv`.

:class:`BatchEpisodes` owns one :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch`, its RL view
(observation, mask, decoding), the episode clocks and seeds, and computes the reward components of
:mod:`scythe_desktop.engine.rl.reward` for all its worlds in array operations (:class:`BatchReward`, which
the rollout planner reuses). It knows nothing of SB3's
VecEnv API (the env wraps it) or of threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.batch.actions import DEPLOY, NOOP, RELOCATE, ActionBatch
from scythe_desktop.engine.batch.evader import EvaderMoves
from scythe_desktop.engine.batch.world_batch import BatchStep, WorldBatch
from scythe_desktop.engine.clusters import ACTIVATING
from scythe_desktop.engine.rl.batch_spaces import BatchView
from scythe_desktop.engine.rl.reward import INVALID_ACTION_PENALTY, RewardWeights
from scythe_desktop.engine.rl.spaces import ActionCodec
from scythe_desktop.engine.scenario import Scenario

_SEED_STREAM = 0x5EED


def episode_seeds(base: NDArray[np.int64], episode: NDArray[np.int64]) -> NDArray[np.int64]:
    """World seed of env ``b``'s ``episode``-th episode: a keyed hash of (base seed, episode)."""
    keys = kr.tick_keys(base, episode)[kr.Stream.NODE_SEEDS]
    return (kr.bits(keys, np.full(base.shape, _SEED_STREAM)) >> np.uint64(33)).astype(np.int64)


@dataclass
class StepOut:
    """One step of a shard: per-world reward, done and refused flags, the weighted components, and the
    final observation of every world that ended (rows of ``ended``)."""

    reward: NDArray[np.float64]
    done: NDArray[np.bool_]
    refused: NDArray[np.bool_]
    components: dict[str, NDArray[np.float64]]
    ended: NDArray[np.intp]
    terminal: dict[str, NDArray[np.float32]]
    #: The engine's figures of the tick (activations caught and evaded, detections …).
    tick: BatchStep


class BatchEpisodes:
    """B episodes of one scenario (see the module docstring)."""

    def __init__(
        self, codec: ActionCodec, weights: RewardWeights, episode_ticks: int, base_seeds: NDArray[np.int64]
    ) -> None:
        self.codec = codec
        self.start(codec.scenario, weights, episode_ticks, base_seeds)

    def start(
        self, scenario: Scenario, weights: RewardWeights, episode_ticks: int, base_seeds: NDArray[np.int64]
    ) -> None:
        """Everything but the layout: the batch, the clocks, the reward, then the first observation."""
        self.weights = weights
        self.episode_ticks = episode_ticks
        self.size = int(base_seeds.shape[0])
        self.base = base_seeds.astype(np.int64).copy()
        self.episode = np.zeros(self.size, dtype=np.int64)
        self.batch = WorldBatch(scenario, episode_seeds(self.base, self.episode))
        self.make_view()
        self.steps = np.zeros(self.size, dtype=np.int64)
        self.reward = BatchReward(scenario, weights)
        self.refresh()

    # The layout's hooks: a subclass with another observation and action layout overrides these four.
    def make_view(self) -> None:
        self.view = BatchView(self.codec, self.batch)

    def placed(self, bw: NDArray[np.intp], rows: NDArray[np.intp]) -> None:
        """Observer rows (bw[i], rows[i]) were just placed (reset, deploy or relocation)."""
        self.view.cover_rows(bw, rows)

    def decode(self, index: NDArray[np.int64]) -> ActionBatch:
        return self.view.decode(index, self.slots)

    def refresh(self) -> None:
        self.slots, slot_ok = self.view.slots()
        self.mask = self.view.mask(self.slots, slot_ok)
        self.obs = self.view.observe(self.slots, slot_ok, self.steps / self.episode_ticks)

    def reset_worlds(self, worlds: NDArray[np.intp]) -> None:
        self.batch.reset(worlds, episode_seeds(self.base[worlds], self.episode[worlds]))
        o = self.batch.observers
        self.placed(np.repeat(worlds, o.capacity), np.tile(np.arange(o.capacity), worlds.size))
        self.steps[worlds] = 0
        self.refresh()

    def stepped(self, tick: BatchStep) -> None:
        """Hook: the tick was just stepped and the reward computed (before any reset)."""

    def ending(self, ended: NDArray[np.intp]) -> None:
        """Hook: ``ended`` worlds finished their episode; their final state is still there (reset follows)."""

    def step(self, index: NDArray[np.int64], evader: EvaderMoves | None = None) -> StepOut:
        """One action index per world (already range-checked); masked ones are refused (no-op). ``evader``:
        this tick's evader moves of an adversarial world (else its scripted evader plays)."""
        refused = ~self.mask[np.arange(self.size), index]
        index = np.where(refused, 0, index)
        batch, o = self.batch, self.batch.observers
        a = self.decode(index)
        placed_rows = np.where(a.kind == DEPLOY, o.n, a.slot)
        before = self.reward.before(batch)
        batch.act(a)
        moved = np.flatnonzero((a.kind == DEPLOY) | (a.kind == RELOCATE))
        if moved.size:
            self.placed(moved, placed_rows[moved])
        step = batch.step(evader=evader)
        self.steps += 1
        comps = self.reward.components(batch, before, step, acted=a.kind != NOOP)
        comps["invalid_action"] = np.where(refused, -INVALID_ACTION_PENALTY, 0.0)
        reward = np.zeros(self.size)
        for v in comps.values():
            reward += v
        done = self.steps >= self.episode_ticks
        self.stepped(step)
        self.refresh()
        ended = np.flatnonzero(done)
        terminal = {k: v[ended] for k, v in self.obs.items()}
        if ended.size:
            self.ending(ended)
            self.episode[ended] += 1
            self.reset_worlds(ended)
        return StepOut(reward, done, refused, comps, ended, terminal, step)


@dataclass(frozen=True)
class Before:
    """What the reward compares after a tick: entropy, mean agreement and spend rate per world."""

    entropy: NDArray[np.float64]
    agreement: NDArray[np.float64]
    rate: NDArray[np.float64]


class BatchReward:
    """The seed reward's components (:mod:`scythe_desktop.engine.rl.reward`) for B worlds in arrays. Episode
    memory (first detection, activation caught) lives in the batch's ``ever_detected``/``credited`` columns."""

    def __init__(self, scenario: Scenario, weights: RewardWeights) -> None:
        self.w = weights
        self.type_latency = np.array([t.latency_ms for t in scenario.observer_types])
        self.zone_limit = np.array([z.max_latency_ms for z in scenario.latency_zones] + [np.inf])

    def before(self, batch: WorldBatch) -> Before:
        return Before(batch.entropy_total(), _mean_agreement(batch), batch.cost_per_hour())

    def components(
        self, batch: WorldBatch, before: Before, step: BatchStep, acted: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Weighted components of the tick just stepped (updates the episode memory columns)."""
        w, c, o = self.w, batch.clusters, batch.observers
        newly = c.detected & ~c.ever_detected
        c.ever_detected |= c.detected
        activating = c.state == ACTIVATING
        caught = c.detected & activating & ~c.credited
        c.credited = activating & (c.credited | caught)
        newly &= ~c.decoy  # finding a decoy is worth nothing
        caught &= ~c.decoy
        covering = (batch.sensing.reach > 0.5).sum(axis=1)
        rate_up = np.where(acted, np.maximum(step.cost_per_hour - before.rate, 0.0), 0.0)
        ratio = self.type_latency[o.type] / self.zone_limit[o.latency_zone]
        latency = np.where(o.n > 0, (ratio * o.valid()).sum(axis=1) / np.maximum(o.n, 1), 0.0)
        return {
            "entropy": w.entropy * (before.entropy - step.entropy_total),
            "agreement": w.agreement * (_mean_agreement(batch) - before.agreement),
            "detection": w.detection * newly.sum(axis=1),
            "deployment_cost": -w.deployment_cost * rate_up,
            "redundancy": -w.redundancy * np.maximum(covering - 1, 0).sum(axis=1),
            "compute_cost": -w.compute_cost * step.cost_tick,
            "latency": -w.latency * latency,
            "early_activation": w.early_activation * caught.sum(axis=1),
        }


def _mean_agreement(batch: WorldBatch) -> NDArray[np.float64]:
    c = batch.clusters
    return np.where(c.n > 0, (c.agreement * c.valid()).sum(axis=1) / np.maximum(c.n, 1), 0.0)


__all__ = ["BatchEpisodes", "BatchReward", "Before", "StepOut", "episode_seeds"]
