"""What the console learns about the world beyond the frame stream: cluster table, proposals, metrics.

``scythe.v1`` streams nodes, edges, grids and observers, but no cluster table and no proposals. With the
embedded source the orchestrator's world lives in this process, so :class:`EmbeddedInsight` reads it
under the host's lock — copying the cluster table and running the policy's ``propose`` (policies only read
the world) — and derives the metrics plots' values. It runs in a worker thread and returns an immutable
:class:`~scythe_desktop.ui.snapshots.WorldSnapshot`. Remote and replay sources have no insight yet (the
docks say so); actions always go through the gRPC client, never through here. No Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.world import World
from scythe_desktop.net.world_host import WorldHost
from scythe_desktop.render.lod import LodThresholds
from scythe_desktop.ui.snapshots import WorldSnapshot, cluster_rows

PolicySource = Policy | Callable[[], Policy | None] | None


#: Display length (degrees) of a gradient-drift arrow.
DRIFT_DEG = 4.0


class EmbeddedInsight:
    """Snapshots of the embedded orchestrator's world.

    ``policy`` is a policy, ``None`` (no proposals) or a function that loads one; a loader runs at the first
    snapshot, in the worker thread, so loading a network (torch) never delays the window. If it fails, the
    first snapshot raises its error (the worker reports it) and the console goes on without proposals.
    """

    def __init__(self, host: WorldHost, policy: PolicySource, *, limit: int = 5,
                 thresholds: LodThresholds | None = None) -> None:
        self.host = host
        self._policy_source = policy
        self.policy: Policy | None = policy if isinstance(policy, Policy) else None
        self.limit = limit
        self.thresholds = thresholds
        self._policy_ready = False
        self._last: tuple[int, float] | None = None  # (tick, total entropy) of the previous snapshot

    def snapshot(self, generation: int) -> WorldSnapshot:
        source = self._policy_source
        if source is not None and not isinstance(source, Policy):
            self._policy_source = None  # load once, whatever happens
            self.policy = source()
        with self.host.lock:
            world = self.host.world
            tick = int(world.tick)
            table = world.clusters
            spend = float(world.budget_used_per_hour)
            drift = self._drift(world)
            proposals: tuple[Proposal, ...] = ()
            problem = ""
            if self.policy is not None:
                if not self._policy_ready:  # an episode starts on this world (stateful policies seed here)
                    self.policy.reset(world, seed=self.host.seed)
                    self._policy_ready = True
                try:
                    proposals = tuple(self.policy.propose(world, limit=self.limit))
                except Exception as exc:  # a policy that fails must not take the cluster table down with it
                    problem = f"policy {self.policy.name} could not propose: {type(exc).__name__}: {exc}"
        rows = cluster_rows(table, self.thresholds)
        return WorldSnapshot(generation, tick, rows, proposals, self._metrics(table, tick, spend), problem, drift)

    @staticmethod
    def _drift(world: World) -> np.ndarray:
        """(lon, lat, d_lon, d_lat) per observer: the uncertainty gradient's direction, DRIFT_DEG long."""
        observers = world.observers
        out = np.zeros((len(observers), 4))
        for i, (lon, lat) in enumerate(zip(observers["lon"], observers["lat"], strict=True)):
            g = np.array(world.uncertainty_gradient(float(lon), float(lat)))
            norm = float(np.hypot(*g))
            out[i] = (lon, lat, *(DRIFT_DEG * g / norm if norm > 0 else (0.0, 0.0)))
        return out

    def _metrics(self, table: np.ndarray, tick: int, spend: float) -> dict[str, float]:
        scenario = self.host.scenario
        entropy = float(table["entropy"].sum())
        coverage = float(1.0 - table["coverage_deficit"].mean()) if len(table) else math.nan
        metrics = {"total entropy": entropy, "coverage": coverage, "cost/hour": spend}
        if self._last is not None and tick > self._last[0]:
            ticks = tick - self._last[0]
            drop_per_tick = (self._last[1] - entropy) / ticks
            cost_tick = spend * scenario.tick_hours
            w = scenario.reward
            # The world's per-tick reward, from the same weights, averaged over the ticks between snapshots.
            metrics["reward"] = w.information_gain * drop_per_tick - w.cost * cost_tick + w.coverage * coverage
            metrics["info gain per $"] = drop_per_tick / cost_tick if cost_tick > 0 else math.nan
        self._last = (tick, entropy)
        return metrics


__all__ = ["EmbeddedInsight", "PolicySource"]
