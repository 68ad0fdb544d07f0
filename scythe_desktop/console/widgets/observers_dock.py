"""The observers dock: the orchestrator's observers and the four actions on a selected one.

Select an observer, then relocate it (to a lon/lat, prefilled with the selected cluster's centre), raise
its sampling rate, focus it on the selected cluster, or decommission it. The dock emits
``actionRequested(action)`` with an engine action value; the window sends it through the orchestrator
client and reports the outcome in the status bar and the audit trail. Qt and the row dtype only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scythe_desktop.console.widgets.table_models import (
    OBSERVER_COLUMNS,
    RecordTableModel,
    record_table_view,
    sorting_proxy,
)
from scythe_desktop.engine.actions import Action, Decommission, Focus, IncreaseSampling, Relocate


class ObserversDock(QDockWidget):
    actionRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Observers", parent)
        self.setObjectName("observersDock")
        self.model = RecordTableModel(OBSERVER_COLUMNS, key="observer_id")
        self.proxy = sorting_proxy(self.model)
        self.view = record_table_view("observersTable", self.proxy)
        self._focus_cluster: int | None = None

        self.lon = QDoubleSpinBox()
        self.lon.setRange(-180.0, 180.0)
        self.lon.setDecimals(2)
        self.lat = QDoubleSpinBox()
        self.lat.setRange(-90.0, 90.0)
        self.lat.setDecimals(2)
        self.relocate_button = QPushButton("Relocate")
        self.sampling_button = QPushButton("Raise sampling")
        self.focus_button = QPushButton("Focus cluster")
        self.decommission_button = QPushButton("Decommission")
        self.relocate_button.clicked.connect(self._relocate)
        self.sampling_button.clicked.connect(lambda: self._on_selected(IncreaseSampling))
        self.focus_button.clicked.connect(self._focus)
        self.decommission_button.clicked.connect(lambda: self._on_selected(Decommission))
        self.hint = QLabel("Select an observer; Focus uses the cluster selected in the clusters dock.")
        self.hint.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("to lon"), 0, 0)
        grid.addWidget(self.lon, 0, 1)
        grid.addWidget(QLabel("lat"), 0, 2)
        grid.addWidget(self.lat, 0, 3)
        grid.addWidget(self.relocate_button, 0, 4)
        buttons = QHBoxLayout()
        for button in (self.sampling_button, self.focus_button, self.decommission_button):
            buttons.addWidget(button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.view, 1)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        self.setWidget(body)

    def set_read_only(self, reason: str) -> None:
        """Observers as recorded: no action can be asked for; the buttons and the hint say why."""
        for button in (self.relocate_button, self.sampling_button, self.focus_button, self.decommission_button):
            button.setEnabled(False)
            button.setToolTip(reason)
        self.hint.setText("Observers as recorded. " + reason + ".")

    def set_observers(self, rows: np.ndarray) -> None:
        self.model.set_records(rows)

    def set_target(self, cluster_id: int, lon: float, lat: float) -> None:
        """The cluster picked elsewhere: the focus target and the default relocation point."""
        self._focus_cluster = cluster_id
        self.lon.setValue(lon)
        self.lat.setValue(lat)

    def selected_observer_id(self) -> int | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid():
            return None
        return int(self.model.record(self.proxy.mapToSource(index).row())["observer_id"])

    def select_observer(self, observer_id: int) -> bool:
        row = self.model.row_of_key(observer_id)
        if row is None:
            return False
        self.view.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())
        return True

    def _emit(self, action: Action) -> None:
        self.actionRequested.emit(action)

    def _on_selected(self, kind: type[IncreaseSampling] | type[Decommission]) -> None:
        oid = self.selected_observer_id()
        if oid is None:
            self.hint.setText("Select an observer first.")
            return
        self._emit(kind(oid))

    def _relocate(self) -> None:
        oid = self.selected_observer_id()
        if oid is None:
            self.hint.setText("Select an observer first.")
            return
        self._emit(Relocate(oid, self.lon.value(), self.lat.value()))

    def _focus(self) -> None:
        oid = self.selected_observer_id()
        if oid is None or self._focus_cluster is None:
            self.hint.setText("Select an observer here and a cluster in the clusters dock first.")
            return
        self._emit(Focus(oid, self._focus_cluster))


__all__ = ["ObserversDock"]
