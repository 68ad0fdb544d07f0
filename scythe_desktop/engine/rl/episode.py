"""Running worlds for RL and evaluation: the fast world constructor and a per-episode meter.

:class:`EpisodeMeter` steps a world with given actions and accumulates what an evaluation reports:
spend, refused actions, clusters ever detected, total entropy change, and **information gain** — the bits
of activity-state uncertainty that observations removed, tick by tick: for every cluster tracked before and
after a tick, the entropy of its belief pushed one step through the dynamics (what it would be with no
observation) minus the entropy of its posterior. Unlike the net entropy change it does not credit a policy
for clusters that happen to vanish, nor blame it for clusters that spawn. It also accumulates the **seed
reward** with the default :class:`~scythe_desktop.engine.rl.reward.RewardWeights` (whatever weights a policy
was trained with), component by component, exactly as :class:`~scythe_desktop.engine.env.ObserverEnv`
computes it, so every policy is judged on the objective the product states. It only reads public world views.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scythe_desktop.engine.actions import Action, Decommission, Relocate
from scythe_desktop.engine.belief import transition_matrix
from scythe_desktop.engine.rl.reward import INVALID_ACTION_PENALTY, RewardTracker, RewardWeights, Snapshot
from scythe_desktop.engine.rl.spaces import WorldView
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import World

_TINY = 1e-12


def make_world(scenario: Scenario, seed: int) -> World:
    """A world for deciding, not drawing: nodes are not emitted (materialised only if read)."""
    return World(scenario, seed, emit_nodes=False)


def _state_entropy_bits(b: np.ndarray) -> np.ndarray:
    return -(b * np.log2(b + _TINY)).sum(axis=-1)


@dataclass(frozen=True)
class EpisodeSummary:
    entropy_reduction: float  # bits: total entropy at the start minus at the end
    information_gain: float  # bits learned from observations (see the module docstring)
    clusters_detected: int  # distinct clusters detected at least once
    cost: float  # $ spent
    violations: int  # actions the world refused
    actions: int  # actions submitted
    seed_reward: float  # the env's reward with the default weights, summed over the episode
    reward_components: dict[str, float]  # its weighted components, summed (they add up to seed_reward)
    flaps: int = 0  # observers retired or moved inside the minimum billing period of their last placement
    activations_evaded: int = 0  # activations that completed with no observer seeing them (engine tally)
    detections: int = 0  # real clusters detected, summed over ticks (decoys never count)


class EpisodeMeter:
    """Steps ``world`` and keeps the running totals of one episode."""

    def __init__(self, world: World, weights: RewardWeights | None = None) -> None:
        self.transition = transition_matrix(world.scenario)
        view = WorldView.of(world)
        self.tracker = RewardTracker(view, weights or RewardWeights())
        self.snapshot = Snapshot.of(view)
        self.components: dict[str, float] = {}
        self.entropy_start = float(world.clusters["entropy"].sum())
        self.information_gain = 0.0
        self.cost = 0.0
        self.violations = 0
        self.actions = 0
        self.detected: set[int] = set()
        self.flaps = 0
        self.placed: dict[int, int] = {}  # observer id -> tick of its deploy or last relocation
        self.detections = 0
        self.activations_evaded = 0

    def _count_flaps(self, world: World, actions: Sequence[Action]) -> None:
        sc, obs = world.scenario, world.observers
        for a in actions:
            if not isinstance(a, Decommission | Relocate) or a.observer_id not in self.placed:
                continue
            row = np.flatnonzero(obs["id"] == a.observer_id)
            if row.size:
                billing = sc.observer_types[int(obs["type"][row[0]])].min_billing_hours
                if world.tick - self.placed[a.observer_id] < math.ceil(billing / sc.tick_hours - 1e-9):
                    self.flaps += 1

    def step(self, world: World, actions: Sequence[Action]) -> None:
        before = world.clusters
        prior_entropy = _state_entropy_bits(before["belief"] @ self.transition)
        self._count_flaps(world, actions)
        placed_at = world.tick
        result = world.step(tuple(actions))
        for a, r in zip(actions, result.action_results, strict=False):
            if r.ok and isinstance(a, Relocate):
                self.placed[a.observer_id] = placed_at
        for oid in world.observers["id"].tolist():
            self.placed.setdefault(int(oid), placed_at)
        self.actions += len(actions)
        refused = sum(1 for r in result.action_results if not r.ok)
        self.violations += refused
        view = WorldView.of(world)
        snap = Snapshot.of(view)
        acted = len(actions) > refused
        spend_delta = snap.spend_per_hour - self.snapshot.spend_per_hour if acted else 0.0
        parts = self.tracker.components(self.snapshot, snap, view, spend_delta, result.info["cost_tick"])
        parts["invalid_action"] = -INVALID_ACTION_PENALTY * refused
        for k, v in parts.items():
            self.components[k] = self.components.get(k, 0.0) + v
        self.snapshot = snap
        self.cost += float(result.info["cost_tick"])
        after = world.clusters
        _, i_before, i_after = np.intersect1d(before["id"], after["id"], assume_unique=True, return_indices=True)
        post_entropy = _state_entropy_bits(after["belief"][i_after])
        self.information_gain += float((prior_entropy[i_before] - post_entropy).sum())
        real = after["detected"] & ~world.decoys()
        self.detected.update(int(i) for i in after["id"][real])
        self.detections += int(np.count_nonzero(real))
        self.activations_evaded += int(result.info["activations_evaded"])

    def summary(self, world: World) -> EpisodeSummary:
        return EpisodeSummary(
            entropy_reduction=self.entropy_start - float(world.clusters["entropy"].sum()),
            information_gain=self.information_gain,
            clusters_detected=len(self.detected),
            cost=self.cost,
            violations=self.violations,
            actions=self.actions,
            seed_reward=math.fsum(self.components.values()),
            reward_components=dict(self.components),
            flaps=self.flaps,
            activations_evaded=self.activations_evaded,
            detections=self.detections,
        )
