"""The evader's recent moves, as the globe's evader layer draws them: the last ``keep_ticks`` ticks of a
recording's ``/scythe/evader`` channel (:meth:`EvaderTrail.add`) or of a live orchestrator's window of moves
(:meth:`EvaderTrail.replace`), each move with its age. Qt-free; a seek starts it afresh."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
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
        self.tick = max(self.tick, int(message.tick))
        problems = [self._keep(int(message.tick), m.kind, int(m.cluster_id), m.lon, m.lat, "recorded evader move")
                    for m in message.moves]
        self._prune()
        return [p for p in problems if p]

    def replace(self, tick: int, moves: Iterable[tuple[int, str, int, float, float]]) -> list[str]:
        """A live orchestrator's window of moves (tick, kind, cluster id, lon, lat), oldest first, at world
        tick ``tick``, in place of the moves kept. Consecutive windows overlap: moves after the previous
        window's tick are counted, and only they report a problem line (each is said once)."""
        last = self.tick
        self._moves.clear()
        self.tick = max(self.tick, int(tick))
        problems = []
        for t, kind, cluster_id, lon, lat in moves:
            new = int(t) > last
            problem = self._keep(int(t), kind, int(cluster_id), lon, lat, "evader move", count=new)
            if problem and new:
                problems.append(problem)
        self._prune()
        return problems

    def _keep(self, tick: int, kind: str, cluster_id: int, lon: float, lat: float, what: str,
              count: bool = True) -> str:
        if kind not in KINDS:
            return f"{what}: unknown kind {kind!r}"
        if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180.0 and abs(lat) <= 90.0):
            return f"{what} {kind} of cluster {cluster_id}: no position"
        self._moves.append((tick, KINDS.index(kind), float(lon), float(lat)))
        if count:
            self.counts[kind] += 1
        return ""

    def _prune(self) -> None:
        while self._moves and self._moves[0][0] <= self.tick - self.keep_ticks:
            self._moves.popleft()

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
