"""World snapshots from a live orchestrator: cluster table, the policy's proposals, metrics, drift.

:class:`InsightController` runs a :class:`~scythe_desktop.console.insight.ClientInsight` in a
:class:`~scythe_desktop.console.workers.PeriodicWorker` and hands each new snapshot (stale ones dropped by
generation) to the window's ``show``. First frame first: the orchestrator loads its policy (torch, SB3:
seconds of CPU) at the first ``Propose``, so proposals are asked for only once a frame has been drawn, or a
moment after the first frame if the window never paints. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, SignalInstance
from PySide6.QtWidgets import QStatusBar

from scythe_desktop.client.source import Source
from scythe_desktop.console.insight import ClientInsight
from scythe_desktop.console.model.snapshots import WorldSnapshot
from scythe_desktop.console.workers import PeriodicWorker
from scythe_desktop.render.lod import LodThresholds
from scythe_desktop.render.scene import GlobeScene

#: Seconds between world snapshots (cluster table, policy proposals, metrics).
INSIGHT_INTERVAL_S = 1.0
#: Status-bar text from the first frame until the orchestrator's policy has answered.
LOADING_POLICY = "loading policy…"
#: Milliseconds after the first applied frame at which proposals are asked for even if nothing was drawn.
PROPOSALS_FALLBACK_MS = 2000


class InsightController(QObject):
    def __init__(self, source: Source, scene: GlobeScene, frames_applied: SignalInstance, status: QStatusBar,
                 notify: Callable[[str], None], show: Callable[[WorldSnapshot], None], parent: QObject) -> None:
        super().__init__(parent)
        self.insight = ClientInsight(source.orchestrator, defer_proposals=True)
        self.worker: PeriodicWorker[WorldSnapshot] = PeriodicWorker("insight", self.insight.snapshot,
                                                                    INSIGHT_INTERVAL_S)
        self.worker.ready.connect(self._on_ready)
        self.worker.problem.connect(notify)
        self._scene, self._frames_applied, self._status, self._show = scene, frames_applied, status, show
        self._generation = 0
        self._frames_seen = False
        self._closed = False
        frames_applied.connect(self._on_first_frame)
        scene.canvas.events.draw.connect(self._on_draw)

    def set_thresholds(self, thresholds: LodThresholds) -> None:
        self.insight.thresholds = thresholds  # read by the next snapshot (one reference swap)

    def stop(self) -> None:
        self._closed = True
        self.insight.cancel()  # ends a call in flight, so the worker stops at once
        self.worker.stop()

    def _on_first_frame(self, _seq: int) -> None:
        # A window that never paints (hidden, minimised) must get its proposals too.
        self._frames_seen = True
        self._frames_applied.disconnect(self._on_first_frame)
        QTimer.singleShot(PROPOSALS_FALLBACK_MS, self._allow_proposals)

    def _on_draw(self, _event: object) -> None:
        if not self._frames_seen:
            return
        self._scene.canvas.events.draw.disconnect(self._on_draw)
        QTimer.singleShot(0, self._allow_proposals)  # after this paint has finished

    def _allow_proposals(self) -> None:
        if self._closed or self.insight.proposals_allowed:
            return
        self.insight.allow_proposals()
        self._status.showMessage(LOADING_POLICY)  # until the first answer (or a problem) replaces it
        self.worker.poke()

    def _on_ready(self) -> None:
        snap = self.worker.slot.take()
        if snap is None or snap.generation <= self._generation:
            return  # stale: a newer snapshot was already shown
        self._generation = snap.generation
        if not snap.proposals_pending and self._status.currentMessage() == LOADING_POLICY:
            self._status.clearMessage()
        self._show(snap)


__all__ = ["INSIGHT_INTERVAL_S", "LOADING_POLICY", "InsightController"]
