"""Thin gRPC servicers of ``scythe.v1``: check arguments, delegate, map domain errors to status codes.

``StreamClusterUpdates`` is registered by hand with an identity response serializer: the hub hands
out ``Frame`` messages already serialized once for every subscriber, so streaming to fifty clients
costs one protobuf encoding per frame, not fifty. Every other method uses the generated messages.
The servicers know the world host, the advisor (cluster table, proposals), the action desk and the
token authority; the world itself stays behind the host. The action desk speaks domain types:
:mod:`scythe_desktop.orchestrator.wire` translates its requests, outcomes and verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, NoReturn

import grpc

from scythe_desktop import __version__
from scythe_desktop.core import frames as core_frames
from scythe_desktop.orchestrator import auth, wire
from scythe_desktop.orchestrator.advisor import Advisor, PolicyUnavailable
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.field_desk import FieldDesk, FieldRefused
from scythe_desktop.orchestrator.hub import FrameHub, HubClosed, HubFull
from scythe_desktop.orchestrator.refresh import refresh
from scythe_desktop.orchestrator.requests import ActionRefused
from scythe_desktop.protocol import action_wire, world_wire
from scythe_desktop.protocol.limits import CLIENT_MAX_RECEIVE_BYTES, REPLY_OVERHEAD_BYTES
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.backends import Backend
    from scythe_desktop.orchestrator.world_host import WorldHost

SERVICE_NAMES: Final = ("scythe.v1.Orchestrator", "scythe.v1.Auth", "scythe.v1.ObserverAgent")


class OrchestratorService:
    def __init__(
        self, host: WorldHost, hub: FrameHub, desk: ActionDesk, authority: auth.TokenAuthority, advisor: Advisor,
        fields: FieldDesk | None = None,
    ) -> None:
        self._host = host
        self._fields = fields or FieldDesk(host)
        self._advisor = advisor
        self._hub = hub
        self._desk = desk
        self._authority = authority

    # ----------------------------------------------------------------------------------- streaming

    def StreamClusterUpdates(self, request: pb.StreamRequest, context: grpc.ServicerContext) -> Iterator[bytes]:
        for kind in request.kinds:
            if kind not in pb.FrameKind.values() or kind == pb.FRAME_KIND_UNSPECIFIED:
                _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"kinds: unknown frame kind {kind}")
        # A stream lives no longer than the access token it was opened with (nor past its revocation): the
        # client reconnects with a fresh one and resumes from its last seq.
        who = auth.identity_of(self._authority, context)

        def wanted() -> bool:
            return context.is_active() and self._authority.still_valid(who) is None

        try:
            frames = self._hub.subscribe(request.resume_from_seq, request.kinds, wanted)
        except HubFull as exc:
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except HubClosed as exc:
            _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        # Wake this subscriber's wait at once when the client goes away, instead of at its next timeout.
        context.add_callback(self._hub.wake)
        yield from frames
        why = self._authority.still_valid(who)
        if why is not None and context.is_active():
            _abort(context, grpc.StatusCode.UNAUTHENTICATED,
                   f"the stream's access token {why}; reconnect with a fresh one (resume from the last seq)")

    # ---------------------------------------------------------------------------------------- reads

    def GetClusterSnapshot(self, request: pb.ClusterRequest, context: grpc.ServicerContext) -> pb.ClusterSnapshot:
        graph = self._host.cluster_graph(request.cluster_id)
        if graph is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"cluster_id {request.cluster_id} not found")
        tick, nodes, edges = graph
        blob = core_frames.encode_stream(
            [core_frames.encode_keyframe(nodes, tick), core_frames.encode_edges(edges, tick)]
        )
        if len(blob) > CLIENT_MAX_RECEIVE_BYTES - REPLY_OVERHEAD_BYTES:
            _abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"cluster {request.cluster_id} has {len(nodes)} nodes, "
                "too many for one snapshot message; follow StreamClusterUpdates instead",
            )
        return pb.ClusterSnapshot(
            cluster_id=request.cluster_id, tick=tick, node_count=len(nodes), edge_count=len(edges), graph_binary=blob
        )

    def GetField(self, request: pb.FieldRequest, context: grpc.ServicerContext) -> pb.FieldReply:
        identity = auth.identity_of(self._authority, context)
        try:
            return wire.field_reply(self._fields.fetch(identity.subject, wire.field_ask(request)))
        except FieldRefused as exc:
            _abort(context, wire.status(exc.verdict), str(exc))

    def ListObservers(self, request: pb.ListObserversRequest, context: grpc.ServicerContext) -> pb.ObserverList:
        return self._host.observer_list()

    def GetWorldInfo(self, request: pb.WorldInfoRequest, context: grpc.ServicerContext) -> pb.WorldInfo:
        info = self._host.world_info()
        info.guardrails.CopyFrom(world_wire.guardrails_message(self._desk.rails))
        info.server_version = __version__
        info.backend = self._desk.backend_name
        info.idempotency_window_s, info.idempotency_window_requests = self._desk.window
        return info

    def GetClusterTable(self, request: pb.ClusterTableRequest, context: grpc.ServicerContext) -> pb.ClusterTable:
        table = self._advisor.cluster_table()
        if len(table.rows) > CLIENT_MAX_RECEIVE_BYTES - REPLY_OVERHEAD_BYTES:
            _abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"{table.row_count} clusters are too many for one ClusterTable message",
            )
        return table

    def Propose(self, request: pb.ProposeRequest, context: grpc.ServicerContext) -> pb.ProposalList:
        try:
            return self._advisor.propose(request.limit)
        except ValueError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except PolicyUnavailable as exc:
            _abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc))

    # -------------------------------------------------------------------------------------- actions

    def _act(self, request: Any, context: grpc.ServicerContext) -> pb.ActionReply:
        identity = auth.identity_of(self._authority, context)
        try:
            return action_wire.reply_message(self._desk.handle(identity.subject, wire.action_request(request)))
        except ActionRefused as exc:
            _abort(context, wire.status(exc.verdict), str(exc))

    DeployObserver = _act
    RelocateObserver = _act
    IncreaseSamplingRate = _act
    FocusCluster = _act
    DecommissionObserver = _act

    def SetGuardrails(self, request: pb.Guardrails, context: grpc.ServicerContext) -> pb.Guardrails:
        identity = auth.identity_of(self._authority, context)
        try:
            return world_wire.guardrails_message(self._desk.set_rails(identity.subject, world_wire.guardrails(request)))
        except ActionRefused as exc:
            _abort(context, wire.status(exc.verdict), str(exc))


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("context.abort returned")  # it raises; this tells type checkers


class AuthService:
    def __init__(self, authority: auth.TokenAuthority) -> None:
        self._authority = authority

    def Refresh(self, request: pb.RefreshRequest, context: grpc.ServicerContext) -> pb.AccessToken:
        who = auth.identity_of(self._authority, context, kind="refresh")
        try:
            out = refresh(self._authority, who, time.time())
        except auth.AuthError as exc:
            _abort(context, exc.code, str(exc))
        return pb.AccessToken(
            access_token=out.access_token,
            expires_at_unix=out.access_expires_at,
            subject=who.subject,
            role=who.role,
            refresh_token=out.refresh_token,
            refresh_expires_at_unix=out.refresh_expires_at,
        )


class ObserverAgentService:
    """Where ``scythe observer`` processes register and heartbeat, each with its own identity."""

    def __init__(self, backend: Backend, authority: auth.TokenAuthority) -> None:
        self._backend = backend
        self._authority = authority

    def _own(self, observer_id: int, context: grpc.ServicerContext) -> None:
        who = auth.identity_of(self._authority, context)
        if who.subject != f"observer-{observer_id}":
            _abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                f"identity {who.subject!r} may not speak for observer_id {observer_id}",
            )

    def Register(self, request: pb.ObserverHello, context: grpc.ServicerContext) -> pb.HeartbeatReply:
        self._own(request.observer_id, context)
        return self._heartbeat(request.observer_id, 0.0, context, pid=request.pid)

    def Heartbeat(self, request: pb.HeartbeatRequest, context: grpc.ServicerContext) -> pb.HeartbeatReply:
        self._own(request.observer_id, context)
        return self._heartbeat(request.observer_id, request.load, context)

    def _heartbeat(
        self, observer_id: int, load: float, context: grpc.ServicerContext, pid: int | None = None
    ) -> pb.HeartbeatReply:
        try:
            stop, interval = self._backend.heartbeat(observer_id, load, pid=pid)
        except KeyError:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"observer_id {observer_id} is not run by this orchestrator")
        return pb.HeartbeatReply(stop=stop, interval_s=interval)


class _Undecodable:
    """Request bytes that are not a valid message of the method's type.

    gRPC answers a deserializer that raises with INTERNAL ("Exception deserializing request!"), which
    blames the server for the client's bytes; the handler answers these with INVALID_ARGUMENT instead.
    """

    def __init__(self, type_name: str, error: Exception) -> None:
        self.message = f"request is not a valid {type_name} message ({type(error).__name__})"


def _lenient(request_type: Any) -> Any:
    def parse(data: bytes) -> Any:
        try:
            return request_type.FromString(data)
        except Exception as exc:  # protobuf raises DecodeError and, for some inputs, others
            return _Undecodable(request_type.DESCRIPTOR.full_name, exc)

    return parse


def _refusing_undecodable(fn: Any) -> Any:
    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
        return fn(request, context)

    return handler


def _refusing_undecodable_stream(fn: Any) -> Any:
    def handler(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
        yield from fn(request, context)

    return handler


def generic_handlers(
    orchestrator: OrchestratorService, auth_service: AuthService, agent: ObserverAgentService
) -> list[grpc.GenericRpcHandler]:
    def unary(fn: Any, request_type: Any, reply_type: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            _refusing_undecodable(fn),
            request_deserializer=_lenient(request_type),
            response_serializer=reply_type.SerializeToString,
        )

    o = orchestrator
    orchestrator_methods = {
        # response_serializer=None: the handler yields bytes that are already serialized Frame messages.
        "StreamClusterUpdates": grpc.unary_stream_rpc_method_handler(
            _refusing_undecodable_stream(o.StreamClusterUpdates),
            request_deserializer=_lenient(pb.StreamRequest),
            response_serializer=None,
        ),
        "GetClusterSnapshot": unary(o.GetClusterSnapshot, pb.ClusterRequest, pb.ClusterSnapshot),
        "GetField": unary(o.GetField, pb.FieldRequest, pb.FieldReply),
        "ListObservers": unary(o.ListObservers, pb.ListObserversRequest, pb.ObserverList),
        "GetWorldInfo": unary(o.GetWorldInfo, pb.WorldInfoRequest, pb.WorldInfo),
        "GetClusterTable": unary(o.GetClusterTable, pb.ClusterTableRequest, pb.ClusterTable),
        "Propose": unary(o.Propose, pb.ProposeRequest, pb.ProposalList),
        "DeployObserver": unary(o.DeployObserver, pb.DeployRequest, pb.ActionReply),
        "RelocateObserver": unary(o.RelocateObserver, pb.RelocateRequest, pb.ActionReply),
        "IncreaseSamplingRate": unary(o.IncreaseSamplingRate, pb.IncreaseSamplingRequest, pb.ActionReply),
        "FocusCluster": unary(o.FocusCluster, pb.FocusRequest, pb.ActionReply),
        "DecommissionObserver": unary(o.DecommissionObserver, pb.DecommissionRequest, pb.ActionReply),
        "SetGuardrails": unary(o.SetGuardrails, pb.Guardrails, pb.Guardrails),
    }
    return [
        grpc.method_handlers_generic_handler("scythe.v1.Orchestrator", orchestrator_methods),
        grpc.method_handlers_generic_handler(
            "scythe.v1.Auth", {"Refresh": unary(auth_service.Refresh, pb.RefreshRequest, pb.AccessToken)}
        ),
        grpc.method_handlers_generic_handler(
            "scythe.v1.ObserverAgent",
            {
                "Register": unary(agent.Register, pb.ObserverHello, pb.HeartbeatReply),
                "Heartbeat": unary(agent.Heartbeat, pb.HeartbeatRequest, pb.HeartbeatReply),
            },
        ),
    ]
