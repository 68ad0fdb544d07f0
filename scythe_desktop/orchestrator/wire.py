"""Protobuf ↔ domain for the servicers: the only place the action and field desks meet the wire.

The action desk takes :class:`~scythe_desktop.orchestrator.requests.ActionRequest` and answers
:class:`~scythe_desktop.engine.actions.ActionOutcome` (on the wire by
:func:`scythe_desktop.protocol.action_wire.reply_message`, which the client reads back) or raises
:class:`~scythe_desktop.orchestrator.requests.ActionRefused`; :func:`action_request` and :func:`status` turn
the five request messages and the verdict into and out of ``scythe.v1``; :func:`field_ask` and
:func:`field_reply` do the same for ``GetField`` and the :class:`~scythe_desktop.orchestrator.field_desk.FieldDesk`.
:func:`upgrade_store` rewrites the outcomes an older version stored as serialized ``ActionReply`` messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Final

import grpc
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from scythe_desktop.orchestrator.field_desk import FieldAnswer, FieldAsk
from scythe_desktop.orchestrator.requests import ActionRequest, Verdict
from scythe_desktop.orchestrator.store import StateStore
from scythe_desktop.protocol import action_wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.world_wire import FIELD_KINDS

ACTION_KIND: Final[dict[type[Message], str]] = {
    pb.DeployRequest: "deploy",
    pb.RelocateRequest: "relocate",
    pb.IncreaseSamplingRequest: "increase_sampling",
    pb.FocusRequest: "focus",
    pb.DecommissionRequest: "decommission",
}


def action_request(message: Message) -> ActionRequest:
    """The domain request of one of the five action request messages (unchecked: the desk parses it)."""
    kind = ACTION_KIND.get(type(message))
    if kind is None:
        raise TypeError(f"not an action request: {type(message).__name__}")
    body = message.SerializeToString()
    sent = json_format.MessageToDict(message, preserving_proto_field_name=True)
    fields = {f.name: v for f, v in message.ListFields()}
    return ActionRequest(
        kind,
        str(fields.get("request_id", "")),
        lon=float(fields.get("lon", 0.0)),
        lat=float(fields.get("lat", 0.0)),
        observer_type=str(fields.get("observer_type", "")),
        observer_id=int(fields.get("observer_id", 0)),
        cluster_id=int(fields.get("cluster_id", 0)),
        sent=sent,
        body_bytes=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


_FIELD_NAMES: Final = {number: name for name, number in FIELD_KINDS.items()}


def field_ask(message: pb.FieldRequest) -> FieldAsk:
    return FieldAsk(_FIELD_NAMES.get(message.kind, str(int(message.kind))), int(message.height), int(message.width),
                    int(message.size))


def field_reply(answer: FieldAnswer) -> pb.FieldReply:
    return pb.FieldReply(tick=answer.tick, frame=answer.frame)


def status(verdict: Verdict) -> grpc.StatusCode:
    """The gRPC status a verdict is answered with (the same name and number)."""
    return grpc.StatusCode[verdict.name]


def _legacy_outcome(blob: bytes) -> bytes:
    try:
        reply = pb.ActionReply.FromString(blob)
    except DecodeError as exc:
        raise ValueError(f"a stored action outcome is neither JSON nor an ActionReply ({exc})") from None
    return replace(action_wire.outcome(reply), replayed=False).to_json()


def upgrade_store(store: StateStore) -> int:
    """Bring a state directory written by an older version to the current outcome format; how many rows changed."""
    return store.upgrade(_legacy_outcome)


__all__ = ["ACTION_KIND", "action_request", "field_ask", "field_reply", "status", "upgrade_store"]
