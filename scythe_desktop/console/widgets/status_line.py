"""The status bar's permanent fields: recording, node count, frame rate, sequence number, latency, state.

:class:`StatusLine` owns the labels and the once-a-second frame-rate sample; the window reports draws,
applied batches and state changes to it and never formats these texts itself.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QStatusBar


class StatusLine(QObject):
    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.record, self.nodes, self.fps, self.seq, self.latency, self.state = (
            QLabel(text) for text in ("", "nodes —", "fps —", "seq —", "latency —", "connecting"))
        self.record.setObjectName("recordStatus")
        self.record.setVisible(False)
        for label in (self.record, self.nodes, self.fps, self.seq, self.latency, self.state):
            bar.addPermanentWidget(label)
        self._draws = 0
        self._t0 = time.monotonic()
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._sample_fps)

    def count_draw(self, _event: object = None) -> None:
        self._draws += 1

    def _sample_fps(self) -> None:
        now = time.monotonic()
        fps, self._draws, self._t0 = self._draws / max(now - self._t0, 1e-6), 0, now
        self.fps.setText(f"{fps:.1f} fps")

    def show_batch(self, last_seq: int, received_at: float) -> None:
        self.seq.setText(f"seq {last_seq}")
        latency_ms = (time.monotonic() - received_at) * 1000.0 if received_at else float("nan")
        self.latency.setText(f"latency {latency_ms:.1f} ms")

    def show_nodes(self, n: int, stride: int) -> None:
        self.nodes.setText(f"{n} nodes" if stride == 1 else f"{n} nodes (drawing 1 in {stride}: software GL)")


__all__ = ["StatusLine"]
