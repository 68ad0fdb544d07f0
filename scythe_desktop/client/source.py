"""The one interface the console reads a world through: :class:`Source`, and the remote implementation.

:func:`parse_source` turns the ``--source`` text into a :class:`SourceSpec` (``embedded``,
``grpc://HOST:PORT`` or ``replay:FILE``; a bad one raises :class:`SourceError` naming the value). A
:class:`Source` makes one :class:`SourceClient` per thread (stream, calls), describes itself for the
connection dock and closes everything it opened. Three classes implement it: :class:`RemoteSource` (here),
:class:`~scythe_desktop.client.embedded.EmbeddedSource` (an orchestrator in this process, reached through
the same gRPC client) and :class:`~scythe_desktop.recording.replay.ReplaySource` (a recording, read-only,
with its own :class:`SourceClient`). Live sources also hand out a full
:class:`~scythe_desktop.client.grpc_client.OrchestratorClient` (:meth:`Source.orchestrator`) for actions,
cluster table, proposals and fields. No Qt; this module imports no orchestrator and no recording code.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from scythe_desktop.client.grpc_client import ConnectionState, OrchestratorClient, credentials_for
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.protocol.world_wire import ObserverList, WorldInfo

if TYPE_CHECKING:
    from scythe_desktop.client.embedded import EmbeddedOrchestrator

StateCallback = Callable[[ConnectionState, str], None]


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


class SourceClient(Protocol):
    """What one thread reads from any source: the frame stream, the world's facts, and a way to stop."""

    #: The sequence number of the last frame :meth:`frames` yielded (where a new stream resumes).
    last_seq: int

    @property
    def subject(self) -> str: ...

    def frames(self, *, resume_from_seq: int | None = None, kinds: Iterable[int] = ()) -> Iterator[WireFrame]: ...

    def world_info(self) -> WorldInfo: ...

    def list_observers(self) -> ObserverList: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class Source(abc.ABC):
    """An open source of one world. Subclasses set :attr:`description` and implement :meth:`client`."""

    #: Lines for the connection dock: source, address, transport, token.
    description: dict[str, str]
    #: The embedded orchestrator this source runs, if any (None once closed).
    embedded: EmbeddedOrchestrator | None = None

    @property
    def live(self) -> bool:
        """True for an orchestrator (actions, cluster table, proposals); False for a recording."""
        return True

    @property
    def replay(self) -> Any:
        """The replay player (timeline controls) of a recording source; None for live sources."""
        return None

    @abc.abstractmethod
    def client(self, on_state: StateCallback | None = None) -> SourceClient:
        """A new client for one thread; :meth:`close` closes it."""

    def orchestrator(self, on_state: StateCallback | None = None) -> OrchestratorClient:
        """A full orchestrator client (actions, insight, fields); only live sources have one."""
        raise SourceError("a recording has no orchestrator: replay is read-only")

    @abc.abstractmethod
    def close(self) -> None:
        """Close every client this source made and stop what it started."""


class LiveSource(Source):
    """A source backed by an orchestrator; every client is an :class:`OrchestratorClient`."""

    def __init__(self, make_client: Callable[..., OrchestratorClient], description: dict[str, str]) -> None:
        self._make_client = make_client
        self.description = description
        self._clients: list[OrchestratorClient] = []

    def client(self, on_state: StateCallback | None = None) -> OrchestratorClient:
        return self.orchestrator(on_state)

    def orchestrator(self, on_state: StateCallback | None = None) -> OrchestratorClient:
        client = self._make_client(on_state=on_state)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


class RemoteSource(LiveSource):
    """An orchestrator elsewhere (``grpc://HOST:PORT``); see :func:`open_remote`."""


def open_remote(spec: SourceSpec, token: str | None = None, tls_ca: Path | None = None) -> RemoteSource:
    """A ``grpc://HOST:PORT`` source: TLS with ``tls_ca`` (or the system CAs), local credentials on loopback."""
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    root = None
    if tls_ca is not None:
        try:
            root = tls_ca.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read --tls-ca {tls_ca}: {exc.strerror}") from exc
    credentials, transport = credentials_for(spec.address, root)
    if tls_ca is not None:
        transport = f"TLS (CA {tls_ca})"

    def make(on_state: Callable[[ConnectionState, str], None] | None = None) -> OrchestratorClient:
        return OrchestratorClient(spec.address, credentials, refresh_token=token, on_state=on_state)

    description = {
        "source": "remote orchestrator",
        "address": spec.address,
        "transport": transport,
        "token": "refresh token given" if token else f"none (set ${TOKEN_ENV} or --token-file)",
    }
    return RemoteSource(make, description)


__all__ = ["TOKEN_ENV", "LiveSource", "RemoteSource", "Source", "SourceClient", "SourceError", "SourceSpec",
           "open_remote", "parse_source"]
