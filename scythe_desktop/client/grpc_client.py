"""``OrchestratorClient``: the one client of a ``scythe.v1`` orchestrator, for the app, the CLI and tests.

The same class reaches the embedded orchestrator (loopback, local credentials) and a remote one (TLS,
optionally with a client certificate). It

* exchanges a refresh token for short-lived access tokens and refreshes them before they expire,
  sending them only as ``authorization: Bearer …`` metadata;
* streams frames and survives lost links and server restarts: it reconnects with capped exponential
  backoff plus jitter and resumes from the last applied seq, so the caller sees every frame once, in
  order; when the server no longer holds that seq the stream restarts at a fresh keyframe, never with
  a silent gap (a delta whose ``base_seq`` is not the last node frame forces a resync);
* retries actions after UNAVAILABLE or DEADLINE_EXCEEDED with the same request id, so the server acts
  once at most;
* reports connection state changes, configures keepalive, and can be cancelled from any thread.

It is synchronous grpcio: run :meth:`stream` in a worker thread (a ``QThread`` in the app). It knows
the contract and core frames, nothing of Qt or the simulator.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, TypeVar, cast

import grpc
import numpy as np
from google.protobuf.message import DecodeError

from scythe_desktop.client.credentials import AccessTokens, credentials_for, local_credentials, tls_credentials
from scythe_desktop.client.results import (
    RETRYABLE,
    Backoff,
    ClusterGraph,
    ClusterTable,
    ConnectionState,
    OrchestratorError,
    Proposals,
)
from scythe_desktop.core import frames as core_frames
from scythe_desktop.engine.actions import (
    Action,
    ActionOutcome,
    ActionResult,
    Decommission,
    Deploy,
    Focus,
    IncreaseSampling,
    Relocate,
)
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.protocol import action_wire, cluster_table, proposal_wire, world_wire
from scythe_desktop.protocol.keepalive import KEEPALIVE, KeepalivePolicy
from scythe_desktop.protocol.limits import CLIENT_MAX_RECEIVE_BYTES
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2_grpc as pb_grpc
from scythe_desktop.protocol.wire import Reassembler, WireError, WireFrame
from scythe_desktop.protocol.world_wire import FIELD_KINDS, ObserverList, WorldInfo

T = TypeVar("T")

#: Codes after which an action is retried with the same request id (the server never acts twice).

#: Channel options: fast transport-level reconnects (the default waits ≥ 1 s then backs off to 120 s).
#: Keepalive (pings every 10 s, so a dead link is noticed within ~15 s even when no frame flows) comes from
#: ``protocol.keepalive``, the policy the server's ping limits are derived from.
CHANNEL_OPTIONS: Final = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
    # Explicit, because servers bound their replies by it (protocol/limits.py).
    ("grpc.max_receive_message_length", CLIENT_MAX_RECEIVE_BYTES),
    # Keyframes are megabytes: read the socket in large chunks and let the server send large HTTP/2 frames
    # (defaults: 8 KiB reads, 16 KiB frames). Measured on loopback: ≈ +30 % keyframe throughput.
    ("grpc.experimental.tcp_read_chunk_size", 1 << 20),
    ("grpc.experimental.tcp_min_read_chunk_size", 256 << 10),
    ("grpc.experimental.tcp_max_read_chunk_size", 4 << 20),
    ("grpc.http2.max_frame_size", (1 << 24) - 1),
)



class OrchestratorClient:
    """A connection to one orchestrator. See the module docstring for the guarantees.

    ``channel_credentials``: ``grpc.local_channel_credentials()`` for loopback (what
    :func:`scythe_desktop.orchestrator.server.start_embedded` hands out) or ``grpc.ssl_channel_credentials(...)``.
    There is no insecure mode: bearer tokens never travel over an unprotected channel.
    ``on_state(state, detail)`` is called from the streaming thread on every connection state change.
    """

    def __init__(
        self,
        target: str,
        channel_credentials: grpc.ChannelCredentials,
        *,
        refresh_token: str | None = None,
        on_state: Callable[[ConnectionState, str], None] | None = None,
        backoff: Backoff = Backoff(),
        timeout_s: float = 10.0,
        action_attempts: int = 6,
        refresh_margin_s: float = 30.0,
        seed: int | None = None,
        options: Iterable[tuple[str, Any]] = (),
        clock: Callable[[], float] = time.time,
        keepalive: KeepalivePolicy = KEEPALIVE,
    ) -> None:
        self.target = target
        channel_options = [*CHANNEL_OPTIONS, *keepalive.client_options(), *options]
        self._channel = grpc.secure_channel(target, channel_credentials, options=channel_options)
        self._stub = pb_grpc.OrchestratorStub(self._channel)
        self._agent = pb_grpc.ObserverAgentStub(self._channel)
        self._tokens = AccessTokens(pb_grpc.AuthStub(self._channel), refresh_token, refresh_margin_s, timeout_s, clock)
        self._on_state = on_state
        self._backoff = backoff
        self._timeout_s = timeout_s
        self._action_attempts = action_attempts
        self._rng = random.Random(seed)  # jitter only; seeded for reproducible tests
        self._closed = threading.Event()
        self._call_lock = threading.Lock()
        self._calls: set[grpc.Call] = set()
        self.last_seq = 0
        self._state: ConnectionState | None = None

    # ------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Stop every stream and retry loop (from any thread) and close the channel."""
        self.cancel()
        self._channel.close()

    def cancel(self) -> None:
        """End running streams, unary calls and retry loops now, from any thread; the client cannot call or
        stream again (a call then ends with CANCELLED)."""
        self._closed.set()
        with self._call_lock:
            calls = list(self._calls)
        for call in calls:
            call.cancel()

    def __enter__(self) -> OrchestratorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def subject(self) -> str:
        """The identity the server knows this client by (after the first call)."""
        return self._tokens.subject

    @property
    def token_refreshes(self) -> int:
        """How many access tokens this client has fetched so far."""
        return self._tokens.refreshes

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state is not self._state:
            self._state = state
            if self._on_state is not None:
                self._on_state(state, detail)

    # ------------------------------------------------------------------------------------- unary calls

    def _call_once(self, method: Callable[..., T], request: Any) -> T:
        """One attempt of a unary call, registered so that :meth:`cancel` ends it from any thread."""
        if self._closed.is_set():
            raise OrchestratorError(grpc.StatusCode.CANCELLED, "client closed")
        future = cast(Any, method).future(request, metadata=self._tokens.metadata(), timeout=self._timeout_s)
        with self._call_lock:
            self._calls.add(future)
        try:
            if self._closed.is_set():  # cancelled while the call was being started
                future.cancel()
            return cast(T, future.result())
        except grpc.FutureCancelledError:
            raise OrchestratorError(grpc.StatusCode.CANCELLED, "client closed") from None
        finally:
            with self._call_lock:
                self._calls.discard(future)

    def _unary(self, method: Callable[..., T], request: Any, *, attempts: int = 1) -> T:
        attempt = 0
        refreshed = False
        while True:
            try:
                return self._call_once(method, request)
            except grpc.RpcError as exc:
                code: grpc.StatusCode = exc.code()
                details: str = exc.details() or ""
                if code is grpc.StatusCode.UNAUTHENTICATED and "expired" in details and not refreshed:
                    self._tokens.expire()
                    refreshed = True
                    continue
                attempt += 1
                if code not in RETRYABLE or attempt >= attempts or self._closed.is_set():
                    raise OrchestratorError(code, details) from None
                if self._closed.wait(self._backoff.delay(attempt, self._rng)):
                    raise OrchestratorError(grpc.StatusCode.CANCELLED, "client closed") from None

    def world_info(self) -> WorldInfo:
        return world_wire.world_info(self._unary(self._stub.GetWorldInfo, pb.WorldInfoRequest(), attempts=3))

    def list_observers(self) -> ObserverList:
        return world_wire.observer_list(self._unary(self._stub.ListObservers, pb.ListObserversRequest(), attempts=3))

    def cluster_graph(self, cluster_id: int) -> ClusterGraph:
        snap = self._unary(self._stub.GetClusterSnapshot, pb.ClusterRequest(cluster_id=cluster_id), attempts=3)
        nodes_frame, edges_frame = core_frames.iter_frames(snap.graph_binary)
        return ClusterGraph(snap.cluster_id, snap.tick, nodes_frame.data, edges_frame.data)

    def cluster_table(self) -> ClusterTable:
        """The world's cluster table; a malformed reply raises ``ClusterTableError`` naming the field."""
        reply = self._unary(self._stub.GetClusterTable, pb.ClusterTableRequest(), attempts=3)
        rows = cluster_table.decode_rows(reply.rows, reply.row_count, reply.row_size)
        w = reply.reward_weights
        moves = tuple((m.tick, m.kind, m.cluster_id, m.lon, m.lat) for m in reply.evader_moves)
        return ClusterTable(
            reply.tick, rows, reply.spend_per_hour, reply.tick_hours, (w.information_gain, w.cost, w.coverage),
            (reply.activations_caught_total, reply.activations_evaded_total), reply.evader, moves,
        )

    def propose(self, limit: int = 0) -> Proposals:
        """The orchestrator policy's current proposals, best first (``limit`` 0: the server's default)."""
        reply = self._unary(self._stub.Propose, pb.ProposeRequest(limit=limit), attempts=3)
        return Proposals(reply.tick, reply.policy, tuple(proposal_wire.from_message(m) for m in reply.proposals))

    def field(self, kind: int | str, *, height: int = 0, width: int = 0, size: int = 0) -> np.ndarray:
        """A grid (``coverage``/``occlusion``/``uncertainty``, height × width) or the ``volume`` (size³);
        ``kind`` is a name of :data:`FIELD_KINDS` or a ``pb.FieldKind`` value."""
        if isinstance(kind, str):
            kind = FIELD_KINDS[kind]
        reply = self._unary(
            self._stub.GetField,
            pb.FieldRequest(kind=cast(pb.FieldKind, kind), height=height, width=width, size=size),
            attempts=3,
        )
        return core_frames.decode(reply.frame).data

    def set_guardrails(self, rails: Guardrails) -> Guardrails:
        """Replace the orchestrator's guardrails (admin); the rails now in force."""
        reply = self._unary(self._stub.SetGuardrails, world_wire.guardrails_message(rails), attempts=3)
        return world_wire.guardrails(reply)

    # ---------------------------------------------------------------------------------------- actions

    @staticmethod
    def new_request_id() -> str:
        return uuid.uuid4().hex

    def _act(self, method: Callable[..., pb.ActionReply], request: Any) -> ActionOutcome:
        return action_wire.outcome(self._unary(method, request, attempts=self._action_attempts))

    def deploy(
        self, lon: float, lat: float, observer_type: str = "", *, request_id: str | None = None
    ) -> ActionOutcome:
        return self._act(
            self._stub.DeployObserver,
            pb.DeployRequest(
                request_id=request_id or self.new_request_id(), lon=lon, lat=lat, observer_type=observer_type
            ),
        )

    def relocate(self, observer_id: int, lon: float, lat: float, *, request_id: str | None = None) -> ActionOutcome:
        return self._act(
            self._stub.RelocateObserver,
            pb.RelocateRequest(
                request_id=request_id or self.new_request_id(), observer_id=observer_id, lon=lon, lat=lat
            ),
        )

    def increase_sampling(self, observer_id: int, *, request_id: str | None = None) -> ActionOutcome:
        return self._act(
            self._stub.IncreaseSamplingRate,
            pb.IncreaseSamplingRequest(request_id=request_id or self.new_request_id(), observer_id=observer_id),
        )

    def focus(self, observer_id: int, cluster_id: int, *, request_id: str | None = None) -> ActionOutcome:
        return self._act(
            self._stub.FocusCluster,
            pb.FocusRequest(
                request_id=request_id or self.new_request_id(), observer_id=observer_id, cluster_id=cluster_id
            ),
        )

    def decommission(self, observer_id: int, *, request_id: str | None = None) -> ActionOutcome:
        return self._act(
            self._stub.DecommissionObserver,
            pb.DecommissionRequest(request_id=request_id or self.new_request_id(), observer_id=observer_id),
        )

    # --------------------------------------------------------------------------------- observer agent

    def act(self, action: Action, *, request_id: str | None = None) -> ActionResult:
        """Send one engine action through its RPC (a retry reuses ``request_id``); the reply as a domain result.

        Raises :class:`OrchestratorError` when the call is refused outright (auth, bad argument, unreachable).
        """
        request_id = request_id or self.new_request_id()
        match action:
            case Deploy(lon=lon, lat=lat, observer_type=kind):
                reply = self.deploy(lon, lat, kind or "", request_id=request_id)
            case Relocate(observer_id=oid, lon=lon, lat=lat):
                reply = self.relocate(oid, lon, lat, request_id=request_id)
            case IncreaseSampling(observer_id=oid):
                reply = self.increase_sampling(oid, request_id=request_id)
            case Focus(observer_id=oid, cluster_id=cid):
                reply = self.focus(oid, cid, request_id=request_id)
            case Decommission(observer_id=oid):
                reply = self.decommission(oid, request_id=request_id)
            case _:
                raise TypeError(f"not an action: {action!r}")
        return ActionResult(reply.ok, reply.reason, int(reply.observer_id) if reply.ok else None,
                            float(reply.cost_per_hour))

    def agent_register(self, observer_id: int, pid: int) -> pb.HeartbeatReply:
        """For ``scythe observer`` processes (role observer): announce this process."""
        return self._unary(self._agent.Register, pb.ObserverHello(observer_id=observer_id, pid=pid), attempts=20)

    def agent_heartbeat(self, observer_id: int, load: float) -> pb.HeartbeatReply:
        return self._unary(self._agent.Heartbeat, pb.HeartbeatRequest(observer_id=observer_id, load=load), attempts=10)

    # ----------------------------------------------------------------------------------------- stream

    def frames(self, *, resume_from_seq: int | None = None, kinds: Iterable[int] = ()) -> Iterator[WireFrame]:
        """Every frame after ``resume_from_seq`` (default: :attr:`last_seq`), in order, across reconnects.

        Ends when :meth:`cancel` or :meth:`close` is called; raises :class:`OrchestratorError` for
        errors a retry cannot fix (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, ...).
        """
        if resume_from_seq is not None:
            self.last_seq = resume_from_seq
        kinds = list(kinds)
        last_node_seq = 0
        attempt = 0
        reassembler = Reassembler()
        self._set_state(ConnectionState.CONNECTING)
        while not self._closed.is_set():
            request = pb.StreamRequest(resume_from_seq=self.last_seq, kinds=cast(list[pb.FrameKind], kinds))
            call = None
            first = True
            try:
                call = self._stub.StreamClusterUpdates(request, metadata=self._tokens.metadata())
                with self._call_lock:
                    self._calls.add(call)
                if self._closed.is_set():
                    call.cancel()
                for msg in call:
                    frame = reassembler.feed(msg)
                    if frame is None:
                        continue
                    if first:
                        self._set_state(ConnectionState.STREAMING, self.target)
                        attempt = 0
                    if frame.seq <= self.last_seq and not (first and frame.kind == pb.KEYFRAME):
                        continue  # already delivered before a reconnect
                    first = False
                    if frame.kind == pb.DELTA and last_node_seq and frame.base_seq != last_node_seq:
                        raise WireError(
                            f"delta seq {frame.seq} applies to node frame {frame.base_seq}, "
                            f"but the last node frame was {last_node_seq}"
                        )
                    if frame.kind in (pb.KEYFRAME, pb.DELTA):
                        last_node_seq = frame.seq
                    self.last_seq = frame.seq
                    yield frame
                detail = "stream ended by the server"
            except grpc.RpcError as exc:
                code = exc.code()
                if self._closed.is_set():
                    break
                if code is grpc.StatusCode.UNAUTHENTICATED and "expired" in (exc.details() or ""):
                    self._tokens.expire()  # fetch a new access token on the next attempt
                    if not first:
                        # The server ends a stream when its access token expires: a routine re-authentication,
                        # resumed at once from the last seq, not a lost link.
                        continue
                elif code not in (
                    *RETRYABLE,
                    grpc.StatusCode.CANCELLED,
                    grpc.StatusCode.INTERNAL,
                    grpc.StatusCode.UNKNOWN,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                ):
                    self._set_state(ConnectionState.CLOSED, f"{code.name}: {exc.details()}")
                    raise OrchestratorError(code, exc.details() or "") from None
                detail = f"{code.name}: {exc.details()}"
            except OrchestratorError as exc:
                self._set_state(ConnectionState.CLOSED, str(exc))
                raise
            except WireError as exc:
                # Something out of order: start again from the server's latest keyframe.
                detail = str(exc)
                self.last_seq = 0
                last_node_seq = 0
            finally:
                reassembler.reset()
                if call is not None:
                    with self._call_lock:
                        self._calls.discard(call)
                    call.cancel()
            if self._closed.is_set():
                break
            self._set_state(ConnectionState.RECONNECTING, detail)
            if self._closed.wait(self._backoff.delay(attempt, self._rng)):
                break
            attempt += 1
        self._set_state(ConnectionState.CLOSED, "cancelled")

    def stream(self, on_frame: Callable[[WireFrame], None], **kwargs: Any) -> None:
        """Call ``on_frame`` for every frame until cancelled (see :meth:`frames`); blocks the calling thread."""
        for frame in self.frames(**kwargs):
            on_frame(frame)


def decode(frame: WireFrame) -> core_frames.Frame | ObserverList:
    """The payload as a core frame (zero-copy view), or the observer list for ``OBSERVERS`` frames.

    Raises :class:`~scythe_desktop.core.frames.FrameError` for a malformed payload of either kind."""
    if frame.kind == pb.OBSERVERS:
        try:
            return world_wire.observer_list(pb.ObserverList.FromString(frame.payload))
        except DecodeError as exc:
            raise core_frames.FrameError(f"observer list does not parse: {exc}") from None
    return core_frames.decode(frame.payload)


__all__ = [
    "FIELD_KINDS", "RETRYABLE", "Backoff", "ClusterGraph", "ClusterTable", "ConnectionState", "OrchestratorClient",
    "OrchestratorError", "Proposals", "credentials_for", "decode", "local_credentials", "tls_credentials",
]
