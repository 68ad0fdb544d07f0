"""The clusters dock: a sortable, filterable table of clusters, the details of what was picked, fly-to.

The table is a :class:`~scythe_desktop.console.widgets.table_models.RecordTableModel` over
:data:`~scythe_desktop.console.model.snapshots.CLUSTER_ROW_DTYPE` rows behind a sorting/filtering proxy. Selecting a
row (or picking on the globe, which calls :meth:`ClustersDock.select_cluster`) shows the cluster's details;
``flyToRequested(lon, lat)`` asks the window to move the camera. It knows Qt and the row dtype only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scythe_desktop.console.widgets.table_models import (
    CLUSTER_COLUMNS,
    CLUSTER_STATES,
    RecordTableModel,
    record_table_view,
    sorting_proxy,
)


def describe_cluster(row: np.void) -> str:
    state = int(row["state"])
    name = CLUSTER_STATES[state] if 0 <= state < len(CLUSTER_STATES) else str(state)
    return (
        f"cluster {int(row['id'])}: {int(row['node_count'])} nodes, {name}, ASN {int(row['asn'])}, "
        f"entropy {float(row['entropy']):.3f}, silence {float(row['silence_pressure']):.2f}, "
        f"coherence {float(row['coherence']):.2f}, at lon {float(row['lon']):.2f}, lat {float(row['lat']):.2f}"
    )


class ClustersDock(QDockWidget):
    flyToRequested = Signal(float, float)
    clusterSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Clusters", parent)
        self.setObjectName("clustersDock")
        self.model = RecordTableModel(CLUSTER_COLUMNS, key="id")
        self.proxy = sorting_proxy(self.model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter (any column, e.g. 'ghost' or an ASN)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = record_table_view("clustersTable", self.proxy)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.view.doubleClicked.connect(lambda _index: self.fly_to_selected())
        self.details = QLabel("Pick a cluster in the table or on the globe.")
        self.details.setObjectName("clusterDetails")
        self.details.setWordWrap(True)
        self.fly_button = QPushButton("Fly to")
        self.fly_button.setToolTip("Point the camera at the selected cluster (F)")
        self.fly_button.clicked.connect(self.fly_to_selected)
        self.status = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.fly_button)
        row.addWidget(self.status, 1)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        layout.addLayout(row)
        self.setWidget(body)

    def set_clusters(self, rows: np.ndarray) -> None:
        self.model.set_records(rows)
        self.status.setText(f"{len(rows)} clusters")
        selected = self.selected_cluster()
        if selected is not None:
            self.details.setText(describe_cluster(selected))

    def selected_cluster(self) -> np.void | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid():
            return None
        source = self.proxy.mapToSource(index)
        return self.model.record(source.row()) if source.isValid() else None

    def select_cluster(self, cluster_id: int) -> bool:
        """Select the cluster with this id (scrolling to it); ``False`` when it is not in the table."""
        row = self.model.row_of_key(cluster_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():  # filtered out: clear the filter so the pick is visible
            self.filter.clear()
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def show_details(self, text: str) -> None:
        self.details.setText(text)

    def set_recorded(self) -> None:
        """A recording plays: it carries no cluster table, so the table stays empty; say so."""
        self.show_details("Recordings carry no cluster table (it comes from an orchestrator's GetClusterTable): "
                          "no clusters are listed in replay.")

    def show_pick(self, cluster_id: int | None, node_text: str | None) -> None:
        """A click on the globe: select the cluster; for a node, show it with its nearest cluster."""
        if cluster_id is not None:
            self.select_cluster(cluster_id)
        if node_text is not None:
            row = self.selected_cluster()
            self.show_details(node_text + (f"\nnearest {describe_cluster(row)}" if row is not None else ""))

    def fly_to_selected(self) -> None:
        row = self.selected_cluster()
        if row is not None:
            self.flyToRequested.emit(float(row["lon"]), float(row["lat"]))

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.selected_cluster()
        if row is not None:
            self.details.setText(describe_cluster(row))
            self.clusterSelected.emit(int(row["id"]))


__all__ = ["ClustersDock", "describe_cluster"]
