"""Fetches the fields the operator chose to see — a coverage or occlusion grid, the volumetric field — off the
GUI thread, through the orchestrator client's ``GetField``.

The uncertainty grid already arrives on the frame stream; the others are asked for only while shown, every
few seconds, by a :class:`~scythe_desktop.console.workers.PeriodicWorker` that calls :meth:`FieldFeed.fetch`.
What to fetch is set from the GUI thread (:attr:`FieldFeed.grid_kind`, :attr:`FieldFeed.volume`: plain
attribute writes, read once per fetch). Results are immutable :class:`FieldSnapshot` s. No Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scythe_desktop.client.grpc_client import OrchestratorClient

#: Grids fetched on demand (``uncertainty`` comes with the stream).
FETCHED_GRIDS = ("coverage", "occlusion")
GRID_SHAPE = (90, 180)
#: Edge of the volumetric field fetched for display (software GL pays per voxel sample).
VOLUME_SIZE = 32


@dataclass(frozen=True, slots=True)
class FieldSnapshot:
    generation: int
    grid_kind: str | None
    grid: np.ndarray | None  # engine layout: (H, W), row 0 at the north edge
    volume: np.ndarray | None  # (S, S, S) [z, y, x]


class FieldFeed:
    def __init__(self, make_client: Callable[[], OrchestratorClient]) -> None:
        self._make_client = make_client
        self._client: OrchestratorClient | None = None
        self.grid_kind: str | None = None
        self.volume = False

    def cancel(self) -> None:
        """End a fetch in flight (from any thread), e.g. when the window closes."""
        if self._client is not None:
            self._client.cancel()

    def fetch(self, generation: int) -> FieldSnapshot:
        kind, want_volume = self.grid_kind, self.volume
        if kind not in FETCHED_GRIDS and not want_volume:
            return FieldSnapshot(generation, None, None, None)
        if self._client is None:
            self._client = self._make_client()
        grid = None
        if kind in FETCHED_GRIDS:
            h, w = GRID_SHAPE
            grid = self._client.field(kind, height=h, width=w)
        volume = self._client.field("volume", size=VOLUME_SIZE) if want_volume else None
        return FieldSnapshot(generation, kind if grid is not None else None, grid, volume)


__all__ = ["FETCHED_GRIDS", "VOLUME_SIZE", "FieldFeed", "FieldSnapshot"]
