"""Confirm, reject, operator actions and Automate: every decision the console sends, and its audit trail.

:class:`DecisionController` turns a confirmed (or Automate-approved) proposal into one ``act`` call on the
live source's client, run by the window's :class:`~scythe_desktop.console.workers.CallWorker`; the outcome
goes to the decisions dock's history, to ``logged`` (decision, outcome) and to the recording. Automate sends
the best proposal its :class:`~scythe_desktop.console.model.automate.AutomateGuard` allows, one action in
flight at a time so the spend it checks is known. A replay has no client: every decision is refused with
:data:`READ_ONLY_REASON`. GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from scythe_desktop.client.grpc_client import OrchestratorClient
from scythe_desktop.console.adapters.globe_view import GlobeView
from scythe_desktop.console.controllers.recording import RecordingController
from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, WorldRules
from scythe_desktop.console.widgets.decisions_dock import DecisionsDock
from scythe_desktop.console.workers import CallOutcome, CallWorker
from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.proposals import Proposal, action_kind, describe_target
from scythe_desktop.protocol.world_wire import WorldInfo

#: Why nothing can be decided while a recording plays (tooltips and the decisions dock).
READ_ONLY_REASON = "Replay is read-only: a recording's decisions were made when it was recorded"


class DecisionController:
    def __init__(self, client: OrchestratorClient | None, calls: CallWorker, dock: DecisionsDock, globe: GlobeView,
                 recorder: RecordingController, notify: Callable[[str], None],
                 logged: Callable[[str, str], None], sent: Callable[[str, Proposal], None],
                 poke_insight: Callable[[], None]) -> None:
        self._client, self._calls, self._dock, self._globe = client, calls, dock, globe
        self._recorder, self._notify, self._logged, self._sent = recorder, notify, logged, sent
        self._poke_insight = poke_insight
        self.guard = AutomateGuard(AutomateLimits())
        self.spend_per_hour = 0.0
        self.rejected: set[Action] = set()
        self._in_flight = False
        dock.confirmRequested.connect(self.confirm)
        dock.rejectRequested.connect(self.reject)
        dock.automateChanged.connect(self._on_automate_changed)

    def _refused_in_replay(self) -> bool:
        if self._client is None:
            self._notify(READ_ONLY_REASON)
        return self._client is None

    def confirm(self, proposal: Proposal) -> None:
        if self._refused_in_replay():
            return
        self._send(proposal, "confirmed")
        self._withdraw(proposal)

    def reject(self, proposal: Proposal) -> None:
        if self._refused_in_replay():
            return
        self.rejected.add(proposal.action)
        self._withdraw(proposal)
        self._log("rejected", proposal, "not sent")
        self._recorder.record_decision("rejected", proposal, ok=True, reason="not sent")

    def request_action(self, action: Action) -> None:
        """An operator action from the observers dock (no proposal behind it)."""
        if self._refused_in_replay():
            return
        proposal = Proposal(action, describe_target(action), float("nan"), 0.0, 1.0, "operator action", "operator")
        self._send(proposal, "operator")

    def show_proposals(self, proposals: tuple[Proposal, ...] | list[Proposal]) -> None:
        """New proposals from the policy: the ones not rejected go to the dock and the globe."""
        self._dock.set_proposals([p for p in proposals if p.action not in self.rejected])
        self._globe.set_proposals(self._dock.proposals)

    def who(self, decision: str) -> str:
        if decision == "automated":
            return "automate"
        subject = self._client.subject if self._client is not None else ""
        return f"operator:{subject or 'local'}"

    def on_world_info(self, info: WorldInfo, stored: tuple[str, ...]) -> None:
        """The world's facts arrived: Automate checks its regions, the dock offers them (``stored`` ticked), and
        the spend rate is the world's."""
        rules = WorldRules.from_world_info(info)
        self.guard = AutomateGuard(self._dock.limits(), rules, self.guard.observer_types)
        self._dock.set_region_names([r.name for r in rules.regions], stored)
        self.spend_per_hour = float(info.spend_per_hour)

    def on_observers(self, rows: Any) -> None:
        """The live observers (``console.model.snapshots`` rows): their spend, and each one's type for Automate."""
        self.spend_per_hour = float(rows["cost_per_hour"].sum())
        self.guard.observer_types = {int(r["observer_id"]): str(r["observer_type"]) for r in rows}

    def _withdraw(self, proposal: Proposal) -> None:
        self._dock.remove_proposal(proposal)
        self._globe.set_proposals(self._dock.proposals)

    def _send(self, proposal: Proposal, decision: str) -> None:
        client = self._client
        assert client is not None  # only live sources act
        request_id = client.new_request_id()
        queued = self._calls.submit(("action", (decision, proposal)),
                                    lambda: client.act(proposal.action, request_id=request_id))
        if not queued:
            self._log(decision, proposal, "not sent: too many actions waiting")
            self._recorder.record_decision(decision, proposal, ok=False, reason="not sent: too many actions waiting")
            if decision == "automated":
                self._in_flight = False
            return
        self._sent(decision, proposal)

    def on_action_done(self, outcome: CallOutcome, payload: Any) -> None:
        decision, proposal = payload
        if decision == "automated":
            self._in_flight = False
        result = outcome.result
        ok = False
        if outcome.error:
            text = f"refused: {outcome.error}"
        elif result is not None and not result.ok:
            text = f"refused: {result.reason}"
        else:
            ok = True
            text = f"ok (observer {result.observer_id}, spend {result.cost_per_hour:.2f}/h)"
            self.spend_per_hour = float(result.cost_per_hour)
            self._poke_insight()
        self._log(decision, proposal, text)
        self._recorder.record_decision(decision, proposal, ok=ok, reason=text,
                                       observer_id=int(result.observer_id) if ok else None,
                                       cost_per_hour=float(result.cost_per_hour) if ok else 0.0)
        self._notify(f"{action_kind(proposal.action)} {proposal.target}: {text}")

    def _log(self, decision: str, proposal: Proposal, outcome: str) -> None:
        self._dock.add_history(decision, proposal, outcome)
        self._logged(decision, outcome)

    def _on_automate_changed(self, on: bool) -> None:
        if on:
            # Limits are read when Automate is switched on; the deploy window carries over.
            self.guard.limits = self._dock.limits()
            self._dock.show_automate_status("Automate on: proposals that pass the guardrails are sent.")
        else:
            self._dock.show_automate_status("Automate off.")

    def automate_step(self) -> None:
        """Send the best proposal the guard allows; one action in flight at a time so spend stays known."""
        if self._in_flight:
            return
        now = time.monotonic()
        held = []
        for proposal in self._dock.proposals:
            verdict = self.guard.check(proposal, self.spend_per_hour, now)
            if verdict.allowed:
                self.guard.record_sent(proposal, now)
                self._in_flight = True
                self._send(proposal, "automated")
                self._withdraw(proposal)
                return
            held.append(verdict.reason)
        if held:
            self._dock.show_automate_status("Automate holding: " + "; ".join(sorted(set(held))))


__all__ = ["READ_ONLY_REASON", "DecisionController"]
