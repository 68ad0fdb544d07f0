"""Action requests, checked before anything else looks at them: what they ask for, or INVALID_ARGUMENT.

:func:`parse` turns one of the five request messages into a domain action with its parameters: request id
(printable ASCII without spaces, 1..:data:`MAX_REQUEST_ID` characters, so no id can forge a line of
``scythe audit`` or blow up the log), finite in-range coordinates, a known observer type; every refusal names
the field. :func:`refused_summary` is what the audit log keeps of a request refused here: its size, SHA-256
and its fields cut short, never the whole body. Knows the contract's messages and the scenario, not servers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Final

import grpc
from google.protobuf import json_format

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

MAX_REQUEST_ID: Final = 128
MAX_NAME: Final = 64
#: How much of each field of a refused request the audit log keeps.
SUMMARY_FIELD: Final = 64
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
class Parsed:
    name: str
    params: dict[str, Any]
    action: Action | None = None  # None only for requests refused while parsing


def printable(text: str) -> str:
    """``text`` with everything but printable ASCII escaped (``\\n``, ``\\x1b``, ``\\u2028``), backslashes too."""
    return "".join(c if " " <= c <= "~" and c != "\\" else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def check_request_id(request_id: str) -> None:
    if not 1 <= len(request_id) <= MAX_REQUEST_ID:
        raise ActionRefused(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request_id must be 1..{MAX_REQUEST_ID} characters, got {len(request_id)}",
        )
    for i, c in enumerate(request_id):
        if not "!" <= c <= "~":
            raise ActionRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request_id must be printable ASCII without spaces (0x21..0x7e); character {i} is "
                f"{printable(c)!r} (U+{ord(c):04X})",
            )


def _finite_in(field: str, value: float, lo: float, hi: float) -> float:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ActionRefused(
            grpc.StatusCode.INVALID_ARGUMENT, f"{field} must be a finite number in [{lo:g}, {hi:g}], got {value!r}"
        )
    return value


def parse(request: Any, scenario: Scenario) -> Parsed:
    """The action a request asks for, or ActionRefused(INVALID_ARGUMENT) naming the field."""
    check_request_id(request.request_id)
    if isinstance(request, pb.DeployRequest):
        lon = _finite_in("lon", request.lon, -180.0, 180.0)
        lat = _finite_in("lat", request.lat, -90.0, 90.0)
        kind = request.observer_type or scenario.constraints.default_observer_type
        if len(kind) > MAX_NAME or kind not in [t.name for t in scenario.observer_types]:
            known = ", ".join(t.name for t in scenario.observer_types)
            raise ActionRefused(
                grpc.StatusCode.INVALID_ARGUMENT, f"observer_type {kind[:MAX_NAME]!r} is unknown; known: {known}"
            )
        return Parsed("deploy", {"lon": lon, "lat": lat, "observer_type": kind}, Deploy(lon, lat, kind))
    if isinstance(request, pb.RelocateRequest):
        lon = _finite_in("lon", request.lon, -180.0, 180.0)
        lat = _finite_in("lat", request.lat, -90.0, 90.0)
        oid = request.observer_id
        return Parsed("relocate", {"observer_id": oid, "lon": lon, "lat": lat}, Relocate(oid, lon, lat))
    if isinstance(request, pb.IncreaseSamplingRequest):
        oid = request.observer_id
        return Parsed("increase_sampling", {"observer_id": oid}, IncreaseSampling(oid))
    if isinstance(request, pb.FocusRequest):
        oid = request.observer_id
        return Parsed("focus", {"observer_id": oid, "cluster_id": request.cluster_id}, Focus(oid, request.cluster_id))
    if isinstance(request, pb.DecommissionRequest):
        oid = request.observer_id
        return Parsed("decommission", {"observer_id": oid}, Decommission(oid))
    raise TypeError(f"not an action request: {type(request).__name__}")


def refused_summary(request: Any) -> Parsed:
    """What the audit log keeps of a request refused while parsing: bounded fields, the body's size and hash."""
    body = request.SerializeToString()
    fields = {k: v[:SUMMARY_FIELD] + ("..." if len(v) > SUMMARY_FIELD else "") if isinstance(v, str) else v
              for k, v in json_format.MessageToDict(request).items()}
    params = {"fields": fields, "body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    return Parsed(ACTION_NAMES.get(type(request), type(request).__name__), params)


def audited_id(request_id: str) -> str:
    """The request id as the audit log stores it for a refused request: cut to the limit."""
    return request_id[:MAX_REQUEST_ID]


__all__ = ["ACTION_NAMES", "MAX_NAME", "MAX_REQUEST_ID", "ActionRefused", "Parsed", "audited_id",
           "check_request_id", "parse", "printable", "refused_summary"]
