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
5. apply it through the deployment backend and the world host;
6. store the outcome together with the world's new checkpoint (one transaction), then append to the
   audit log, before answering.

Steps 2–6 run under one lock, so two retries racing each other still act once. Errors are
:class:`ActionRefused` carrying the gRPC status; the servicer turns them into ``context.abort``.
This module knows the contract's request messages and the world host, not servers or channels.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf import json_format

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.observers import cost_per_hour
from scythe_desktop.orchestrator import guardrails
from scythe_desktop.orchestrator.audit import AuditLog
from scythe_desktop.orchestrator.store import (
    IDEMPOTENCY_WINDOW_REQUESTS,
    IDEMPOTENCY_WINDOW_S,
    MemoryOutcomes,
    StateStore,
    StoredOutcome,
)
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.backends import Backend
    from scythe_desktop.orchestrator.world_host import WorldHost

MAX_REQUEST_ID: Final = 128
MAX_NAME: Final = 64
ACTION_NAMES: Final[dict[type, str]] = {
    pb.DeployRequest: "deploy",
    pb.RelocateRequest: "relocate",
    pb.IncreaseSamplingRequest: "increase_sampling",
    pb.FocusRequest: "focus",
    pb.DecommissionRequest: "decommission",
}


class ActionRefused(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class _Parsed:
    name: str
    params: dict[str, Any]
    action: Action | None = None  # None only for requests refused while parsing


def _finite_in(field: str, value: float, lo: float, hi: float) -> float:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ActionRefused(
            grpc.StatusCode.INVALID_ARGUMENT, f"{field} must be a finite number in [{lo:g}, {hi:g}], got {value!r}"
        )
    return value


def _check_request_id(request_id: str) -> None:
    if not 1 <= len(request_id) <= MAX_REQUEST_ID:
        raise ActionRefused(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request_id must be 1..{MAX_REQUEST_ID} characters, got {len(request_id)}",
        )


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
        self.rails = guardrails.Guardrails.from_scenario(host.scenario)

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def window(self) -> tuple[float, int]:
        """(seconds, requests) for which outcomes are kept."""
        if self._store is not None:
            return self._store.window_s, self._store.window_requests
        return IDEMPOTENCY_WINDOW_S, IDEMPOTENCY_WINDOW_REQUESTS

    def set_rails(self, rails: guardrails.Guardrails) -> None:
        with self._lock:  # never between the check and the apply of an action
            self.rails = rails

    # -------------------------------------------------------------------------------------- parsing

    def _parse(self, request: Any) -> _Parsed:
        scenario = self._host.scenario
        if isinstance(request, pb.DeployRequest):
            lon = _finite_in("lon", request.lon, -180.0, 180.0)
            lat = _finite_in("lat", request.lat, -90.0, 90.0)
            kind = request.observer_type or scenario.constraints.default_observer_type
            if len(kind) > MAX_NAME or kind not in [t.name for t in scenario.observer_types]:
                known = ", ".join(t.name for t in scenario.observer_types)
                raise ActionRefused(
                    grpc.StatusCode.INVALID_ARGUMENT, f"observer_type {kind[:MAX_NAME]!r} is unknown; known: {known}"
                )
            return _Parsed("deploy", {"lon": lon, "lat": lat, "observer_type": kind}, Deploy(lon, lat, kind))
        if isinstance(request, pb.RelocateRequest):
            lon = _finite_in("lon", request.lon, -180.0, 180.0)
            lat = _finite_in("lat", request.lat, -90.0, 90.0)
            oid = request.observer_id
            return _Parsed("relocate", {"observer_id": oid, "lon": lon, "lat": lat}, Relocate(oid, lon, lat))
        if isinstance(request, pb.IncreaseSamplingRequest):
            oid = request.observer_id
            return _Parsed("increase_sampling", {"observer_id": oid}, IncreaseSampling(oid))
        if isinstance(request, pb.FocusRequest):
            oid = request.observer_id
            return _Parsed(
                "focus", {"observer_id": oid, "cluster_id": request.cluster_id}, Focus(oid, request.cluster_id)
            )
        if isinstance(request, pb.DecommissionRequest):
            oid = request.observer_id
            return _Parsed("decommission", {"observer_id": oid}, Decommission(oid))
        raise TypeError(f"not an action request: {type(request).__name__}")

    # ----------------------------------------------------------------------------------- guardrails

    def _guard(self, parsed: _Parsed) -> guardrails.Refusal | None:
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

    def handle(self, subject: str, request: Any) -> pb.ActionReply:
        """The reply to an action request, or :class:`ActionRefused` (possibly a replayed refusal)."""
        request_id: str = request.request_id
        try:
            _check_request_id(request_id)
            parsed = self._parse(request)
        except ActionRefused as exc:
            # Refused before any lookup; audited too, with the raw request (the id trimmed if oversized).
            raw = _Parsed(ACTION_NAMES.get(type(request), type(request).__name__), json_format.MessageToDict(request))
            self._audit_append(subject, request_id[:MAX_REQUEST_ID], raw, "not reached", exc.code.name, str(exc))
            raise
        fingerprint = json.dumps([parsed.name, parsed.params], sort_keys=True)
        with self._lock:
            stored = self._recall(subject, request_id)
            if stored is not None:
                return self._replay(subject, request_id, parsed, fingerprint, stored)
            gone = self._vanished(parsed)
            if gone is not None:  # unknown, or removed by another request after this one was parsed
                self._audit_append(subject, request_id, parsed, "not reached", "NOT_FOUND", gone)
                raise ActionRefused(grpc.StatusCode.NOT_FOUND, gone)
            refusal = self._guard(parsed)
            if refusal is not None:
                outcome = StoredOutcome(fingerprint, grpc.StatusCode.FAILED_PRECONDITION.value[0], str(refusal), b"")
                self._finish(subject, request_id, parsed, outcome, f"refused: {refusal.guardrail}")
                raise ActionRefused(grpc.StatusCode.FAILED_PRECONDITION, str(refusal))
            assert parsed.action is not None
            reason = self._host.validate(parsed.action)
            if reason is not None:
                message = f"world refused {parsed.name}: {reason}"
                outcome = StoredOutcome(fingerprint, grpc.StatusCode.FAILED_PRECONDITION.value[0], message, b"")
                self._finish(subject, request_id, parsed, outcome, "passed")
                raise ActionRefused(grpc.StatusCode.FAILED_PRECONDITION, message)
            # The world's new state and the outcome commit together: a crash between two separate commits
            # let a retry act again (found by the restart suite, R1).
            with self._host.atomic_action():
                result, tick = self._backend.apply(self._host, parsed.action)
                reply = pb.ActionReply(
                    request_id=request_id,
                    ok=result.ok,
                    reason=result.reason,
                    observer_id=result.observer_id or 0,
                    cost_per_hour=result.cost_per_hour,
                    tick=tick,
                )
                outcome = StoredOutcome(fingerprint, 0, result.reason, reply.SerializeToString())
                self._finish(subject, request_id, parsed, outcome, "passed", world=self._host.checkpoint_meta())
            return reply

    def _vanished(self, parsed: _Parsed) -> str | None:
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
        self, subject: str, request_id: str, parsed: _Parsed, fingerprint: str, stored: StoredOutcome
    ) -> pb.ActionReply:
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
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request_id {request_id!r} was already used for a different {parsed.name} request",
            )
        code = _code(stored.code)
        self._audit_append(subject, request_id, parsed, "replayed", code.name, stored.message, replayed=True)
        if code is not grpc.StatusCode.OK:
            raise ActionRefused(code, stored.message)
        reply = pb.ActionReply.FromString(stored.reply)
        reply.replayed = True
        return reply

    def _finish(
        self,
        subject: str,
        request_id: str,
        parsed: _Parsed,
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
        self._audit_append(subject, request_id, parsed, guard, _code(outcome.code).name, outcome.message)

    def _audit_append(
        self,
        subject: str,
        request_id: str,
        parsed: _Parsed,
        guard: str,
        result: str,
        message: str,
        *,
        replayed: bool = False,
    ) -> None:
        if self._audit is not None:
            self._audit.append(
                subject=subject,
                request_id=request_id,
                action=parsed.name,
                params=parsed.params,
                guardrail=guard,
                result=result,
                message=message,
                replayed=replayed,
            )


def _code(value: int) -> grpc.StatusCode:
    return next(c for c in grpc.StatusCode if c.value[0] == value)
