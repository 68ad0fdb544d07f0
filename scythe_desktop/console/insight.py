"""What the console learns about the world beyond the frame stream: cluster table, proposals, metrics, drift.

:class:`ClientInsight` asks any ``scythe.v1`` orchestrator — the embedded one in this process and a remote
one alike, through the same :class:`~scythe_desktop.client.grpc_client.OrchestratorClient` — for its cluster table
(``GetClusterTable``) and its policy's proposals (``Propose``; the orchestrator runs the policy), and derives
the metrics plots' values from consecutive tables. Gradient-drift arrows come from the uncertainty grid
(``GetField``) and the observer list with numpy (:func:`drift_from_grid`): the grid is already in the
contract (and in recordings), so the arrows need no RPC of their own. It runs in a worker thread and returns
an immutable :class:`~scythe_desktop.console.model.snapshots.WorldSnapshot`. Actions are never sent from here. No Qt,
and no access to any world object.

Proposals can be deferred (``defer_proposals``) until :meth:`ClientInsight.allow_proposals`: the first
``Propose`` makes the orchestrator load its policy (torch and Stable-Baselines3, seconds of CPU), which
the console must not compete with while it draws its first frame. Until then snapshots carry the table
and ``proposals_pending``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.client.grpc_client import ClusterTable, OrchestratorClient, OrchestratorError
from scythe_desktop.console.model.snapshots import WorldSnapshot, cluster_rows
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.protocol.cluster_table import CLUSTER_WIRE_DTYPE
from scythe_desktop.render.lod import LodThresholds

#: Display length (degrees) of a gradient-drift arrow.
DRIFT_DEG: Final = 4.0
#: The uncertainty grid the drift is computed on: 1° cells (the field's bumps are ≥ 2° wide).
DRIFT_GRID: Final = (180, 360)


def drift_from_grid(grid: NDArray[np.floating], lon: NDArray[np.floating], lat: NDArray[np.floating]) -> np.ndarray:
    """(lon, lat, d_lon, d_lat) per point: the direction of steepest ascent of ``grid``, DRIFT_DEG long.

    ``grid`` is (H, W) in the wire layout (row 0 the north edge, column 0 at lon -180°, cells centred); the
    gradient is taken by central differences (wrapping in longitude) and interpolated bilinearly.
    """
    g = np.asarray(grid, dtype=np.float64)
    h, w = g.shape
    cell_lat, cell_lon = 180.0 / h, 360.0 / w
    d_lon = (np.roll(g, -1, axis=1) - np.roll(g, 1, axis=1)) / (2 * cell_lon)
    d_lat = -np.gradient(g, cell_lat, axis=0)  # rows run southward
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    r = np.clip((90.0 - lat) / cell_lat - 0.5, 0.0, h - 1.0)
    c = ((lon + 180.0) / cell_lon - 0.5) % w
    r0 = np.minimum(np.floor(r).astype(np.int64), h - 2) if h > 1 else np.zeros(len(r), np.int64)
    c0 = np.floor(c).astype(np.int64) % w
    fr, fc = r - r0, c - np.floor(c)
    r1, c1 = np.minimum(r0 + 1, h - 1), (c0 + 1) % w

    def at(field: np.ndarray) -> np.ndarray:
        top = field[r0, c0] * (1 - fc) + field[r0, c1] * fc
        bottom = field[r1, c0] * (1 - fc) + field[r1, c1] * fc
        return np.asarray(top * (1 - fr) + bottom * fr)

    gx, gy = at(d_lon), at(d_lat)
    norm = np.hypot(gx, gy)
    scale = np.divide(DRIFT_DEG, norm, out=np.zeros_like(norm), where=norm > 0)
    return np.stack([lon, lat, gx * scale, gy * scale], axis=1) if len(lon) else np.zeros((0, 4))


def _empty(generation: int, problem: str) -> WorldSnapshot:
    return WorldSnapshot(generation, 0, cluster_rows(np.zeros(0, CLUSTER_WIRE_DTYPE)), (), {}, problem)


class ClientInsight:
    """Snapshots of an orchestrator through its client (one per insight, made in the worker thread)."""

    def __init__(self, make_client: Callable[[], OrchestratorClient], *, limit: int = 5,
                 thresholds: LodThresholds | None = None, defer_proposals: bool = False) -> None:
        self._make_client = make_client
        self._proposals_allowed = threading.Event()
        if not defer_proposals:
            self._proposals_allowed.set()
        self._client: OrchestratorClient | None = None
        self.limit = limit
        self.thresholds = thresholds
        self._last: tuple[int, float] | None = None  # (tick, total entropy) of the previous snapshot
        self._unsupported = False  # the orchestrator answered UNIMPLEMENTED: stop asking

    @property
    def proposals_allowed(self) -> bool:
        return self._proposals_allowed.is_set()

    def allow_proposals(self) -> None:
        """Ask the orchestrator's policy from the next snapshot on (callable from any thread)."""
        self._proposals_allowed.set()

    def cancel(self) -> None:
        """End a call in flight (from any thread), e.g. when the window closes."""
        if self._client is not None:
            self._client.cancel()

    def snapshot(self, generation: int) -> WorldSnapshot:
        if self._client is None:
            self._client = self._make_client()
        client = self._client
        if self._unsupported:
            return _empty(generation, "")
        try:
            table = client.cluster_table()
        except OrchestratorError as exc:
            if exc.status != "UNIMPLEMENTED":
                raise
            self._unsupported = True  # said once; later snapshots are empty without a call
            return _empty(generation, "this orchestrator offers no GetClusterTable (an older scythe.v1): "
                                      "no cluster table, metrics or proposals")
        proposals: tuple[Proposal, ...] = ()
        problem = ""
        pending = not self._proposals_allowed.is_set()
        try:
            if not pending:
                proposals = client.propose(self.limit).proposals
        except OrchestratorError as exc:  # the orchestrator's policy failed: keep the table, say why
            if exc.status != "FAILED_PRECONDITION":
                raise
            problem = exc.details
        observers = client.list_observers().observers
        drift = np.zeros((0, 4))
        if observers:
            grid = client.field("uncertainty", height=DRIFT_GRID[0], width=DRIFT_GRID[1])
            drift = drift_from_grid(grid, np.array([o.lon for o in observers]), np.array([o.lat for o in observers]))
        rows = cluster_rows(table.rows, self.thresholds)
        return WorldSnapshot(generation, table.tick, rows, proposals, self._metrics(table), problem, drift,
                             proposals_pending=pending, evader=table.evader, evader_moves=table.evader_moves)

    def _metrics(self, table: ClusterTable) -> dict[str, float]:
        rows, tick, spend = table.rows, table.tick, table.spend_per_hour
        entropy = float(rows["entropy"].sum())
        coverage = float(1.0 - rows["coverage_deficit"].mean()) if len(rows) else math.nan
        metrics = {"total entropy": entropy, "coverage": coverage, "cost/hour": spend,
                   "activations caught": float(table.activations[0]), "activations evaded": float(table.activations[1])}
        if self._last is not None and tick > self._last[0]:
            drop_per_tick = (self._last[1] - entropy) / (tick - self._last[0])
            cost_tick = spend * table.tick_hours
            w_gain, w_cost, w_coverage = table.reward_weights
            # The world's per-tick reward, from the same weights, averaged over the ticks between snapshots.
            metrics["reward"] = w_gain * drop_per_tick - w_cost * cost_tick + w_coverage * coverage
            metrics["info gain per $"] = drop_per_tick / cost_tick if cost_tick > 0 else math.nan
        self._last = (tick, entropy)
        return metrics


__all__ = ["DRIFT_DEG", "DRIFT_GRID", "ClientInsight", "drift_from_grid"]
