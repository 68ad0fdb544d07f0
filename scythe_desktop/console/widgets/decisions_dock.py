"""The decisions dock: the policy's pending proposals, Confirm / Reject, Automate mode and the audit trail.

The dock shows what it is given and says what the operator wants; it sends nothing itself. It emits
``confirmRequested(proposal)`` / ``rejectRequested(proposal)`` and ``automateChanged(on)``; the window
sends actions and reports outcomes back with :meth:`DecisionsDock.add_history`. Automate limits are edited
here and read as an :class:`~scythe_desktop.console.model.automate.AutomateLimits` through :meth:`limits`. For a replay
:meth:`set_read_only` disables Confirm, Reject and Automate (their tooltips say why) and the history is
filled with recorded rows (:meth:`add_history_row`, :meth:`clear_history`). The history keeps the newest
``history_limit`` rows (:data:`HISTORY_LIMIT` by default) so that Automate running for days does not grow
memory; the complete trail is the orchestrator's audit log and the recording.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scythe_desktop.console.model.automate import AutomateLimits
from scythe_desktop.engine.proposals import Proposal

_PROPOSAL_HEADERS = ("action", "target", "gain", "cost/h", "confidence", "why")
_HISTORY_HEADERS = ("time", "decision", "action", "target", "outcome")
#: Shown instead of an empty table: the policy offers nothing whose expected effect is negative.
WAIT_MESSAGE = "wait — no action is expected to pay for itself now"
#: Rows the decision history keeps; older rows are dropped from the top (the audit log keeps everything).
HISTORY_LIMIT = 1000


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class DecisionsDock(QDockWidget):
    confirmRequested = Signal(object)
    rejectRequested = Signal(object)
    automateChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, history_limit: int = HISTORY_LIMIT) -> None:
        super().__init__("Decisions", parent)
        if history_limit < 1:
            raise ValueError(f"history_limit must be >= 1 row, got {history_limit}")
        self.setObjectName("decisionsDock")
        self.history_limit = history_limit
        self._proposals: tuple[Proposal, ...] = ()

        self.table = QTableWidget(0, len(_PROPOSAL_HEADERS))
        self.table.setObjectName("proposalsTable")
        self.table.setHorizontalHeaderLabels(_PROPOSAL_HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)

        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("Send the selected proposal to the orchestrator (Ctrl+Return)")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setToolTip("Dismiss the selected proposal (Ctrl+Backspace)")
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.reject_button)
        buttons.addStretch(1)

        self.automate = QCheckBox("Automate (send proposals that pass these guardrails)")
        self.automate.setObjectName("automateCheck")
        self.automate.toggled.connect(self.automateChanged)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.0, 1e6)
        self.budget.setDecimals(2)
        self.budget.setSuffix(" /h")
        self.max_deploys = QSpinBox()
        self.max_deploys.setRange(0, 600)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.0, 1.0)
        self.min_confidence.setSingleStep(0.05)
        self.regions = QListWidget()
        self.regions.setMaximumHeight(90)
        self.regions.setToolTip("Regions automatic deploys and relocations may target; none ticked: anywhere")
        self.set_limits(AutomateLimits())
        form = QFormLayout()
        form.addRow("budget per hour", self.budget)
        form.addRow("max deploys per minute", self.max_deploys)
        form.addRow("minimum confidence", self.min_confidence)
        form.addRow("allowed regions", self.regions)
        rails = QGroupBox("Automate guardrails (checked here; the orchestrator's stay authoritative)")
        rails_layout = QVBoxLayout(rails)
        rails_layout.addWidget(self.automate)
        rails_layout.addLayout(form)
        self.automate_status = QLabel("")
        self.automate_status.setWordWrap(True)
        rails_layout.addWidget(self.automate_status)

        self.history = QTableWidget(0, len(_HISTORY_HEADERS))
        self.history.setObjectName("historyTable")
        self.history.setHorizontalHeaderLabels(_HISTORY_HEADERS)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(QLabel("Pending proposals"))
        layout.addWidget(self.table, 2)
        self.wait_label = QLabel(WAIT_MESSAGE)
        self.wait_label.setObjectName("waitLabel")
        self.wait_label.setToolTip(
            "The policy proposes only moves expected to raise the seed reward over waiting; none does right now"
        )
        self.wait_label.setVisible(False)  # until the policy has answered once
        layout.addWidget(self.wait_label)
        layout.addLayout(buttons)
        layout.addWidget(rails)
        layout.addWidget(QLabel("Decision history (audit trail)"))
        layout.addWidget(self.history, 2)
        self.setWidget(body)

    # ---------------------------------------------------------------------------------------- proposals

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return self._proposals

    def set_proposals(self, proposals: Sequence[Proposal]) -> None:
        """Show the policy's latest proposals (replacing the previous ones), keeping the selected row."""
        selected = self.table.currentRow()
        self._proposals = tuple(proposals)
        self.table.setRowCount(len(self._proposals))
        for row, p in enumerate(self._proposals):
            cells = (
                _item(p.kind),
                _item(p.target),
                _item(f"{p.predicted_information_gain:.3f}", True),
                _item(f"{p.cost_per_hour:+.2f}", True),
                _item(f"{p.confidence:.2f}", True),
                _item(p.explanation),
            )
            for col, cell in enumerate(cells):
                self.table.setItem(row, col, cell)
        if self._proposals:
            self.table.selectRow(min(max(selected, 0), len(self._proposals) - 1))
        self.wait_label.setVisible(not self._proposals)

    def selected_proposal(self) -> Proposal | None:
        row = self.table.currentRow()
        return self._proposals[row] if 0 <= row < len(self._proposals) else None

    def confirm_selected(self) -> None:
        p = self.selected_proposal()
        if p is not None:
            self.confirmRequested.emit(p)

    def reject_selected(self) -> None:
        p = self.selected_proposal()
        if p is not None:
            self.rejectRequested.emit(p)

    def remove_proposal(self, proposal: Proposal) -> None:
        self.set_proposals([p for p in self._proposals if p != proposal])

    # ----------------------------------------------------------------------------------------- automate

    def limits(self) -> AutomateLimits:
        allowed = tuple(
            self.regions.item(i).text()
            for i in range(self.regions.count())
            if self.regions.item(i).checkState() == Qt.CheckState.Checked
        )
        return AutomateLimits(
            budget_per_hour=self.budget.value(),
            max_deploys_per_minute=self.max_deploys.value(),
            min_confidence=self.min_confidence.value(),
            allowed_regions=allowed,
        )

    def set_limits(self, limits: AutomateLimits) -> None:
        self.budget.setValue(limits.budget_per_hour)
        self.max_deploys.setValue(limits.max_deploys_per_minute)
        self.min_confidence.setValue(limits.min_confidence)
        for i in range(self.regions.count()):
            item = self.regions.item(i)
            checked = item.text() in limits.allowed_regions
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_region_names(self, names: Sequence[str], allowed: Sequence[str] = ()) -> None:
        """The world's regions, as tickable items (``allowed`` ticked)."""
        self.regions.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in allowed else Qt.CheckState.Unchecked)
            self.regions.addItem(item)

    # ------------------------------------------------------------------------------------------ history

    def add_history(self, decision: str, proposal: Proposal, outcome: str) -> None:
        """Append one line to the audit trail (newest at the bottom)."""
        self.add_history_row((time.strftime("%H:%M:%S"), decision, proposal.kind, proposal.target, outcome))

    def add_history_row(self, cells: Sequence[str]) -> None:
        """Append one row of (time, decision, action, target, outcome) text, e.g. a recorded decision; the
        oldest rows go once there are more than ``history_limit``."""
        excess = self.history.rowCount() + 1 - self.history_limit
        for _ in range(max(0, excess)):
            self.history.removeRow(0)
        row = self.history.rowCount()
        self.history.insertRow(row)
        for col, text in enumerate(cells):
            self.history.setItem(row, col, _item(text))
        self.history.scrollToBottom()

    def clear_history(self) -> None:
        self.history.setRowCount(0)

    def set_read_only(self, reason: str, details: str = "") -> None:
        """Nothing can be decided here (a replay): Confirm, Reject and Automate are disabled, saying why
        (``details``, if given, follows the reason in the Automate status line)."""
        for widget in (self.confirm_button, self.reject_button, self.automate):
            widget.setEnabled(False)
            widget.setToolTip(reason)
        self.automate.setChecked(False)
        if details:
            self.show_automate_status(f"{reason}. {details}")

    @property
    def automate_on(self) -> bool:
        return self.automate.isChecked()

    def show_automate_status(self, text: str) -> None:
        """What Automate is doing (on, off, holding and why)."""
        self.automate_status.setText(text)

    def history_rows(self) -> list[tuple[str, ...]]:
        """The audit trail as text rows (what the operator sees)."""
        rows = []
        for r in range(self.history.rowCount()):
            items = (self.history.item(r, c) for c in range(self.history.columnCount()))
            rows.append(tuple(item.text() if item is not None else "" for item in items))
        return rows


__all__ = ["DecisionsDock"]
