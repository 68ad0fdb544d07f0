"""Two read-only docks: live metrics plots and the connection's details.

:class:`MetricsDock` wraps a :class:`~scythe_desktop.console.widgets.metrics_plot.MetricsPlot` of the console's
metrics (total entropy, coverage, cost per hour, reward, information gain per dollar; and activations caught and
evaded once a sample carries them). :class:`ConnectionDock`
shows the source, address, transport security, token status, connection state and the last problem. Both
only display what the window gives them.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QDockWidget, QFormLayout, QLabel, QWidget

from scythe_desktop.console.widgets.metrics_plot import MetricsPlot

#: The metrics plotted, in order (keys of the dicts the window appends).
METRICS = ("total entropy", "coverage", "cost/hour", "reward", "info gain per $")
#: Strips added the first time a sample carries them: the engine's tally of activations (recordings made by
#: ``scythe simulate`` carry it; the live cluster table does not).
TALLIES = ("activations caught", "activations evaded")


class MetricsDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Metrics", parent)
        self.setObjectName("metricsDock")
        self.plot = MetricsPlot(METRICS)
        self.setWidget(self.plot)

    def append(self, values: Mapping[str, float]) -> None:
        if any(n in values for n in TALLIES) and TALLIES[0] not in self.plot.names:
            self.plot = MetricsPlot((*METRICS, *TALLIES))  # from the first tallied sample on
            self.setWidget(self.plot)
        self.plot.append(values)

    def clear(self) -> None:
        self.plot.clear()

    def set_recorded(self) -> None:
        """The samples come from a recording, not from a live orchestrator."""
        self.setWindowTitle("Metrics (as recorded)")


class ConnectionDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Connection", parent)
        self.setObjectName("connectionDock")
        self._labels: dict[str, QLabel] = {}
        body = QWidget()
        form = QFormLayout(body)
        for key in ("source", "address", "transport", "token", "state", "last problem"):
            label = QLabel("—")
            label.setWordWrap(True)
            label.setObjectName(f"connection_{key.replace(' ', '_')}")
            self._labels[key] = label
            form.addRow(key, label)
        self.setWidget(body)

    def set_field(self, key: str, text: str) -> None:
        if key not in self._labels:
            raise KeyError(f"unknown connection field {key!r}; have {sorted(self._labels)}")
        self._labels[key].setText(text)

    def field(self, key: str) -> str:
        return self._labels[key].text()


__all__ = ["METRICS", "ConnectionDock", "MetricsDock"]
