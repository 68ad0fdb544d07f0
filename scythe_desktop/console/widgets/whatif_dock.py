"""What if, on screen: the dialog that asks for a branch, and the dock that shows two futures side by side.

:class:`WhatIfDialog` asks where to branch (the replay's current time by default), and how the future differs:
another policy from there on, or one recorded decision flipped. :class:`WhatIfDock` shows the branch's progress
while it runs, then one strip per compared figure with both futures overlaid (the one on screen in blue, the
other in orange), the branch point (dashed), ticks where the decisions differ (red) and the replay's position;
its button follows the other timeline. Widgets only: the controller gives them what to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from scythe_desktop.recording.compare import SERIES
from scythe_desktop.recording.durations import format_duration, parse_duration, parse_time

SHOWN_COLOR, OTHER_COLOR = "#4fc3f7", "#ffa726"


class TwoFuturesPlot(QWidget):
    """One strip per figure, both futures overlaid over the whole common time range."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds: NDArray[np.float64] = np.zeros(0)
        self.series: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        self.branch_s: float | None = None
        self.marks_s: tuple[float, ...] = ()
        self.cursor_s: float | None = None
        self.setMinimumHeight(30 * len(SERIES))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, seconds: NDArray[np.float64], series: Mapping[str, tuple[NDArray[np.float64],
                 NDArray[np.float64]]], branch_s: float, marks_s: Sequence[float]) -> None:
        self.seconds, self.series = seconds, dict(series)
        self.branch_s, self.marks_s = branch_s, tuple(marks_s)
        self.update()

    def set_cursor(self, seconds: float) -> None:
        if self.cursor_s != seconds:
            self.cursor_s = seconds
            self.update()

    def _x(self, area: QRectF, s: float) -> float:
        lo, hi = float(self.seconds[0]), float(self.seconds[-1])
        return area.left() + area.width() * (s - lo) / (hi - lo if hi > lo else 1.0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#10141c"))
        if self.seconds.size < 2:
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        strip_h = self.height() / len(SERIES)
        stride = max(1, self.seconds.size // max(1, self.width()))  # about one point per pixel
        for i, (label, metric) in enumerate(SERIES):
            if metric not in self.series:
                continue
            area = QRectF(4.0, i * strip_h + 14.0, self.width() - 8.0, strip_h - 18.0)
            shown, other = self.series[metric]
            lo, hi = float(min(shown.min(), other.min())), float(max(shown.max(), other.max()))
            span = hi - lo if hi > lo else 1.0
            painter.setPen(QColor("#9aa4b2"))
            painter.drawText(QPointF(6.0, i * strip_h + 12.0),
                             f"{label}: {shown[-1]:.1f} here, {other[-1]:.1f} in the other future")
            for values, color in ((shown, SHOWN_COLOR), (other, OTHER_COLOR)):
                xs = [self._x(area, float(s)) for s in self.seconds[::stride]]
                ys = area.bottom() - area.height() * (values[::stride] - lo) / span
                painter.setPen(QPen(QColor(color), 1.4))
                painter.drawPolyline(QPolygonF([QPointF(x, float(y)) for x, y in zip(xs, ys, strict=True)]))
            painter.setPen(QPen(QColor("#e53935"), 1.0))
            for s in self.marks_s[:500]:
                x = self._x(area, s)
                painter.drawLine(QPointF(x, area.top()), QPointF(x, area.top() + 4.0))
            if self.branch_s is not None:
                painter.setPen(QPen(QColor("#e53935"), 1.0, Qt.PenStyle.DashLine))
                x = self._x(area, self.branch_s)
                painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            if self.cursor_s is not None:
                painter.setPen(QPen(QColor("#eceff1"), 1.0))
                x = self._x(area, self.cursor_s)
                painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        painter.end()


class WhatIfDock(QDockWidget):
    followRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What if", parent)
        self.setObjectName("whatIfDock")
        self.summary = QLabel("No branch yet: Replay › What if… (W) branches the recording at the current time.")
        self.summary.setObjectName("whatIfSummary")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.follow = QPushButton("Follow the other future")
        self.follow.setObjectName("whatIfFollow")
        self.follow.setEnabled(False)
        self.follow.clicked.connect(self.followRequested.emit)
        self.plot = TwoFuturesPlot()
        legend = QLabel(f"<span style='color:{SHOWN_COLOR}'>━ this recording</span> &nbsp; "
                        f"<span style='color:{OTHER_COLOR}'>━ the other future</span> &nbsp; "
                        "<span style='color:#e53935'>┆ branch point, ╵ decisions differ</span>")
        row = QHBoxLayout()
        row.addWidget(legend)
        row.addStretch(1)
        row.addWidget(self.follow)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.setWidget(body)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def show_problem(self, text: str) -> None:
        self.progress.setVisible(False)
        self.summary.setText(f"What if failed: {text}")


class WhatIfDialog(QDialog):
    """Where to branch and what changes; :meth:`values` reads it back (ValueError names a bad field)."""

    def __init__(self, at_s: float, duration_s: float, policies: Sequence[str],
                 decisions: Sequence[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("What if…")
        self.at = QLineEdit(format_duration(at_s))
        self.duration = QLineEdit(format_duration(duration_s))
        self.by_policy = QRadioButton("another policy decides from then on")
        self.by_flip = QRadioButton("flip one recorded decision (applied ⇄ rejected)")
        group = QButtonGroup(self)
        for button in (self.by_policy, self.by_flip):
            group.addButton(button)
        self.policy = QComboBox()
        self.policy.addItems(list(policies))
        self.decision = QComboBox()
        for decision_id, text in decisions:
            self.decision.addItem(text, decision_id)
        self.decision.setCurrentIndex(self.decision.count() - 1)
        self.by_flip.setEnabled(bool(decisions))
        self.by_policy.setChecked(True)
        form = QFormLayout(self)
        form.addRow("branch at", self.at)
        form.addRow(self.by_policy)
        form.addRow("policy", self.policy)
        form.addRow(self.by_flip)
        form.addRow("decision", self.decision)
        form.addRow("run for", self.duration)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[float | None, str | None, tuple[int, ...], float]:
        """(branch time or None for "at the flipped decision", policy or None, flips, duration in seconds)."""
        duration = parse_duration(self.duration.text())
        if self.by_flip.isChecked():
            return None, None, (int(self.decision.currentData()),), duration
        return parse_time(self.at.text()), self.policy.currentText(), (), duration


__all__ = ["TwoFuturesPlot", "WhatIfDialog", "WhatIfDock"]
