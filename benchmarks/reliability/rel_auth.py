"""R4: the auth and transport matrix — every hostile token against every RPC, over three transports.

Three real orchestrators on loopback: local credentials (plain loopback), TLS, and mTLS (client
certificate required). Against every protected RPC plus ``Auth/Refresh``: no token, expired,
not yet valid (``nbf`` and ``iat`` in the future), forged signature, ``alg: none``, HS512 with the right
secret (algorithm pinning), RS256 (HS/RS confusion), wrong audience, missing ``exp``, tampered claims,
garbage, a non-Bearer scheme, two authorization headers, refresh-as-access, access-as-refresh, wrong
role and unknown role. Each must end in UNAUTHENTICATED or PERMISSION_DENIED. Transport cases: no
client certificate under mTLS, a certificate from another CA, an untrusted server CA, plaintext to a
TLS port — each must fail in the handshake (UNAVAILABLE) even with a valid token. A valid token per
method is the control (it must get past auth). Every log record emitted meanwhile and every error
message is searched for the tokens' claims and signatures.

Revocation (by subject and token id), refresh-token rotation with reuse detection and streams past their
token's expiry are R9's (``rel_revocation.py``); a token of another key is the "forged" case here.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from scythe_desktop.orchestrator import auth, certs
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

SECRET = secrets.token_hex(32)  # ≥ 32 random bytes, as scythe serve requires
REFRESH = auth.REFRESH_METHOD

#: Requests that get past argument checks where that matters; every other protected method (a new RPC
#: included) gets its request type's empty message, built from the contract's descriptors below.
_SPECIFIC: dict[str, Any] = {
    "/scythe.v1.Orchestrator/StreamClusterUpdates": pb.StreamRequest(),
    "/scythe.v1.Orchestrator/GetClusterSnapshot": pb.ClusterRequest(),
    "/scythe.v1.Orchestrator/GetField": pb.FieldRequest(kind=pb.COVERAGE, height=4, width=8),
    "/scythe.v1.Orchestrator/ListObservers": pb.ListObserversRequest(),
    "/scythe.v1.Orchestrator/GetWorldInfo": pb.WorldInfoRequest(),
    "/scythe.v1.Orchestrator/DeployObserver": pb.DeployRequest(request_id="r4", lon=-70, lat=40),
    "/scythe.v1.Orchestrator/RelocateObserver": pb.RelocateRequest(request_id="r4", observer_id=99),
    "/scythe.v1.Orchestrator/IncreaseSamplingRate": pb.IncreaseSamplingRequest(request_id="r4", observer_id=99),
    "/scythe.v1.Orchestrator/FocusCluster": pb.FocusRequest(request_id="r4", observer_id=99),
    "/scythe.v1.Orchestrator/DecommissionObserver": pb.DecommissionRequest(request_id="r4", observer_id=99),
    "/scythe.v1.Orchestrator/SetGuardrails": pb.Guardrails(max_instances=4, budget_per_hour=10),
    "/scythe.v1.ObserverAgent/Register": pb.ObserverHello(observer_id=0),
    "/scythe.v1.ObserverAgent/Heartbeat": pb.HeartbeatRequest(observer_id=0),
    REFRESH: pb.RefreshRequest(),
}


def _all_requests() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for service in pb.DESCRIPTOR.services_by_name.values():
        for m in service.methods:
            path = f"/{service.full_name}/{m.name}"
            if path in auth.METHOD_ROLES or path == REFRESH:
                out[path] = _SPECIFIC.get(path) or getattr(pb, m.input_type.name)()
    return out


REQUESTS: dict[str, Any] = _all_requests()
WRONG_ROLE = {auth.VIEWER: auth.OBSERVER, auth.OPERATOR: auth.VIEWER, auth.ADMIN: auth.OPERATOR,
              auth.OBSERVER: auth.ADMIN}
REFUSALS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(role: str, kind: str, **over: Any) -> dict[str, Any]:
    now = time.time()
    c: dict[str, Any] = {"sub": "r4-user", "role": role, "typ": kind, "aud": auth.AUDIENCE, "iat": int(now),
                         "exp": now + 600, "jti": uuid.uuid4().hex}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def token_cases(method: str, rsa_key: Any) -> dict[str, tuple[str | None, tuple[tuple[str, str], ...]]]:
    """name -> (token, extra metadata) for one method; every one must be refused."""
    is_refresh = method == REFRESH
    role = auth.ADMIN if is_refresh else auth.METHOD_ROLES[method]
    kind = "refresh" if is_refresh else "access"

    def hs(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
        return jwt.encode(claims, secret, algorithm=alg)

    now = time.time()
    good = hs(_claims(role, kind))
    head, body, sig = good.split(".")
    tampered_body = _b64(json.dumps(_claims(auth.ADMIN, kind, sub="mallory")).encode())
    cases: dict[str, tuple[str | None, tuple[tuple[str, str], ...]]] = {
        "no_token": (None, ()),
        "expired": (hs(_claims(role, kind, iat=int(now - 900), exp=now - 300)), ()),
        "not_yet_valid_nbf": (hs(_claims(role, kind, nbf=int(now + 3600))), ()),
        "not_yet_valid_iat": (hs(_claims(role, kind, iat=int(now + 3600), exp=now + 7200)), ()),
        "forged_signature": (hs(_claims(role, kind), secret="another-secret-" + "z" * 30), ()),
        "alg_none": (_b64(b'{"alg":"none","typ":"JWT"}') + "." + body + ".", ()),
        "alg_hs512_same_secret": (hs(_claims(role, kind), alg="HS512"), ()),
        "alg_rs256_confusion": (jwt.encode(_claims(role, kind), rsa_key, algorithm="RS256"), ()),
        "wrong_audience": (hs(_claims(role, kind, aud="scythe.v0")), ()),
        "missing_exp": (hs(_claims(role, kind, exp=None)), ()),
        "tampered_claims": (f"{head}.{tampered_body}.{sig}", ()),
        "garbage": ("not-a-jwt", ()),
        "basic_scheme": (None, (("authorization", "Basic " + _b64(b"admin:admin")),)),
        "two_headers": (None, (("authorization", f"Bearer {good}"), ("authorization", f"Bearer {good}"))),
        "unknown_role": (hs(_claims("root", kind)), ()),
    }
    if is_refresh:
        cases["access_as_refresh"] = (hs(_claims(role, "access")), ())
    else:
        cases["refresh_as_access"] = (hs(_claims(role, "refresh")), ())
        cases["wrong_role"] = (hs(_claims(WRONG_ROLE[role], kind)), ())
    return cases


def valid_token(method: str) -> str:
    is_refresh = method == REFRESH
    role = auth.ADMIN if is_refresh else auth.METHOD_ROLES[method]
    # Observer processes may speak only for themselves: subject observer-<id> of the request's id 0.
    subject = "observer-0" if role == auth.OBSERVER else "r4-user"
    return jwt.encode(_claims(role, "refresh" if is_refresh else "access", sub=subject), SECRET, algorithm="HS256")


def call(channel: grpc.Channel, method: str, metadata: tuple[tuple[str, str], ...]) -> tuple[grpc.StatusCode, str]:
    request = REQUESTS[method]
    try:
        if method.endswith("StreamClusterUpdates"):
            stream = channel.unary_stream(method, request_serializer=type(request).SerializeToString,
                                          response_deserializer=lambda b: b)(request, metadata=metadata, timeout=10)
            next(iter(stream))
            stream.cancel()
        else:
            channel.unary_unary(method, request_serializer=type(request).SerializeToString,
                                response_deserializer=lambda b: b)(request, metadata=metadata, timeout=10)
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def _serve(pki: Path | None, mtls: bool) -> Orchestrator:
    orch = Orchestrator(ServerConfig(
        scenario="tutorial", tick_hz=10.0, auth_secret=SECRET,
        tls_cert=pki / "server.crt" if pki else None, tls_key=pki / "server.key" if pki else None,
        client_ca=pki / "ca.crt" if pki and mtls else None,
    ))
    orch.start()
    return orch


def run_matrix() -> dict[str, Any]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = refused = controls = controls_ok = 0
    wrong: list[str] = []
    secrets_seen: set[str] = set()
    details: list[str] = []
    by_case: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, _captured_logs() as logs:
        pki, other = Path(tmp) / "pki", Path(tmp) / "other"
        ca = certs.make_ca(pki)
        certs.make_server(pki, ca)
        client = certs.make_client(pki, ca, "alice")
        other_ca = certs.make_ca(other, "another CA")
        intruder = certs.make_client(other, other_ca, "mallory")
        ca_pem = ca.cert.read_bytes()
        transports: dict[str, tuple[Orchestrator, Callable[[], grpc.Channel]]] = {}
        local = _serve(None, False)
        tls = _serve(pki, False)
        mtls = _serve(pki, True)
        try:
            transports = {
                "local": (local, lambda: grpc.secure_channel(
                    local.target, grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP))),
                "tls": (tls, lambda: grpc.secure_channel(tls.target, grpc.ssl_channel_credentials(ca_pem))),
                "mtls": (mtls, lambda: grpc.secure_channel(mtls.target, grpc.ssl_channel_credentials(
                    ca_pem, client.key.read_bytes(), client.cert.read_bytes()))),
            }
            for tname, (_orch, make) in transports.items():
                with make() as channel:
                    for method in REQUESTS:
                        for cname, (token, extra) in token_cases(method, rsa_key).items():
                            metadata = extra or ((("authorization", f"Bearer {token}"),) if token else ())
                            for t in [token, *(v.split(" ", 1)[-1] for _k, v in extra)]:
                                if t:
                                    secrets_seen.update(p for p in t.split(".")[1:] if len(p) >= 16)
                            code, detail = call(channel, method, metadata)
                            details.append(detail)
                            cases += 1
                            if code in REFUSALS:
                                refused += 1
                            else:
                                wrong.append(f"{tname} {method} {cname} -> {code.name}")
                                by_case[cname] = by_case.get(cname, 0) + 1
                        token = valid_token(method)
                        secrets_seen.update(token.split(".")[1:])
                        code, detail = call(channel, method, (("authorization", f"Bearer {token}"),))
                        details.append(detail)
                        controls += 1
                        if code not in REFUSALS and code is not grpc.StatusCode.UNAVAILABLE:
                            controls_ok += 1
                        else:
                            wrong.append(f"{tname} {method} valid token -> {code.name}: {detail}")
            hostile_transports = {
                "mtls_without_client_cert": (mtls.target, grpc.ssl_channel_credentials(ca_pem)),
                "mtls_cert_from_other_ca": (mtls.target, grpc.ssl_channel_credentials(
                    ca_pem, intruder.key.read_bytes(), intruder.cert.read_bytes())),
                "tls_untrusted_server_ca": (tls.target, grpc.ssl_channel_credentials(other_ca.cert.read_bytes())),
                "plaintext_to_tls_port": (tls.target, None),
            }
            for cname, (target, creds) in hostile_transports.items():
                channel = grpc.insecure_channel(target) if creds is None else grpc.secure_channel(target, creds)
                with channel:
                    for method in REQUESTS:
                        token = valid_token(method)
                        secrets_seen.update(token.split(".")[1:])
                        code, detail = call(channel, method, (("authorization", f"Bearer {token}"),))
                        details.append(detail)
                        cases += 1
                        if code is grpc.StatusCode.UNAVAILABLE:
                            refused += 1
                        else:
                            wrong.append(f"{cname} {method} -> {code.name}")
                            by_case[cname] = by_case.get(cname, 0) + 1
        finally:
            for orch in (local, tls, mtls):
                orch.stop()
        text = "\n".join(logs.lines + details)
    leaks = sorted(p[:12] + "…" for p in secrets_seen if p in text)
    return {
        "cases": cases,
        "refused_correctly": refused,
        "wrong_outcomes": len(wrong),
        "wrong_outcome_examples": wrong[:10],
        "wrong_by_case": by_case,
        "valid_controls": controls,
        "valid_controls_accepted": controls_ok,
        "log_records_searched": len(logs.lines),
        "token_leaks_in_logs": len(leaks),
        "revocation_and_reuse": "measured in R9 (rel_revocation.py)",
    }
