"""Channel credentials and the bearer-token session of one client.

:func:`credentials_for` picks TLS, local credentials or the system's CAs for a target; :class:`AccessTokens`
holds a refresh token and exchanges it for short-lived access tokens ahead of expiry (thread-safe). The
tokens never appear in a message or a log line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc

from scythe_desktop.client.results import RETRYABLE, OrchestratorError
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2_grpc as pb_grpc
from scythe_desktop.protocol.transport import is_loopback, local_connection_type


class AccessTokens:
    """Holds the refresh token and the current access token; refreshes ahead of expiry. Thread-safe.

    The refresh token given (a long-lived *grant*, e.g. a token file) starts a session at the first Refresh;
    after that the session's rotating refresh token — a new one with every reply, each usable once — is what
    is sent, so a copy of an old one is worthless and using it is detected by the server. When the server no
    longer knows the session (or it expired) the grant starts a new one."""

    def __init__(
        self,
        auth: pb_grpc.AuthStub,
        refresh_token: str | None,
        margin_s: float,
        timeout_s: float,
        clock: Callable[[], float],
    ):
        self._auth = auth
        self._grant = refresh_token
        self._rotating: str | None = None  # the session's newest refresh token, once there is a session
        self._margin_s = margin_s
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._access: str | None = None
        self._expires = 0.0
        self._clock = clock
        self.subject = ""
        self.role = ""
        self.refreshes = 0

    def expire(self) -> None:
        """Forget the access token (the server said it expired), so the next call fetches a new one."""
        with self._lock:
            self._access = None

    def _exchange(self, token: str) -> pb.AccessToken:
        reply: pb.AccessToken = self._auth.Refresh(
            pb.RefreshRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=self._timeout_s
        )
        return reply

    def _refresh(self) -> pb.AccessToken:
        assert self._grant is not None
        if self._rotating is not None:
            try:
                return self._exchange(self._rotating)
            except grpc.RpcError as exc:
                details = exc.details() or ""
                if exc.code() is not grpc.StatusCode.UNAUTHENTICATED or not (
                        "session unknown" in details or "expired" in details):
                    raise
                self._rotating = None  # the session is gone, not stolen: start another from the grant
        return self._exchange(self._grant)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        if self._grant is None:
            return ()
        with self._lock:
            if self._access is None or self._clock() > self._expires - self._margin_s:
                try:
                    reply = self._refresh()
                except grpc.RpcError as exc:
                    if exc.code() in RETRYABLE:
                        raise  # the caller's retry loop handles an unreachable server
                    # A refused refresh token will not get better by retrying: report it, never the token.
                    raise OrchestratorError(exc.code(), f"refresh token refused: {exc.details()}") from None
                self._access, self._expires = reply.access_token, reply.expires_at_unix
                self._rotating = reply.refresh_token or None  # servers that do not rotate send none
                self.subject, self.role = reply.subject, reply.role
                # Refresh a fifth of the lifetime early (at least margin_s), so a slow call never carries
                # a token that expires on the way.
                lifetime = max(0.0, reply.expires_at_unix - self._clock())
                self.refreshes += 1
                self._margin_s = max(self._margin_s, 0.2 * lifetime)
            return (("authorization", f"Bearer {self._access}"),)


def tls_credentials(ca: bytes | None = None, key: bytes | None = None, cert: bytes | None = None
                    ) -> grpc.ChannelCredentials:
    """TLS trusting ``ca`` (None: the system's CAs), with a client key and certificate for mTLS."""
    return grpc.ssl_channel_credentials(ca, key, cert)


def local_credentials(target: str) -> grpc.ChannelCredentials:
    """Local credentials for a loopback ``host:port`` or a ``unix:`` socket."""
    return grpc.local_channel_credentials(local_connection_type(target))


def credentials_for(target: str, ca: bytes | None = None) -> tuple[grpc.ChannelCredentials, str]:
    """The credentials a console or recorder uses for ``target``, and the transport in words: TLS with ``ca``,
    local credentials on loopback, TLS with the system's CAs otherwise."""
    if ca is not None:
        return tls_credentials(ca), "TLS"
    if is_loopback(target.rsplit(":", 1)[0].strip("[]")):
        return local_credentials(target), "loopback, local credentials"
    return tls_credentials(), "TLS (system CAs)"


__all__ = ["AccessTokens", "credentials_for", "local_credentials", "tls_credentials"]
