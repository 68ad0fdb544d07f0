"""The reward of one ObserverEnv step, as named components that sum to the reward.

The seed's definition, with its default weights::

    reward = (entropy_before − entropy_after)·2.0 + agreement_delta·1.5 + new_clusters_detected·3.0
             − deployment_cost·0.5 − redundant_coverage·w − compute_cost·w − latency·w + early_activation·w

* ``entropy``: total belief entropy (bits) removed this tick (negative when uncertainty grows).
* ``agreement``: change of the mean observer agreement over clusters.
* ``detection``: clusters detected for the first time in the episode.
* ``deployment_cost``: spend-rate increase caused by this step's action ($/h; a deploy or a faster rate).
* ``redundancy``: clusters seen by more than one observer, counted per extra observer.
* ``compute_cost``: $ spent during the tick: every observer's running cost plus the one-off charges
  (set-up fees of deploys and relocations, the rest of the minimum billing of an early decommission).
* ``latency``: mean observer latency as a fraction of its zone's limit.
* ``early_activation``: clusters detected while ACTIVATING, once per activation.

Each component is reported already weighted, so ``sum(components.values()) == reward`` exactly (the env
computes the reward as that sum). This module knows nothing of gymnasium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scythe_desktop.engine.clusters import ClusterState
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.observers import footprint

if TYPE_CHECKING:
    from scythe_desktop.engine.rl.spaces import WorldView


#: What an action outside the mask costs (the ``invalid_action`` component); it is never applied.
INVALID_ACTION_PENALTY = 1.0


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the components (the seed's defaults; the last four are ours, documented above)."""

    entropy: float = 2.0
    agreement: float = 1.5
    detection: float = 3.0
    deployment_cost: float = 0.5
    redundancy: float = 0.05
    compute_cost: float = 0.5
    latency: float = 0.1
    early_activation: float = 2.0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"RewardWeights.{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class Snapshot:
    """The parts of a world state the reward compares before and after a step."""

    entropy: float
    agreement: float
    spend_per_hour: float

    @classmethod
    def of(cls, world: WorldView) -> Snapshot:
        c = world.clusters
        return cls(
            entropy=float(c["entropy"].sum()),
            agreement=float(c["agreement"].mean()) if len(c) else 0.0,
            spend_per_hour=float(world.budget_used_per_hour),
        )


def redundant_coverage(world: WorldView) -> float:
    """Σ over clusters of max(0, observers covering it − 1), covering = footprint weight > 0.5."""
    o, c = world.observers, world.clusters
    if len(o) < 2 or len(c) == 0:
        return 0.0
    cos = unit_vectors(c["lon"], c["lat"]) @ unit_vectors(o["lon"], o["lat"]).T
    covering = (footprint(cos, o["coverage_radius_km"][None, :]) > 0.5).sum(axis=1)
    return float(np.maximum(covering - 1, 0).sum())


class RewardTracker:
    """Per-episode memory the reward needs: clusters ever detected (a detection counts once per episode)
    and clusters already credited for being caught during their current activation."""

    def __init__(self, world: WorldView, weights: RewardWeights) -> None:
        sc = world.scenario
        self.w = weights
        self.tick_hours = sc.tick_hours
        # Observers outside every region have latency_zone -1: the appended +inf makes them cost nothing.
        self.zone_limit_ms = np.array([z.max_latency_ms for z in sc.latency_zones] + [np.inf])
        self.type_latency_ms = np.array([t.latency_ms for t in sc.observer_types])
        c = world.clusters
        # Flags indexed by cluster id (ids are small, stable and never reused): O(1) membership per step.
        self.ever_detected = np.zeros(0, dtype=bool)
        self.credited = np.zeros(0, dtype=bool)
        self._flags(c)
        self.ever_detected[c["id"][c["detected"]]] = True
        # redundant_coverage depends only on where observers and clusters are: kept with those exact bytes.
        self._redundancy: tuple[tuple[bytes, ...], float] | None = None

    def _flags(self, c: np.ndarray) -> None:
        need = int(c["id"].max()) + 1 if len(c) else 0
        if need > self.ever_detected.size:
            grow = max(need, 2 * self.ever_detected.size)
            self.ever_detected = np.concatenate([self.ever_detected, np.zeros(grow - self.ever_detected.size, bool)])
            self.credited = np.concatenate([self.credited, np.zeros(grow - self.credited.size, bool)])

    def _redundant_coverage(self, world: WorldView) -> float:
        o, c = world.observers, world.clusters
        key = (
            o["lon"].tobytes(),
            o["lat"].tobytes(),
            o["coverage_radius_km"].tobytes(),
            c["lon"].tobytes(),
            c["lat"].tobytes(),
        )
        if self._redundancy is None or self._redundancy[0] != key:
            self._redundancy = (key, redundant_coverage(world))
        return self._redundancy[1]

    def components(
        self, before: Snapshot, after: Snapshot, world: WorldView, action_spend_delta: float, spent: float
    ) -> dict[str, float]:
        """Weighted components of one step (see the module docstring); ``spent`` is the $ of the tick
        (the world's ``cost_tick``). Updates the episode memory."""
        w = self.w
        c = world.clusters
        self._flags(c)
        ids = c["id"]
        newly = c["detected"] & ~self.ever_detected[ids]
        self.ever_detected[ids[newly]] = True
        activating = c["state"] == ClusterState.ACTIVATING
        was_credited = self.credited[ids]
        caught = c["detected"] & activating & ~was_credited
        if world.decoys is not None and world.decoys.any():  # finding a decoy is worth nothing
            newly = newly & ~world.decoys
            caught = caught & ~world.decoys
        # Credit lasts while the cluster stays ACTIVATING: a later activation can be caught again.
        self.credited[:] = False
        self.credited[ids[activating & (was_credited | caught)]] = True
        o = world.observers
        latency = (
            float(np.mean(self.type_latency_ms[o["type"]] / self.zone_limit_ms[o["latency_zone"]])) if len(o) else 0.0
        )
        return {
            "entropy": w.entropy * (before.entropy - after.entropy),
            "agreement": w.agreement * (after.agreement - before.agreement),
            "detection": w.detection * float(np.count_nonzero(newly)),
            "deployment_cost": -w.deployment_cost * max(action_spend_delta, 0.0),
            "redundancy": -w.redundancy * self._redundant_coverage(world),
            "compute_cost": -w.compute_cost * spent,
            "latency": -w.latency * latency,
            "early_activation": w.early_activation * float(np.count_nonzero(caught)),
        }
