"""An action's outcome on the wire: ``engine.actions.ActionOutcome`` <-> ``scythe.v1.ActionReply``.

The orchestrator answers every accepted action with one; the client hands the same value back. Knows the
generated messages, nothing of transport.
"""

from __future__ import annotations

from scythe_desktop.engine.actions import ActionOutcome
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def reply_message(outcome: ActionOutcome) -> pb.ActionReply:
    return pb.ActionReply(request_id=outcome.request_id, ok=outcome.ok, reason=outcome.reason,
                          observer_id=outcome.observer_id, cost_per_hour=outcome.cost_per_hour, tick=outcome.tick,
                          replayed=outcome.replayed)


def outcome(reply: pb.ActionReply) -> ActionOutcome:
    return ActionOutcome(reply.request_id, reply.ok, reply.reason, int(reply.observer_id), float(reply.cost_per_hour),
                         int(reply.tick), reply.replayed)


__all__ = ["outcome", "reply_message"]
