"""Assemble and run a ``scythe.v1`` orchestrator: world host, hub, auth, health, reflection, backends.

:class:`Orchestrator` is what ``scythe serve`` runs; :func:`start_embedded` is what the desktop app
runs in-process (through :mod:`scythe_desktop.client.embedded`, the console's one way in): the same
server on an ephemeral loopback port with local credentials. Credentials: TLS (optionally mTLS) when
certificates are given; local credentials on loopback otherwise; a non-loopback address without TLS is
refused. The thread pool is sized for ``max_subscribers`` streams plus headroom that streams never get
(:mod:`~scythe_desktop.orchestrator.admission` caps them in all, per identity, per peer and without a token),
so ``Refresh``, ``GetWorldInfo`` and actions always find a thread, and a stream over a limit fails fast with
RESOURCE_EXHAUSTED instead of hanging. Unary calls beyond the headroom queue briefly (bounded) rather than
being refused.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from scythe_desktop.core.private_files import private_dir
from scythe_desktop.engine.policies import check_policy_name
from scythe_desktop.engine.scenario import Scenario, load_scenario
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.admission import StreamAdmission, StreamLimits
from scythe_desktop.orchestrator.advisor import Advisor, PolicySpec
from scythe_desktop.orchestrator.audit import AuditLog, default_key_file, load_key
from scythe_desktop.orchestrator.backends import (
    BACKENDS,
    PLAN_BACKENDS,
    Backend,
    PlanBackend,
    ProcessBackend,
    SimulatedBackend,
)
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.field_desk import FieldDesk, FieldLimits
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.secret import load_secret
from scythe_desktop.orchestrator.service import (
    SERVICE_NAMES,
    AuthService,
    ObserverAgentService,
    OrchestratorService,
    generic_handlers,
)
from scythe_desktop.orchestrator.store import StateStore
from scythe_desktop.orchestrator.token_ledger import CREDENTIALS_FILE, TokenLedger
from scythe_desktop.orchestrator.wire import upgrade_store
from scythe_desktop.orchestrator.world_host import WorldHost
from scythe_desktop.protocol import wire
from scythe_desktop.protocol.keepalive import KEEPALIVE, KeepalivePolicy
from scythe_desktop.protocol.transport import is_loopback

log = logging.getLogger(__name__)

UNARY_HEADROOM: Final = 16
#: Calls that may wait for a thread beyond the pool: a burst of refusals must not turn an admin's Refresh away.
CALL_QUEUE: Final = 64
#: Requests are small; anything near this is malformed. (Responses keep gRPC's 4 MiB default.)
MAX_REQUEST_BYTES: Final = 1024 * 1024
#: Keepalive comes from the one policy the client uses too (protocol/keepalive.py).
SERVER_OPTIONS: Final = (("grpc.max_receive_message_length", MAX_REQUEST_BYTES),)


@dataclass
class ServerConfig:
    scenario: str | Scenario = "regional"
    seed: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    auth_secret: str | None = None
    auth_key_file: Path | None = None
    audit_path: Path | None = None
    #: The audit chain's key (hex); default: ``<audit_path>.key``, created (0600) when missing. Keep it apart
    #: from the log where the log's writers must not read it.
    audit_key_file: Path | None = None
    state_dir: Path | None = None
    backend: str = "simulated"
    plan_dir: Path | None = None
    tick_hz: float = 5.0
    keyframe_every: int = 50
    max_subscribers: int = 64
    chunk_size: int = wire.DEFAULT_CHUNK_SIZE
    access_ttl_s: float = auth.ACCESS_TTL_S
    observer_connect_args: tuple[str, ...] = field(default=())
    #: Serve on this Unix domain socket (local credentials) instead of host:port; embedded use only.
    unix_socket: Path | None = None
    #: What answers Propose: a name (auto = shipped PPO, else greedy; none), or in-process a policy or loader.
    policy: PolicySpec = "auto"
    #: Must be the policy the clients use (tests and the bench shrink both together).
    keepalive: KeepalivePolicy = KEEPALIVE
    #: Where grants, sessions and revocations live (default: ``state_dir``/credentials.sqlite, else memory).
    credentials_path: Path | None = None
    #: GetField's per-identity work budget and worker count (orchestrator/field_desk.py).
    field_limits: FieldLimits = field(default_factory=FieldLimits)
    #: Stream slot limits; None: the defaults for ``max_subscribers`` slots (StreamLimits.for_slots).
    stream_limits: StreamLimits | None = None


def _check_observer_certificate(connect_args: tuple[str, ...]) -> None:
    """Under mTLS an observer process without a client certificate fails its handshake: refuse to start."""
    given = dict(zip(connect_args[::2], connect_args[1::2], strict=False))
    missing = [p for p in (given.get("--cert"), given.get("--key")) if p is None or not Path(p).is_file()]
    if missing:
        raise ValueError(
            "--backend process under mTLS (--client-ca) needs a client certificate for its observers: make one with "
            "`scythe certs --out DIR --user observer` (client-observer.crt beside the client CA is used), or give "
            "--observer-cert and --observer-key"
        )


class Orchestrator:
    """A running orchestrator server. ``start()`` binds and returns the port; ``stop()`` shuts down."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = c = config
        if (c.tls_cert is None) != (c.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if c.client_ca is not None and c.tls_cert is None:
            raise ValueError("--client-ca (mTLS) needs --tls-cert and --tls-key")
        if c.tls_cert is None and not is_loopback(c.host):
            raise ValueError(f"refusing to serve {c.host} without TLS: give --tls-cert/--tls-key, or bind 127.0.0.1")
        if isinstance(c.policy, str):
            check_policy_name(c.policy)
        if c.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {c.backend!r}")
        if c.backend == "process" and c.client_ca is not None:
            _check_observer_certificate(c.observer_connect_args)
        self.scenario = c.scenario if isinstance(c.scenario, Scenario) else load_scenario(c.scenario)
        secret = load_secret(c.auth_secret, c.auth_key_file)
        self.store: StateStore | None = None
        if c.state_dir is not None:
            private_dir(c.state_dir)
            self.store = StateStore(c.state_dir / "orchestrator.sqlite")
            upgrade_store(self.store)
        ledger_path = c.credentials_path or (c.state_dir / CREDENTIALS_FILE if c.state_dir is not None else None)
        self.authority = auth.TokenAuthority(secret, access_ttl_s=c.access_ttl_s, ledger=TokenLedger(ledger_path))
        self.audit: AuditLog | None = None
        if c.audit_path is not None:
            key = load_key(c.audit_key_file or default_key_file(c.audit_path), create=c.audit_key_file is None)
            self.audit = AuditLog(c.audit_path, key)
        self.hub = FrameHub(max_subscribers=c.max_subscribers, chunk_size=c.chunk_size)
        self.host = WorldHost(
            self.scenario, c.seed, self.hub, store=self.store, tick_hz=c.tick_hz, keyframe_every=c.keyframe_every
        )
        self.advisor = Advisor(self.host, c.policy)
        self.admission = StreamAdmission(c.stream_limits or StreamLimits.for_slots(c.max_subscribers))
        self._server: grpc.Server | None = None
        self._health = health.HealthServicer()
        self.backend: Backend = SimulatedBackend()
        self.port = 0
        self._stopped = threading.Event()

    @property
    def target(self) -> str:
        if self.config.unix_socket is not None:
            return f"unix:{self.config.unix_socket}"
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "::", "") else self.config.host
        return f"{host}:{self.port}"

    def _credentials(self) -> grpc.ServerCredentials:
        c = self.config
        if c.tls_cert is not None and c.tls_key is not None:
            root = c.client_ca.read_bytes() if c.client_ca is not None else None
            return grpc.ssl_server_credentials(
                [(c.tls_key.read_bytes(), c.tls_cert.read_bytes())],
                root_certificates=root,
                require_client_auth=root is not None,
            )
        kind = grpc.LocalConnectionType.UDS if c.unix_socket is not None else grpc.LocalConnectionType.LOCAL_TCP
        return grpc.local_server_credentials(kind)

    def _make_backend(self) -> Backend:
        c = self.config
        if c.backend == "process":
            return ProcessBackend(
                self.target,
                lambda subject: self.authority.issue(subject, auth.OBSERVER, kind="refresh"),
                connect_args=c.observer_connect_args,
                on_lost=lambda _oid, _why: self.host.mark_observers_changed(),
            )
        if c.backend in PLAN_BACKENDS:
            return PlanBackend(c.backend, c.plan_dir or Path("scythe-plans"), self.target)
        return SimulatedBackend()

    def start(self) -> int:
        c = self.config
        workers = self.admission.limits.total + UNARY_HEADROOM
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scythe-rpc"),
            interceptors=[auth.AuthInterceptor(self.authority, self.admission)],
            options=[*SERVER_OPTIONS, *c.keepalive.server_options()],
            maximum_concurrent_rpcs=workers + CALL_QUEUE,
        )
        address = f"unix:{c.unix_socket}" if c.unix_socket is not None else f"{c.host}:{c.port}"
        self.port = server.add_secure_port(address, self._credentials())
        if self.port == 0:
            raise OSError(f"could not bind {address}")
        self.backend = self._make_backend()
        self.host.observer_status = self.backend.status
        self.host.backend_name = self.backend.name
        desk = ActionDesk(self.host, self.backend, self.store, self.audit)
        fields = FieldDesk(self.host, c.field_limits)
        service = OrchestratorService(self.host, self.hub, desk, self.authority, self.advisor, fields)
        server.add_generic_rpc_handlers(
            generic_handlers(service, AuthService(self.authority), ObserverAgentService(self.backend, self.authority))
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        self.host.start()
        server.start()
        for name in ("", *SERVICE_NAMES):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        log.info(
            "orchestrator serving %s on %s (%s)",
            self.scenario.name,
            self.target,
            "TLS" if c.tls_cert else "local credentials",
        )
        return self.port

    def stop(self, grace: float | None = 1.0) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._health.enter_graceful_shutdown()
        self.hub.close()  # ends every stream generator; gRPC's stop() would not run them to the end
        if self._server is not None:
            self._server.stop(grace).wait()
        self.backend.close()
        self.host.stop()
        if self.store is not None:
            self.store.close()
        if self.audit is not None:
            self.audit.close()
        self.authority.ledger.close()

    def wait(self) -> None:
        if self._server is not None:
            self._server.wait_for_termination()

    def issue_refresh_token(self, subject: str, role: str) -> str:
        return self.authority.issue(subject, role, kind="refresh")
