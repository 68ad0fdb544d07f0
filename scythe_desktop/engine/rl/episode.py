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
from typing import Any

import numpy as np

from scythe_desktop.engine.actions import Action, ActionResult, Decommission, Relocate
from scythe_desktop.engine.belief import transition_matrix
from scythe_desktop.engine.rl.reward import INVALID_ACTION_PENALTY, RewardTracker, RewardWeights, Snapshot
from scythe_desktop.engine.rl.spaces import WorldView
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import StepResult, World

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

    def count_flaps(self, world: World, actions: Sequence[Action]) -> None:
        """Count the retirements and moves among ``actions`` inside their observer's billing period (call
        before they are applied: it reads the observers they act on)."""
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
        self.begin(world)
        self.count_flaps(world, actions)
        result = world.step(tuple(actions))
        self.end(world, result, list(zip(actions, result.action_results, strict=False)))

    def begin(self, world: World) -> None:
        """Note the world before a tick's actions; a caller applying actions itself (a recording's host)
        calls this, then :meth:`count_flaps` before each action, then :meth:`end` after the step."""
        before = world.clusters
        self._before = (before["id"].copy(), _state_entropy_bits(before["belief"] @ self.transition), world.tick)

    def end(self, world: World, result: StepResult, applied: Sequence[tuple[Action, ActionResult]]) -> None:
        """Account for the tick after :meth:`begin`: ``applied`` are the tick's actions and their results."""
        before_ids, prior_entropy, placed_at = self._before
        for a, r in applied:
            if r.ok and isinstance(a, Relocate):
                self.placed[a.observer_id] = placed_at
        for oid in world.observers["id"].tolist():
            self.placed.setdefault(int(oid), placed_at)
        self.actions += len(applied)
        refused = sum(1 for _, r in applied if not r.ok)
        self.violations += refused
        view = WorldView.of(world)
        snap = Snapshot.of(view)
        acted = len(applied) > refused
        spend_delta = snap.spend_per_hour - self.snapshot.spend_per_hour if acted else 0.0
        parts = self.tracker.components(self.snapshot, snap, view, spend_delta, result.info["cost_tick"])
        parts["invalid_action"] = -INVALID_ACTION_PENALTY * refused
        for k, v in parts.items():
            self.components[k] = self.components.get(k, 0.0) + v
        self.snapshot = snap
        self.cost += float(result.info["cost_tick"])
        after = world.clusters
        _, i_before, i_after = np.intersect1d(before_ids, after["id"], assume_unique=True, return_indices=True)
        post_entropy = _state_entropy_bits(after["belief"][i_after])
        self.information_gain += float((prior_entropy[i_before] - post_entropy).sum())
        real = after["detected"] & ~world.decoys()
        self.detected.update(int(i) for i in after["id"][real])
        self.detections += int(np.count_nonzero(real))
        self.activations_evaded += int(result.info["activations_evaded"])

    @property
    def seed_reward(self) -> float:
        return math.fsum(self.components.values())

    def state(self) -> dict[str, Any]:
        """The running totals and episode memory as JSON-ready values: :meth:`restore` continues from them
        exactly (a branch of a recording resumes its parent's meter at a world checkpoint)."""
        t = self.tracker
        return {
            "entropy_start": self.entropy_start, "information_gain": self.information_gain, "cost": self.cost,
            "violations": self.violations, "actions": self.actions, "detected": sorted(self.detected),
            "flaps": self.flaps, "placed": {str(k): v for k, v in self.placed.items()},
            "detections": self.detections, "activations_evaded": self.activations_evaded,
            "components": dict(self.components),
            "ever_detected": np.flatnonzero(t.ever_detected).tolist(), "credited": np.flatnonzero(t.credited).tolist(),
        }

    @classmethod
    def restore(cls, world: World, state: dict[str, Any], weights: RewardWeights | None = None) -> EpisodeMeter:
        """A meter for ``world`` (at the moment ``state`` was taken) that continues that episode."""
        meter = cls(world, weights)
        meter.entropy_start = float(state["entropy_start"])
        meter.information_gain = float(state["information_gain"])
        meter.cost = float(state["cost"])
        meter.violations, meter.actions = int(state["violations"]), int(state["actions"])
        meter.detected = {int(i) for i in state["detected"]}
        meter.flaps = int(state["flaps"])
        meter.placed = {int(k): int(v) for k, v in state["placed"].items()}
        meter.detections, meter.activations_evaded = int(state["detections"]), int(state["activations_evaded"])
        meter.components = {str(k): float(v) for k, v in state["components"].items()}
        t = meter.tracker
        ids = {name: np.asarray(state[name], dtype=np.int64) for name in ("ever_detected", "credited")}
        size = max([t.ever_detected.size] + [int(i.max()) + 1 for i in ids.values() if i.size])
        for name, on in ids.items():  # the two flag arrays grow together (RewardTracker._flags)
            flags = np.zeros(size, dtype=bool)
            flags[on] = True
            setattr(t, name, flags)
        return meter

    def summary(self, world: World) -> EpisodeSummary:
        return EpisodeSummary(
            entropy_reduction=self.entropy_start - float(world.clusters["entropy"].sum()),
            information_gain=self.information_gain,
            clusters_detected=len(self.detected),
            cost=self.cost,
            violations=self.violations,
            actions=self.actions,
            seed_reward=self.seed_reward,
            reward_components=dict(self.components),
            flaps=self.flaps,
            activations_evaded=self.activations_evaded,
            detections=self.detections,
        )
