"""Where the console's world comes from: ``embedded``, ``grpc://HOST:PORT`` or ``replay:FILE``.

:func:`parse_source` turns the ``--source`` text into a :class:`SourceSpec` (a bad one raises
:class:`SourceError` naming the value). :func:`open_source` makes a :class:`Connection`: a factory of
:class:`~scythe_desktop.net.client.OrchestratorClient` s (one per thread: stream, actions, insight, fields)
and the connection dock's description. Embedded and remote use the same client code; the embedded
orchestrator is served on loopback with local credentials and runs the console's ``--policy`` for its
``Propose`` RPC. A replay source plays a recording through a
:class:`~scythe_desktop.net.replay.ReplaySource` (kept on :attr:`Connection.replay` for the timeline's
controls) with :class:`~scythe_desktop.net.replay.ReplayClient` s standing in for the live client; the
recorded proposals, decisions and metrics go to :attr:`Connection.on_replay_event`. A file that is not a
usable recording raises :class:`SourceError` with the reader's message (file and problem). No Qt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc

from scythe_desktop.net.advisor import PolicySpec
from scythe_desktop.net.client import ConnectionState, OrchestratorClient
from scythe_desktop.net.recording.reader import RecordingError
from scythe_desktop.net.recording.timeline import ReplayEvent
from scythe_desktop.net.replay import ReplayClient, ReplaySource
from scythe_desktop.net.server import EmbeddedOrchestrator, is_loopback, start_embedded

#: Environment variable holding a refresh token for a remote orchestrator (kept off the command line,
#: where other users could read it in the process list).
TOKEN_ENV = "SCYTHE_TOKEN"


class SourceError(ValueError):
    """A source that cannot be used; the message names the value and what was expected."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "embedded" | "grpc" | "replay"
    address: str = ""  # grpc: host:port
    path: Path | None = None  # replay: the recording


def parse_source(text: str) -> SourceSpec:
    if text == "embedded":
        return SourceSpec("embedded")
    if text.startswith("replay:"):
        path = text.removeprefix("replay:")
        if not path:
            raise SourceError("--source replay:FILE needs a file name, got 'replay:'")
        return SourceSpec("replay", path=Path(path))
    if text.startswith("grpc://"):
        parts = urlsplit(text)
        if not parts.hostname or parts.port is None or parts.path not in ("", "/") or parts.query:
            raise SourceError(f"--source must look like grpc://HOST:PORT, got {text!r}")
        if parts.username or parts.password:
            raise SourceError("--source must not carry credentials; give the token with --token-file or $SCYTHE_TOKEN")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return SourceSpec("grpc", address=f"{host}:{parts.port}")
    raise SourceError(f"--source must be 'embedded', 'grpc://HOST:PORT' or 'replay:FILE', got {text!r}")


@dataclass
class Connection:
    """An open source. :meth:`client` makes a new client (each thread gets its own); :meth:`close` ends it."""

    spec: SourceSpec
    make_client: Callable[..., OrchestratorClient]
    description: dict[str, str]
    embedded: EmbeddedOrchestrator | None = None
    #: The recording a replay source plays (its controls are thread-safe); None for live sources.
    replay: ReplaySource | None = None
    #: Receives the recorded non-frame events (proposals, decisions, metrics, world info) of a replay, on the
    #: streaming thread; set by the window before it starts streaming.
    on_replay_event: Callable[[ReplayEvent], None] | None = None
    _clients: list[Any] = field(default_factory=list)

    def client(self, on_state: Callable[[ConnectionState, str], None] | None = None) -> OrchestratorClient:
        client = self.make_client(on_state=on_state)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
        if self.replay is not None:
            self.replay.close()

    @property
    def live(self) -> bool:
        """True for an orchestrator (actions, cluster table, proposals); False for a recording."""
        return self.replay is None


def open_source(
    spec: SourceSpec,
    *,
    scenario: str = "regional",
    seed: int = 0,
    policy: PolicySpec = "auto",
    token: str | None = None,
    tls_ca: Path | None = None,
    embedded_options: dict[str, Any] | None = None,
) -> Connection:
    """Open ``spec``. Raises :class:`SourceError` for what cannot be opened (the message says why)."""
    if spec.kind == "embedded":
        return _open_embedded(spec, scenario, seed, policy, embedded_options or {})
    if spec.kind == "grpc":
        return _open_remote(spec, token if token is not None else os.environ.get(TOKEN_ENV), tls_ca)
    if spec.kind == "replay":
        return _open_replay(spec)
    raise SourceError(f"unknown source kind {spec.kind!r}")


def _open_embedded(spec: SourceSpec, scenario: str, seed: int, policy: PolicySpec,
                   options: dict[str, Any]) -> Connection:
    try:
        embedded = start_embedded(scenario, seed, policy=policy, **options)
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot start the embedded orchestrator on scenario {scenario!r}: {exc}") from exc

    def make(on_state: Callable[[ConnectionState, str], None] | None = None) -> OrchestratorClient:
        return embedded.client(on_state=on_state)

    description = {
        "source": f"embedded orchestrator, scenario {scenario}, seed {seed}",
        "address": embedded.target,
        "transport": "loopback, local credentials",
        "token": "local operator token (admin), refreshed automatically",
    }
    return Connection(spec, make, description, embedded=embedded)


def _open_remote(spec: SourceSpec, token: str | None, tls_ca: Path | None) -> Connection:
    host = spec.address.rsplit(":", 1)[0].strip("[]")
    if tls_ca is not None:
        try:
            root = tls_ca.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read --tls-ca {tls_ca}: {exc.strerror}") from exc
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
        transport = f"TLS (CA {tls_ca})"
    elif is_loopback(host):
        credentials = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        transport = "loopback, local credentials"
    else:
        credentials = grpc.ssl_channel_credentials()
        transport = "TLS (system CAs)"

    def make(on_state: Callable[[ConnectionState, str], None] | None = None) -> OrchestratorClient:
        return OrchestratorClient(spec.address, credentials, refresh_token=token, on_state=on_state)

    description = {
        "source": "remote orchestrator",
        "address": spec.address,
        "transport": transport,
        "token": "refresh token given" if token else f"none (set ${TOKEN_ENV} or --token-file)",
    }
    return Connection(spec, make, description)


def _open_replay(spec: SourceSpec) -> Connection:
    assert spec.path is not None
    try:
        source = ReplaySource(spec.path)
    except RecordingError as exc:
        raise SourceError(f"cannot replay: {exc}") from exc

    def forward(event: ReplayEvent) -> None:
        if connection.on_replay_event is not None:
            connection.on_replay_event(event)

    def make(on_state: Callable[[ConnectionState, str], None] | None = None) -> ReplayClient:
        return ReplayClient(source, on_state=on_state, on_event=forward)

    meta = source.metadata
    what = ", ".join(f"{key} {meta[key]}" for key in ("scenario", "seed", "policy") if meta.get(key))
    description = {
        "source": f"recording {spec.path.name}" + (f" ({what})" if what else ""),
        "address": str(spec.path),
        "transport": f"file, {source.duration_s:.1f} s of log time, {len(source.bookmarks)} decisions",
        "token": "none needed (read-only replay)",
    }
    connection = Connection(spec, make, description, replay=source)  # type: ignore[arg-type]
    return connection


__all__ = ["TOKEN_ENV", "Connection", "SourceError", "SourceSpec", "open_source", "parse_source"]
