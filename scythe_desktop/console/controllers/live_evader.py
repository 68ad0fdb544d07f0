"""The globe's evader layer on a live adversarial world (embedded or remote orchestrator).

Every world snapshot carries the orchestrator's window of the evader's last moves
(``ClusterTable.evader_moves``); :class:`LiveEvader` puts each window in place of the layer's, so the layer
shows what a replay of the same world shows (``ReplayController`` feeds it from the recorded channel). A
world without an evader leaves the layer empty. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from scythe_desktop.console.adapters.globe_view import GlobeView
from scythe_desktop.console.model.evader_trail import EvaderTrail
from scythe_desktop.console.model.snapshots import WorldSnapshot


class LiveEvader:
    def __init__(self, globe: GlobeView, notify: Callable[[str], None]) -> None:
        self._globe, self._notify = globe, notify
        self.trail = EvaderTrail()

    def show(self, snap: WorldSnapshot) -> None:
        if not snap.evader:
            return
        for problem in self.trail.replace(snap.tick, snap.evader_moves):
            self._notify(problem)
        self._globe.evader_marks.set_marks(*self.trail.marks())


__all__ = ["LiveEvader"]
