"""Action requests as the action desk sees them, checked before anything else looks at them.

An :class:`ActionRequest` is one of the five action requests in domain terms — what the client sent, before any
check — built by the servicers from the wire message (:mod:`scythe_desktop.orchestrator.wire`). :func:`parse`
turns it into a domain action with its parameters, or :class:`ActionRefused` with
:attr:`Verdict.INVALID_ARGUMENT` naming the field: request id (printable ASCII without spaces,
1..:data:`MAX_REQUEST_ID` characters, so no id can forge a line of ``scythe audit`` or blow up the log), finite
in-range coordinates, a known observer type. :func:`refused_summary` is what the audit log keeps of a request
refused here: its size, SHA-256 and its fields cut short, never the whole body. The answer to an accepted
request is an :class:`~scythe_desktop.engine.actions.ActionOutcome`, stored as JSON for replays. Knows the
scenario and the domain actions; nothing of gRPC, protobuf or servers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.scenario import Scenario

MAX_REQUEST_ID: Final = 128
MAX_NAME: Final = 64
#: How much of each field of a refused request the audit log keeps.
SUMMARY_FIELD: Final = 64
ACTION_KINDS: Final = ("deploy", "relocate", "increase_sampling", "focus", "decommission")


class Verdict(IntEnum):
    """How a request ended. Named and numbered as the canonical status codes the servicers answer with: the
    audit log's ``result`` column holds the names, the idempotency store the numbers (so outcomes stored by
    earlier versions, which stored gRPC codes, read back unchanged)."""

    OK = 0
    INVALID_ARGUMENT = 3
    NOT_FOUND = 5
    RESOURCE_EXHAUSTED = 8  # a field over its size or its caller's budget
    FAILED_PRECONDITION = 9  # a guardrail or the world refused
    INTERNAL = 13  # the deployment backend failed
    UNAVAILABLE = 14  # the audit log cannot be written: nothing acts


class ActionRefused(Exception):
    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action request, unchecked. ``kind`` is one of :data:`ACTION_KINDS`; the fields a kind does not use
    are ignored. ``sent``, ``body_bytes`` and ``body_sha256`` describe what arrived (the fields that were set,
    the encoded size and its hash): the audit summary of a request refused while parsing."""

    kind: str
    request_id: str
    lon: float = 0.0
    lat: float = 0.0
    observer_type: str = ""
    observer_id: int = 0
    cluster_id: int = 0
    sent: Mapping[str, Any] = field(default_factory=dict)
    body_bytes: int = 0
    body_sha256: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    name: str
    params: dict[str, Any]
    action: Action | None = None  # None only for requests refused while parsing


def printable(text: str) -> str:
    """``text`` with everything but printable ASCII escaped (``\\n``, ``\\x1b``, ``\\u2028``), backslashes too."""
    return "".join(c if " " <= c <= "~" and c != "\\" else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def _invalid(message: str) -> ActionRefused:
    return ActionRefused(Verdict.INVALID_ARGUMENT, message)


def check_request_id(request_id: str) -> None:
    if not 1 <= len(request_id) <= MAX_REQUEST_ID:
        raise _invalid(f"request_id must be 1..{MAX_REQUEST_ID} characters, got {len(request_id)}")
    for i, c in enumerate(request_id):
        if not "!" <= c <= "~":
            raise _invalid(f"request_id must be printable ASCII without spaces (0x21..0x7e); character {i} is "
                           f"{printable(c)!r} (U+{ord(c):04X})")


def _finite_in(name: str, value: float, lo: float, hi: float) -> float:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise _invalid(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {value!r}")
    return value


def parse(request: ActionRequest, scenario: Scenario) -> Parsed:
    """The action a request asks for, or ActionRefused(INVALID_ARGUMENT) naming the field."""
    check_request_id(request.request_id)
    kind, oid = request.kind, request.observer_id
    if kind == "deploy":
        lon = _finite_in("lon", request.lon, -180.0, 180.0)
        lat = _finite_in("lat", request.lat, -90.0, 90.0)
        name = request.observer_type or scenario.constraints.default_observer_type
        if len(name) > MAX_NAME or name not in [t.name for t in scenario.observer_types]:
            known = ", ".join(t.name for t in scenario.observer_types)
            raise _invalid(f"observer_type {name[:MAX_NAME]!r} is unknown; known: {known}")
        return Parsed("deploy", {"lon": lon, "lat": lat, "observer_type": name}, Deploy(lon, lat, name))
    if kind == "relocate":
        lon = _finite_in("lon", request.lon, -180.0, 180.0)
        lat = _finite_in("lat", request.lat, -90.0, 90.0)
        return Parsed("relocate", {"observer_id": oid, "lon": lon, "lat": lat}, Relocate(oid, lon, lat))
    if kind == "increase_sampling":
        return Parsed("increase_sampling", {"observer_id": oid}, IncreaseSampling(oid))
    if kind == "focus":
        return Parsed("focus", {"observer_id": oid, "cluster_id": request.cluster_id}, Focus(oid, request.cluster_id))
    if kind == "decommission":
        return Parsed("decommission", {"observer_id": oid}, Decommission(oid))
    raise ValueError(f"not an action kind: {kind!r}; known: {', '.join(ACTION_KINDS)}")


def refused_summary(request: ActionRequest) -> Parsed:
    """What the audit log keeps of a request refused while parsing: bounded fields, the body's size and hash."""
    fields = {k: v[:SUMMARY_FIELD] + ("..." if len(v) > SUMMARY_FIELD else "") if isinstance(v, str) else v
              for k, v in request.sent.items()}
    return Parsed(request.kind, {"fields": fields, "body_bytes": request.body_bytes,
                                 "body_sha256": request.body_sha256})


def audited_id(request_id: str) -> str:
    """The request id as the audit log stores it for a refused request: cut to the limit."""
    return request_id[:MAX_REQUEST_ID]


__all__ = ["ACTION_KINDS", "MAX_NAME", "MAX_REQUEST_ID", "ActionRefused", "ActionRequest", "Parsed",
           "Verdict", "audited_id", "check_request_id", "parse", "printable", "refused_summary"]
