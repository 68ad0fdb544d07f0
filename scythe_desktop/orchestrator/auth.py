"""Bearer-token authentication and role checks for the orchestrator.

Tokens are JWTs signed with HS256 by one server secret (``--auth-secret`` or a key file). A *refresh*
token (long-lived, given to a user or an observer process) is exchanged through ``scythe.v1.Auth``
for a short-lived *access* token; every other call carries the access token as
``authorization: Bearer …`` metadata, never in a message field. Claims: ``sub`` (per-instance
identity), ``role``, ``typ`` (access | refresh), ``aud``, ``iat``, ``exp``, ``jti``.

:class:`AuthInterceptor` rejects a call before its handler runs: UNAUTHENTICATED for a missing,
expired, forged or wrong-audience token, PERMISSION_DENIED for a role that may not call the method.
Health is exempt; reflection accepts any person's token (access or refresh). Every stream then takes a slot
from :class:`~scythe_desktop.orchestrator.admission.StreamAdmission` (per identity, per peer, anonymous).
Messages name the problem, never the token. This module knows method names and roles, nothing of worlds or
frames.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import grpc
import jwt

from scythe_desktop.orchestrator.admission import Caller, StreamAdmission

AUDIENCE: Final = "scythe.v1"
ALGORITHM: Final = "HS256"
ACCESS_TTL_S: Final = 300.0
REFRESH_TTL_S: Final = 30 * 24 * 3600.0

VIEWER, OPERATOR, ADMIN, OBSERVER = "viewer", "operator", "admin", "observer"
ROLES: Final = (VIEWER, OPERATOR, ADMIN, OBSERVER)
#: Which roles each role includes. ``observer`` is a process identity, not a person: it may only talk
#: to the observer agent service.
_GRANTS: Final[dict[str, frozenset[str]]] = {
    VIEWER: frozenset({VIEWER}),
    OPERATOR: frozenset({VIEWER, OPERATOR}),
    ADMIN: frozenset({VIEWER, OPERATOR, ADMIN}),
    OBSERVER: frozenset({OBSERVER}),
}

_O = "/scythe.v1.Orchestrator/"
#: The role each method needs. A method not listed is refused (PERMISSION_DENIED), so a new RPC
#: cannot slip through unprotected.
METHOD_ROLES: Final[dict[str, str]] = {
    _O + "StreamClusterUpdates": VIEWER,
    _O + "GetClusterSnapshot": VIEWER,
    _O + "GetField": VIEWER,
    _O + "ListObservers": VIEWER,
    _O + "GetWorldInfo": VIEWER,
    _O + "GetClusterTable": VIEWER,
    _O + "Propose": VIEWER,  # proposing changes nothing; sending one is an operator's action
    _O + "DeployObserver": OPERATOR,
    _O + "RelocateObserver": OPERATOR,
    _O + "IncreaseSamplingRate": OPERATOR,
    _O + "FocusCluster": OPERATOR,
    _O + "DecommissionObserver": OPERATOR,
    _O + "SetGuardrails": ADMIN,
    "/scythe.v1.ObserverAgent/Register": OBSERVER,
    "/scythe.v1.ObserverAgent/Heartbeat": OBSERVER,
}
REFRESH_METHOD: Final = "/scythe.v1.Auth/Refresh"
#: Health needs no token (probes carry none); its Watch stream takes one of the few anonymous stream slots.
EXEMPT_PREFIXES: Final = ("/grpc.health.v1.Health/",)
#: Reflection needs a person's token, access or refresh (so ``grpcurl -H 'authorization: Bearer $(cat
#: viewer.token)'`` can learn the schema before it has an access token), on every transport.
REFLECTION_PREFIXES: Final = (
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)


class AuthError(Exception):
    """A token problem; ``code`` is the gRPC status to answer with. The message never holds the token."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    role: str
    token_id: str
    expires_at: float


def load_secret(secret: str | None = None, key_file: str | Path | None = None) -> bytes:
    """The signing secret from ``secret`` or the first line of ``key_file``; a fresh random one if neither."""
    if secret and key_file:
        raise ValueError("give either an auth secret or an auth key file, not both")
    if key_file:
        data = Path(key_file).read_bytes().strip()
        if len(data) < 32:
            raise ValueError(f"auth key file {key_file} must hold at least 32 bytes of secret")
        return data
    if secret:
        if len(secret) < 32:
            raise ValueError("auth secret must be at least 32 characters")
        return secret.encode()
    return secrets.token_bytes(32)


