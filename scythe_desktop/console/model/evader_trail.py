"""The evader's recent moves, as the globe's evader layer draws them: the last ``keep_ticks`` ticks of a
recording's ``/scythe/evader`` channel, each move with its age. Qt-free; a seek starts it afresh."""

from __future__ import annotations

from collections import deque
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

#: Move kinds in the layer's order (``engine.batch.evader.MOVE_NAMES`` without "none").
KINDS: Final = ("quiet", "activate", "shift", "decoy")


class EvaderTrail:
    """Moves of the last ``keep_ticks`` ticks: (tick, kind index, lon, lat) each."""

    def __init__(self, keep_ticks: int = 30) -> None:
        if keep_ticks < 1:
            raise ValueError(f"keep_ticks must be >= 1, got {keep_ticks}")
        self.keep_ticks = keep_ticks
        self._moves: deque[tuple[int, int, float, float]] = deque()
        self.tick = 0
        self.counts = dict.fromkeys(KINDS, 0)  # every move seen since the last clear, by kind

    def add(self, message: Any) -> list[str]:
        """One recorded ``EvaderMoves``; returns a problem line per move that cannot be drawn."""
        problems = []
        self.tick = max(self.tick, int(message.tick))
        for m in message.moves:
            if m.kind not in KINDS:
                problems.append(f"recorded evader move: unknown kind {m.kind!r}")
                continue
            if not (np.isfinite(m.lon) and np.isfinite(m.lat) and abs(m.lon) <= 180.0 and abs(m.lat) <= 90.0):
                problems.append(f"recorded evader move {m.kind} of cluster {m.cluster_id}: no position")
                continue
            self._moves.append((int(message.tick), KINDS.index(m.kind), float(m.lon), float(m.lat)))
            self.counts[m.kind] += 1
        while self._moves and self._moves[0][0] <= self.tick - self.keep_ticks:
            self._moves.popleft()
        return problems

    def marks(self) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """(lonlat (M, 2), kinds (M,), ages (M,) in [0, 1)) of the moves kept, oldest first."""
        if not self._moves:
            return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0)
        a = np.array(self._moves, dtype=np.float64)
        return a[:, 2:4], a[:, 1].astype(np.int64), (self.tick - a[:, 0]) / self.keep_ticks

    def clear(self) -> None:
        self._moves.clear()
        self.tick = 0
        self.counts = dict.fromkeys(KINDS, 0)


__all__ = ["KINDS", "EvaderTrail"]
