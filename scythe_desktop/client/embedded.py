"""The embedded orchestrator: the console's one entry point into :mod:`scythe_desktop.orchestrator`.

:func:`start_embedded` runs the same server as ``scythe serve`` in this process, on an ephemeral loopback
port (or a Unix socket) with local credentials, and hands back a refresh token so the app reaches it through
:class:`~scythe_desktop.client.grpc_client.OrchestratorClient` exactly like a remote one. No Qt.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from scythe_desktop.client.grpc_client import OrchestratorClient
from scythe_desktop.client.source import LiveSource, SourceError
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.advisor import PolicySpec
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
from scythe_desktop.orchestrator.world_host import StateMismatch
from scythe_desktop.protocol.transport import local_connection_type


@dataclass
class EmbeddedOrchestrator:
    """What :func:`start_embedded` returns: connect with ``OrchestratorClient(h.target, h.credentials,
    refresh_token=h.token)`` or simply ``h.client()``."""

    orchestrator: Orchestrator
    target: str
    credentials: grpc.ChannelCredentials
    token: str  # a refresh token (role admin) for the local user; keep it out of logs

    def client(self, **kwargs: Any) -> OrchestratorClient:
        return OrchestratorClient(self.target, self.credentials, refresh_token=self.token, **kwargs)

    def stop(self) -> None:
        self.orchestrator.stop()


def start_embedded(
    scenario: str | Scenario = "regional",
    seed: int = 0,
    *,
    state_dir: Path | None = None,
    tick_hz: float = 5.0,
    **config: Any,
) -> EmbeddedOrchestrator:
    """Start an orchestrator in this process on an ephemeral loopback port with local credentials.

    Pass ``unix_socket=Path(...)`` to listen on a Unix domain socket instead (no TCP port at all).
    """
    orch = Orchestrator(
        ServerConfig(
            scenario=scenario, seed=seed, host="127.0.0.1", port=0, state_dir=state_dir, tick_hz=tick_hz, **config
        )
    )
    orch.start()
    token = orch.issue_refresh_token(f"local-{getpass.getuser()}", auth.ADMIN)
    return EmbeddedOrchestrator(
        orch, orch.target, grpc.local_channel_credentials(local_connection_type(orch.target)), token
    )


class EmbeddedSource(LiveSource):
    """The default source: an orchestrator in this process on loopback, running the console's ``--policy``."""

    def __init__(self, embedded: EmbeddedOrchestrator, description: dict[str, str]) -> None:
        super().__init__(embedded.client, description)
        self.embedded = embedded

    def close(self) -> None:
        super().close()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def open_embedded(scenario: str = "regional", seed: int = 0, policy: PolicySpec = "auto",
                  **options: Any) -> EmbeddedSource:
    """Start the embedded orchestrator; raises :class:`SourceError` when it cannot start (the message says why)."""
    try:
        embedded = start_embedded(scenario, seed, policy=policy, **options)
    except (OSError, ValueError, StateMismatch) as exc:
        raise SourceError(f"cannot start the embedded orchestrator on scenario {scenario!r}: {exc}") from exc
    description = {
        "source": f"embedded orchestrator, scenario {scenario}, seed {seed}",
        "address": embedded.target,
        "transport": "loopback, local credentials",
        "token": "local operator token (admin), refreshed automatically",
    }
    return EmbeddedSource(embedded, description)