class TokenAuthority:
    """Issues and verifies this server's tokens."""

    def __init__(self, secret: bytes, *, access_ttl_s: float = ACCESS_TTL_S, clock: Callable[[], float] = time.time):
        self._secret = secret
        self.access_ttl_s = access_ttl_s
        self._clock = clock

    def issue(self, subject: str, role: str, *, kind: str = "access", ttl_s: float | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if kind not in ("access", "refresh"):
            raise ValueError(f"token kind must be access or refresh, got {kind!r}")
        now = self._clock()
        ttl = ttl_s if ttl_s is not None else (self.access_ttl_s if kind == "access" else REFRESH_TTL_S)
        claims = {
            "sub": subject,
            "role": role,
            "typ": kind,
            "aud": AUDIENCE,
            "iat": int(now),
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, *, kind: str | None = "access") -> Identity:
        """The identity a token proves; ``kind`` None accepts an access or a refresh token."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "role", "typ", "exp", "jti", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, f"token audience is not {AUDIENCE}") from None
        except jwt.InvalidSignatureError:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "token signature is invalid") from None
        except jwt.PyJWTError as exc:
            # PyJWT messages describe the claim or format problem, never echo the token.
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, f"token rejected: {exc}") from None
        if kind is not None and claims["typ"] != kind:
            raise AuthError(
                grpc.StatusCode.UNAUTHENTICATED, f"a {claims['typ']} token was sent where a {kind} token is needed"
            )
        if claims["role"] not in ROLES:
            raise AuthError(grpc.StatusCode.PERMISSION_DENIED, f"unknown role {claims['role']!r}")
        return Identity(str(claims["sub"]), str(claims["role"]), str(claims["jti"]), float(claims["exp"]))


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The bearer token in call metadata (a sequence of key/value pairs), or AuthError."""
    values = [v for k, v in metadata if k == "authorization"] if metadata else []
    if not values:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata")
    if len(values) > 1:
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "more than one authorization header")
    value = values[0].decode() if isinstance(values[0], bytes) else values[0]
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "authorization metadata must be 'Bearer <token>'")
    return token.strip()


def may_call(role: str, method: str) -> bool:
    needed = METHOD_ROLES.get(method)
    return needed is not None and needed in _GRANTS.get(role, frozenset())


def identity_of(authority: TokenAuthority, context: grpc.ServicerContext, *, kind: str = "access") -> Identity:
    """Who is calling; handlers use it after the interceptor has already let the call in."""
    try:
        return authority.verify(bearer_token(context.invocation_metadata()), kind=kind)
    except AuthError as exc:
        context.abort(exc.code, str(exc))
        raise  # abort raises; this keeps type checkers informed


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    def abort(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    def abort_stream(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)
        yield  # pragma: no cover - makes this a generator, as a streaming handler must be

    makers: dict[tuple[bool, bool], Any] = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    make = makers[(bool(handler.request_streaming), bool(handler.response_streaming))]
    return make(
        abort_stream if handler.response_streaming else abort,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class AuthInterceptor(grpc.ServerInterceptor):
    """Checks the bearer token and role of every call before its handler runs, then admits its stream."""

    def __init__(self, authority: TokenAuthority, admission: StreamAdmission | None = None) -> None:
        self._authority = authority
        self._admission = admission

    def intercept_service(self, continuation: Any, handler_call_details: grpc.HandlerCallDetails) -> Any:
        method: str = handler_call_details.method
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        if method.startswith(EXEMPT_PREFIXES):
            return self._admitted(handler, Caller("", ""))
        reflection = method.startswith(REFLECTION_PREFIXES)
        kind = None if reflection else "refresh" if method == REFRESH_METHOD else "access"
        try:
            identity = self._authority.verify(bearer_token(handler_call_details.invocation_metadata), kind=kind)
        except AuthError as exc:
            return _refusal(handler, exc.code, str(exc))
        if reflection and identity.role == OBSERVER:
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED, "an observer identity may not use reflection")
        if kind == "access" and not may_call(identity.role, method):
            needed = METHOD_ROLES.get(method, "a role this server does not grant")
            return _refusal(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"role {identity.role!r} may not call {method}; it needs {needed}",
            )
        return self._admitted(handler, Caller(identity.subject, identity.role))

    def _admitted(self, handler: grpc.RpcMethodHandler, caller: Caller) -> grpc.RpcMethodHandler:
        return handler if self._admission is None else self._admission.guard(handler, caller)
