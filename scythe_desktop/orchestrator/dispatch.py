"""The action pipeline of the orchestrator: validate, deduplicate, guard, apply, audit, remember.

For each of the five actions, in this order:

1. validate the request (request id, finite in-range coordinates, known observer type) →
   INVALID_ARGUMENT naming the field;
2. look up (subject, request_id): a known id returns its first outcome unchanged (``replayed``) and
   never acts again; the same id with different parameters is INVALID_ARGUMENT;
3. check that the observer and cluster ids exist → NOT_FOUND (after the lookup: the retry of a
   decommission that succeeded replays its reply instead of finding no observer);
4. check the guardrails (:mod:`scythe_desktop.orchestrator.guardrails`) → FAILED_PRECONDITION naming the one
   that refused, then the world's own validation;
5. open the audit log for writing (:meth:`~scythe_desktop.orchestrator.audit.AuditLog.transaction`): when it
   cannot be written the request is refused with UNAVAILABLE before anything acts (fail closed);
6. apply it through the deployment backend and the world host (a backend that raises is recorded as an
   INTERNAL outcome, so a retry replays it instead of finding nothing);
7. store the outcome together with the world's new checkpoint (one transaction), then commit its audit row,
   before answering.

Steps 2–7 run under one lock, so two retries racing each other still act once. Every refusal is audited too;
one that cannot be is answered UNAVAILABLE. ``SetGuardrails`` goes through :meth:`ActionDesk.set_rails`:
validated, audited first, then stored with the world state (a restart keeps it) and applied. The desk speaks
domain types: a :class:`~scythe_desktop.orchestrator.requests.ActionRequest` in, an
:class:`~scythe_desktop.engine.actions.ActionOutcome` or an ``ActionRefused`` carrying a ``Verdict`` out;
the servicers translate to and from the wire (:mod:`scythe_desktop.orchestrator.wire`). Knows the world host,
the store and the audit log; nothing of gRPC, protobuf, servers or channels.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from scythe_desktop.engine.actions import ActionOutcome, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.observers import cost_per_hour
from scythe_desktop.orchestrator import guardrails
from scythe_desktop.orchestrator.audit import AuditLog, AuditUnavailable
from scythe_desktop.orchestrator.requests import (
    ActionRefused,
    ActionRequest,
    Parsed,
    Verdict,
    audited_id,
    parse,
    refused_summary,
)
from scythe_desktop.orchestrator.store import (
    IDEMPOTENCY_WINDOW_REQUESTS,
    IDEMPOTENCY_WINDOW_S,
    MemoryOutcomes,
    StateStore,
    StoredOutcome,
)

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.backends import Backend
    from scythe_desktop.orchestrator.world_host import WorldHost

log = logging.getLogger(__name__)
#: The request id of audit rows that answer no action request (SetGuardrails carries none).
NO_REQUEST_ID = "-"


class ActionDesk:
    """Runs every action request through the pipeline above."""

    def __init__(self, host: WorldHost, backend: Backend, store: StateStore | None, audit: AuditLog | None) -> None:
        self._host = host
        self._backend = backend
        self._store = store
        self._audit = audit
        self._lock = threading.Lock()
        # Without a state directory, outcomes live in memory with the same window.
        self._memory = MemoryOutcomes()
        self.rails = self._stored_rails() or guardrails.Guardrails.from_scenario(host.scenario)

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def window(self) -> tuple[float, int]:
        """(seconds, requests) for which outcomes are kept."""
        if self._store is not None:
            return self._store.window_s, self._store.window_requests
        return IDEMPOTENCY_WINDOW_S, IDEMPOTENCY_WINDOW_REQUESTS

    def _stored_rails(self) -> guardrails.Guardrails | None:
        text = self._store.get_meta("guardrails") if self._store is not None else None
        if text is None:
            return None
        try:
            return guardrails.Guardrails.from_json(str(text)).validated(self._host.scenario)
        except (ValueError, KeyError, TypeError) as exc:  # refuse to start rather than loosen the rails
            raise ValueError(f"the state directory's guardrails do not fit scenario {self._host.scenario.name!r}: "
                             f"{exc}") from None

    def set_rails(self, subject: str, rails: guardrails.Guardrails) -> guardrails.Guardrails:
        """Replace the guardrails: validated (INVALID_ARGUMENT), audited before they apply (UNAVAILABLE when the
        log cannot be written: nothing changes), stored with the world state, then applied."""
        change = Parsed("set_guardrails", rails.as_dict())
        with self._lock:  # never between the check and the apply of an action
            try:
                rails.validated(self._host.scenario)
            except ValueError as exc:
                self._audit_append(subject, NO_REQUEST_ID, change, "not reached", "INVALID_ARGUMENT", str(exc))
                raise ActionRefused(Verdict.INVALID_ARGUMENT, str(exc)) from None
            self._audit_append(subject, NO_REQUEST_ID, change, "passed", "OK", "")
            if self._store is not None:
                self._store.put_meta(guardrails=rails.to_json())
            self.rails = rails
            return rails

    def _parse(self, request: ActionRequest) -> Parsed:
        return parse(request, self._host.scenario)

    # ----------------------------------------------------------------------------------- guardrails

    def _guard(self, parsed: Parsed) -> guardrails.Refusal | None:
        host, scenario, a = self._host, self._host.scenario, parsed.action
        obs = host.observers()
        live, spend = len(obs), float(obs["cost_per_hour"].sum())
        if isinstance(a, Deploy):
            t_index = [t.name for t in scenario.observer_types].index(a.observer_type or "")
            t = scenario.observer_types[t_index]
            return guardrails.check(
                self.rails,
                scenario,
                live_instances=live,
                spend_per_hour=spend,
                added_instances=1,
                added_cost_per_hour=cost_per_hour(scenario, t_index, t.sampling_rate),
                target=(a.lon, a.lat),
                latency_ms=t.latency_ms,
            )
        if isinstance(a, Relocate):
            row = obs[host.observer_row(a.observer_id)]
            latency = scenario.observer_types[int(row["type"])].latency_ms
            return guardrails.check(
                self.rails,
                scenario,
                live_instances=live,
                spend_per_hour=spend,
                target=(a.lon, a.lat),
                latency_ms=latency,
            )
        if isinstance(a, IncreaseSampling):
            row = obs[host.observer_row(a.observer_id)]
            t_index = int(row["type"])
            rate = float(row["sampling_rate"])
            new_rate = min(2.0 * rate, scenario.observer_types[t_index].max_sampling_rate)
            extra = cost_per_hour(scenario, t_index, new_rate) - cost_per_hour(scenario, t_index, rate)
            return guardrails.check(
                self.rails, scenario, live_instances=live, spend_per_hour=spend, added_cost_per_hour=extra
            )
        return None

    # ------------------------------------------------------------------------------------- pipeline

    def handle(self, subject: str, request: ActionRequest) -> ActionOutcome:
        """The outcome of an action request, or :class:`ActionRefused` (possibly a replayed refusal)."""
        request_id = request.request_id
        try:
            parsed = self._parse(request)
        except ActionRefused as exc:
            # Refused before any lookup; audited too, with a bounded summary of the request (size, hash).
            summary = refused_summary(request)
            self._audit_append(subject, audited_id(request_id), summary, "not reached", exc.verdict.name, str(exc))
            raise
        fingerprint = json.dumps([parsed.name, parsed.params], sort_keys=True)
        with self._lock:
            stored = self._recall(subject, request_id)
            if stored is not None:
                return self._replay(subject, request_id, parsed, fingerprint, stored)
            gone = self._vanished(parsed)
            if gone is not None:  # unknown, or removed by another request after this one was parsed
                self._audit_append(subject, request_id, parsed, "not reached", "NOT_FOUND", gone)
                raise ActionRefused(Verdict.NOT_FOUND, gone)
            refusal = self._guard(parsed)
            if refusal is not None:
                outcome = StoredOutcome(fingerprint, Verdict.FAILED_PRECONDITION, str(refusal), b"")
                self._finish(subject, request_id, parsed, outcome, f"refused: {refusal.guardrail}")
                raise ActionRefused(Verdict.FAILED_PRECONDITION, str(refusal))
            assert parsed.action is not None
            reason = self._host.validate(parsed.action)
            if reason is not None:
                message = f"world refused {parsed.name}: {reason}"
                outcome = StoredOutcome(fingerprint, Verdict.FAILED_PRECONDITION, message, b"")
                self._finish(subject, request_id, parsed, outcome, "passed")
                raise ActionRefused(Verdict.FAILED_PRECONDITION, message)
            # The world's new state and the outcome commit together: a crash between two separate commits
            # let a retry act again (found by the restart suite, R1). Nothing acts unless the audit log can
            # be written; the row commits before the answer.
            with self._audited(), self._host.atomic_action():
                try:
                    result, tick = self._backend.apply(self._host, parsed.action)
                except Exception as exc:  # the world may have changed: record it, so a retry replays this
                    log.exception("%s %s: the %s backend failed", subject, parsed.name, self._backend.name)
                    message = f"{parsed.name} failed in the {self._backend.name} backend: {type(exc).__name__}"
                    outcome = StoredOutcome(fingerprint, Verdict.INTERNAL, message, b"")
                    self._finish(subject, request_id, parsed, outcome, "passed", world=self._host.checkpoint_meta())
                    raise ActionRefused(Verdict.INTERNAL, message) from None
                reply = ActionOutcome(request_id, result.ok, result.reason, result.observer_id or 0,
                                      result.cost_per_hour, tick)
                outcome = StoredOutcome(fingerprint, Verdict.OK, result.reason, reply.to_json())
                self._finish(subject, request_id, parsed, outcome, "passed", world=self._host.checkpoint_meta())
            return reply

    def _vanished(self, parsed: Parsed) -> str | None:
        """The observer or cluster the action names, when it does not exist (checked under the lock and after
        the replay lookup: a retry of a decommission that succeeded must replay, not find no observer)."""
        oid = getattr(parsed.action, "observer_id", None)
        if oid is not None and self._host.observer_row(oid) is None:
            return f"observer_id {oid} not found"
        if isinstance(parsed.action, Focus) and not self._host.has_cluster(parsed.action.cluster_id):
            return f"cluster_id {parsed.action.cluster_id} not found"
        return None

    def _recall(self, subject: str, request_id: str) -> StoredOutcome | None:
        if self._store is not None:
            return self._store.outcome(subject, request_id)
        return self._memory.outcome(subject, request_id)

    def _replay(
        self, subject: str, request_id: str, parsed: Parsed, fingerprint: str, stored: StoredOutcome
    ) -> ActionOutcome:
        if stored.fingerprint != fingerprint:
            self._audit_append(
                subject,
                request_id,
                parsed,
                "not reached",
                "INVALID_ARGUMENT",
                "request_id reused with different parameters",
                replayed=True,
            )
            raise ActionRefused(
                Verdict.INVALID_ARGUMENT,
                f"request_id {request_id!r} was already used for a different {parsed.name} request",
            )
        verdict = Verdict(stored.code)
        self._audit_append(subject, request_id, parsed, "replayed", verdict.name, stored.message, replayed=True)
        if verdict is not Verdict.OK:
            raise ActionRefused(verdict, stored.message)
        return ActionOutcome.from_json(stored.reply)

    def _finish(
        self,
        subject: str,
        request_id: str,
        parsed: Parsed,
        outcome: StoredOutcome,
        guard: str,
        *,
        world: dict[str, bytes | str | int | float] | None = None,
    ) -> None:
        # Outcome (with the world checkpoint) first, then the audit row: a crash between them leaves an
        # action whose retry is answered as a replay, and the replay is audited.
        if self._store is not None:
            self._store.remember(subject, request_id, outcome, meta=world)
        else:
            self._memory.remember(subject, request_id, outcome)
        self._audit_append(subject, request_id, parsed, guard, Verdict(outcome.code).name, outcome.message)

    def _audit_append(
        self,
        subject: str,
        request_id: str,
        parsed: Parsed,
        guard: str,
        result: str,
        message: str,
        *,
        replayed: bool = False,
    ) -> None:
        if self._audit is None:
            return
        try:
            self._audit.append(subject=subject, request_id=request_id, action=parsed.name, params=parsed.params,
                               guardrail=guard, result=result, message=message, replayed=replayed)
        except AuditUnavailable as exc:
            raise _unaudited(exc) from None

    @contextmanager
    def _audited(self) -> Iterator[None]:
        """Around an action: UNAVAILABLE before it when the audit log cannot be written, and after it when its
        row could not be committed (the row waits in memory; the stored outcome answers the client's retry)."""
        if self._audit is None:
            yield
            return
        try:
            with self._audit.transaction():
                yield
        except AuditUnavailable as exc:
            raise _unaudited(exc) from None


def _unaudited(exc: AuditUnavailable) -> ActionRefused:
    log.error("refusing to act: %s", exc)
    return ActionRefused(Verdict.UNAVAILABLE, f"{exc}; the server refuses to act until it can audit")
