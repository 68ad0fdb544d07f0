"""Policy proposals on the wire: ``engine.proposals.Proposal`` <-> ``scythe.v1.Proposal``.

The orchestrator's policy makes engine proposals; clients (the console, the CLI) get them back as the same
engine values, actions included, so sending one is the ordinary action RPC. A message that does not
describe a valid action raises ``ValueError`` naming the field. Knows the engine's action and proposal
values and the generated messages, nothing of transport.
"""

from __future__ import annotations

import math

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def to_message(p: Proposal) -> pb.Proposal:
    m = pb.Proposal(
        target=p.target,
        predicted_information_gain=p.predicted_information_gain,
        cost_per_hour=p.cost_per_hour,
        confidence=p.confidence,
        explanation=p.explanation,
        policy=p.policy,
    )
    match p.action:
        case Deploy(lon=lon, lat=lat, observer_type=kind):
            m.action, m.lon, m.lat, m.observer_type = pb.ACTION_DEPLOY, lon, lat, kind or ""
        case Relocate(observer_id=oid, lon=lon, lat=lat):
            m.action, m.observer_id, m.lon, m.lat = pb.ACTION_RELOCATE, oid, lon, lat
        case IncreaseSampling(observer_id=oid):
            m.action, m.observer_id = pb.ACTION_INCREASE_SAMPLING, oid
        case Focus(observer_id=oid, cluster_id=cid):
            m.action, m.observer_id, m.cluster_id = pb.ACTION_FOCUS, oid, cid
        case Decommission(observer_id=oid):
            m.action, m.observer_id = pb.ACTION_DECOMMISSION, oid
        case other:
            raise TypeError(f"not an action: {other!r}")
    return m


def from_message(m: pb.Proposal) -> Proposal:
    action: Action
    if m.action in (pb.ACTION_DEPLOY, pb.ACTION_RELOCATE):
        if not (math.isfinite(m.lon) and -180.0 <= m.lon <= 180.0):
            raise ValueError(f"proposal lon must be in [-180, 180], got {m.lon}")
        if not (math.isfinite(m.lat) and -90.0 <= m.lat <= 90.0):
            raise ValueError(f"proposal lat must be in [-90, 90], got {m.lat}")
    if m.action == pb.ACTION_DEPLOY:
        action = Deploy(m.lon, m.lat, m.observer_type or None)
    elif m.action == pb.ACTION_RELOCATE:
        action = Relocate(m.observer_id, m.lon, m.lat)
    elif m.action == pb.ACTION_INCREASE_SAMPLING:
        action = IncreaseSampling(m.observer_id)
    elif m.action == pb.ACTION_FOCUS:
        action = Focus(m.observer_id, m.cluster_id)
    elif m.action == pb.ACTION_DECOMMISSION:
        action = Decommission(m.observer_id)
    else:
        raise ValueError(f"proposal action must be one of ACTION_DEPLOY..ACTION_DECOMMISSION, got {m.action}")
    if not 0.0 <= m.confidence <= 1.0:
        raise ValueError(f"proposal confidence must be in [0, 1], got {m.confidence}")
    for name in ("predicted_information_gain", "cost_per_hour"):
        if not math.isfinite(getattr(m, name)):
            raise ValueError(f"proposal {name} must be finite, got {getattr(m, name)}")
    return Proposal(
        action=action,
        target=m.target,
        predicted_information_gain=m.predicted_information_gain,
        cost_per_hour=m.cost_per_hour,
        confidence=m.confidence,
        explanation=m.explanation,
        policy=m.policy,
    )


__all__ = ["from_message", "to_message"]
