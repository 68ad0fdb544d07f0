"""Qt table models over numpy record arrays: the clusters table and the observers table.

:class:`RecordTableModel` shows the rows of a structured array through a list of :class:`Column` s, each
naming a field and how to print it. ``Qt.DisplayRole`` gives the text, :data:`SORT_ROLE` the raw number
so that a ``QSortFilterProxyModel`` sorts 1000 after 999. Replacing the array with one of the same ids in
the same order only signals ``dataChanged`` (selection and scroll position survive a 10 Hz refresh);
anything else resets the model. GUI thread only; it knows record arrays and Qt, not where they came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView

from scythe_desktop.render.lod import LodTier

#: Role under which every cell returns its sortable raw value.
SORT_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex

CLUSTER_STATES = ("active", "quiet", "activating", "ghost")


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    fmt: Callable[[Any], str] = str


def _fixed(digits: int) -> Callable[[Any], str]:
    return lambda v: f"{float(v):.{digits}f}"


def _state(v: Any) -> str:
    i = int(v)
    return CLUSTER_STATES[i] if 0 <= i < len(CLUSTER_STATES) else f"state {i}"


def _tier(v: Any) -> str:
    return LodTier(int(v)).name.lower().replace("_", "-")


#: Clusters dock columns; ``lod`` is added to the engine's cluster table by the window.
CLUSTER_COLUMNS: tuple[Column, ...] = (
    Column("id", "id"),
    Column("nodeCount", "node_count"),
    Column("state", "state", _state),
    Column("entropy", "entropy", _fixed(3)),
    Column("silencePressure", "silence_pressure", _fixed(2)),
    Column("coherence", "coherence", _fixed(2)),
    Column("ASN", "asn"),
    Column("LOD tier", "lod", _tier),
)

#: Observers dock columns, over :data:`scythe_desktop.console.model.snapshots.OBSERVER_DTYPE` records.
OBSERVER_COLUMNS: tuple[Column, ...] = (
    Column("id", "observer_id"),
    Column("type", "observer_type"),
    Column("lon", "lon", _fixed(2)),
    Column("lat", "lat", _fixed(2)),
    Column("sampling", "sampling_rate", _fixed(2)),
    Column("focus", "focus_cluster", lambda v: "—" if int(v) < 0 else str(int(v))),
    Column("cost/h", "cost_per_hour", _fixed(2)),
    Column("load", "load", _fixed(2)),
    Column("status", "status"),
)


class RecordTableModel(QAbstractTableModel):
    """Rows of a structured numpy array; ``key`` names the field that identifies a row."""

    def __init__(self, columns: Sequence[Column], key: str) -> None:
        super().__init__()
        self._columns = tuple(columns)
        self._key = key
        self._rows: np.ndarray | None = None

    @property
    def records(self) -> np.ndarray | None:
        return self._rows

    def set_records(self, rows: np.ndarray) -> None:
        """Show ``rows`` (kept, not copied: pass an array nobody mutates afterwards)."""
        missing = [c.field for c in self._columns if c.field not in (rows.dtype.names or ())]
        if missing:
            raise ValueError(f"records lack the fields {missing}; have {rows.dtype.names}")
        old = self._rows
        if old is not None and old.shape == rows.shape and np.array_equal(old[self._key], rows[self._key]):
            self._rows = rows
            if len(rows):
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self._columns) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of_key(self, key: int) -> int | None:
        if self._rows is None:
            return None
        hits = np.flatnonzero(self._rows[self._key] == key)
        return int(hits[0]) if hits.size else None

    def record(self, row: int) -> np.void:
        assert self._rows is not None
        return self._rows[row]

    # ---------------------------------------------------------------------------- QAbstractTableModel

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() or self._rows is None else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._rows is None:
            return None
        column = self._columns[index.column()]
        value = self._rows[index.row()][column.field]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.fmt(value)
        if role == SORT_ROLE:
            return value.item() if isinstance(value, np.generic) else value
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, np.number):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section].header
        return None


def record_table_view(name: str, proxy: QSortFilterProxyModel) -> QTableView:
    """A sortable, single-row-selection table over ``proxy`` (object name ``name``), as every dock shows one."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def sorting_proxy(model: RecordTableModel) -> QSortFilterProxyModel:
    """A proxy that sorts by raw values and filters case-insensitively on every column's text."""
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


__all__ = [
    "CLUSTER_COLUMNS",
    "CLUSTER_STATES",
    "OBSERVER_COLUMNS",
    "SORT_ROLE",
    "Column",
    "RecordTableModel",
    "sorting_proxy",
]
