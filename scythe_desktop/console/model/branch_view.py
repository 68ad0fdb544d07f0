"""Two futures of one world, as the console shows them: the figures of both over time, where the decisions
differ, and the other timeline's observers at any moment (drawn as ghosts on the globe).

:class:`TwoFutures` is built off the GUI thread from the two recordings (the one on screen, ``shown``, and the
other, ``other``) and is read-only afterwards; :meth:`swapped` is the same pair following the other timeline.
No Qt, no VisPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.recording.compare import Comparison, ObserverTrack, compare, load_series


@dataclass(frozen=True)
class TwoFutures:
    shown: Path  # the recording on screen
    other: Path  # the other future, drawn as ghosts and as the second line of each strip
    branch_s: float  # where the two part (seconds from the start)
    comparison: Comparison  # A = shown, B = other
    other_observers: ObserverTrack
    shown_is_branch: bool = False
    #: Seconds from the start of every tick where the applied decisions differ.
    divergence_marks_s: tuple[float, ...] = field(default=())

    @classmethod
    def load(cls, shown: Path, other: Path, branch_s: float, *, shown_is_branch: bool = False) -> TwoFutures:
        c = compare(load_series(shown), load_series(other))
        hz = c.a.tick_hz
        marks = tuple(d.tick / hz for d in c.decision_differences)
        return cls(shown, other, branch_s, c, ObserverTrack.read(other), shown_is_branch, marks)

    def swapped(self) -> TwoFutures:
        """The same two futures, following the other one."""
        return TwoFutures.load(self.other, self.shown, self.branch_s, shown_is_branch=not self.shown_is_branch)

    @property
    def first_divergence_s(self) -> float | None:
        t = self.comparison.divergence_tick
        return None if t is None else t / self.comparison.a.tick_hz

    def series(self) -> tuple[NDArray[np.float64], dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]]:
        """Seconds of each common tick, and per compared figure (shown, other) at those ticks."""
        c = self.comparison
        seconds = c.ticks / c.a.tick_hz
        return seconds, {m: (c.a_values[m], c.b_values[m]) for m in c.a_values}


__all__ = ["TwoFutures"]
