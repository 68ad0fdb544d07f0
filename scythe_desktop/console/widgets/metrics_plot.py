"""Live metric strips drawn with QPainter: one small line chart per metric, newest value on the right.

Each metric keeps a fixed-length history (a numpy ring, so a long session never grows memory); the
widget repaints only when :meth:`MetricsPlot.append` adds a sample. No plotting library: a few polylines
are all the console needs, and a second GL context per plot would cost more than it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

_PALETTE = ("#4fc3f7", "#81c784", "#ffb74d", "#e57373", "#ba68c8", "#fff176")


class MetricsPlot(QWidget):
    """Strips for the metrics named in ``names``; ``history`` samples are kept per metric."""

    def __init__(self, names: Sequence[str], history: int = 300, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if history < 2:
            raise ValueError(f"history must be >= 2 samples, got {history}")
        self._names = tuple(names)
        self._values = np.full((len(self._names), history), np.nan)
        self._count = 0
        self.setMinimumHeight(28 * len(self._names))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def samples(self) -> int:
        """Samples appended so far (including those that scrolled out)."""
        return self._count

    def latest(self, name: str) -> float:
        return float(self._values[self._names.index(name), -1])

    def append(self, values: Mapping[str, float]) -> None:
        """Add one sample; metrics missing from ``values`` get a gap (NaN)."""
        self._values = np.roll(self._values, -1, axis=1)
        self._values[:, -1] = [float(values.get(n, np.nan)) for n in self._names]
        self._count += 1
        self.update()

    def clear(self) -> None:
        """Forget every sample (a replay seek: the strips start again from the new position)."""
        self._values[:] = np.nan
        self._count = 0
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#10141c"))
        n = len(self._names)
        if n == 0:
            return
        strip_h = self.height() / n
        width = self.width()
        history = self._values.shape[1]
        for i, name in enumerate(self._names):
            top = i * strip_h
            area = QRectF(4.0, top + 14.0, width - 8.0, strip_h - 18.0)
            series = self._values[i]
            color = QColor(_PALETTE[i % len(_PALETTE)])
            painter.setPen(QColor("#9aa4b2"))
            last = series[-1]
            label = f"{name}: {last:.3g}" if np.isfinite(last) else f"{name}: —"
            painter.drawText(QPointF(6.0, top + 12.0), label)
            finite = np.isfinite(series)
            if finite.sum() < 2 or area.height() <= 1:
                continue
            lo, hi = float(series[finite].min()), float(series[finite].max())
            span = hi - lo if hi > lo else 1.0
            xs = area.left() + area.width() * np.arange(history) / (history - 1)
            ys = area.bottom() - area.height() * (series - lo) / span
            painter.setPen(QPen(color, 1.5))
            # One polyline per run of finite samples, so gaps stay gaps.
            breaks = np.flatnonzero(np.diff(finite.astype(np.int8)) != 0) + 1
            for run in np.split(np.arange(history), breaks):
                if run.size >= 2 and finite[run[0]]:
                    painter.drawPolyline(QPolygonF([QPointF(float(xs[j]), float(ys[j])) for j in run]))
            painter.setPen(QPen(QColor("#2a3140"), 1.0, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(area.left(), area.bottom()), QPointF(area.right(), area.bottom()))
        painter.end()


__all__ = ["MetricsPlot"]
