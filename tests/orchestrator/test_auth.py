"""The auth matrix: every RPC × (no token, expired, forged, wrong audience, wrong role, valid)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import jwt
import pytest

from scythe_desktop.client.embedded import start_embedded
from scythe_desktop.orchestrator import auth
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

SECRET = "auth-matrix-secret-" + "m" * 30

REQUESTS = {
    "/scythe.v1.Orchestrator/StreamClusterUpdates": pb.StreamRequest(),
    "/scythe.v1.Orchestrator/GetClusterSnapshot": pb.ClusterRequest(),
    "/scythe.v1.Orchestrator/GetField": pb.FieldRequest(kind=pb.COVERAGE, height=4, width=8),
    "/scythe.v1.Orchestrator/ListObservers": pb.ListObserversRequest(),
    "/scythe.v1.Orchestrator/GetWorldInfo": pb.WorldInfoRequest(),
    "/scythe.v1.Orchestrator/GetClusterTable": pb.ClusterTableRequest(),
    "/scythe.v1.Orchestrator/Propose": pb.ProposeRequest(limit=2),
    "/scythe.v1.Orchestrator/DeployObserver": pb.DeployRequest(request_id="r", lon=-70, lat=40),
    "/scythe.v1.Orchestrator/RelocateObserver": pb.RelocateRequest(request_id="r", observer_id=99),
    "/scythe.v1.Orchestrator/IncreaseSamplingRate": pb.IncreaseSamplingRequest(request_id="r", observer_id=99),
    "/scythe.v1.Orchestrator/FocusCluster": pb.FocusRequest(request_id="r", observer_id=99),
    "/scythe.v1.Orchestrator/DecommissionObserver": pb.DecommissionRequest(request_id="r", observer_id=99),
    "/scythe.v1.Orchestrator/SetGuardrails": pb.Guardrails(max_instances=2, budget_per_hour=5),
    "/scythe.v1.ObserverAgent/Register": pb.ObserverHello(observer_id=0),
    "/scythe.v1.ObserverAgent/Heartbeat": pb.HeartbeatRequest(observer_id=0),
}
assert set(REQUESTS) == set(auth.METHOD_ROLES), "every protected RPC is in the matrix"

#: A role that must be refused for each required role.
WRONG_ROLE = {
    auth.VIEWER: auth.OBSERVER,
    auth.OPERATOR: auth.VIEWER,
    auth.ADMIN: auth.OPERATOR,
    auth.OBSERVER: auth.ADMIN,
}


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    handle = start_embedded("tutorial", 1, tick_hz=10.0, auth_secret=SECRET, policy="greedy")
    with grpc.secure_channel(handle.target, handle.credentials) as ch:
        yield ch
    handle.stop()


def _call(channel: grpc.Channel, method: str, token: str | None) -> grpc.StatusCode:
    request = REQUESTS[method]
    metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
    try:
        if method.endswith("StreamClusterUpdates"):
            call = channel.unary_stream(
                method, request_serializer=pb.StreamRequest.SerializeToString, response_deserializer=pb.Frame.FromString
            )(request, metadata=metadata, timeout=10)
            next(iter(call))
            call.cancel()
        else:
            channel.unary_unary(
                method, request_serializer=type(request).SerializeToString, response_deserializer=lambda b: b
            )(request, metadata=metadata, timeout=10)
    except grpc.RpcError as exc:
        if token:
            assert token not in (exc.details() or ""), "a token leaked into an error message"
        return exc.code()
    return grpc.StatusCode.OK


def _token(
    role: str,
    *,
    secret: str = SECRET,
    ttl: float = 60.0,
    audience: str = auth.AUDIENCE,
    subject: str = "observer-0",
    kind: str = "access",
) -> str:
    now = time.time()
    claims = {"sub": subject, "role": role, "typ": kind, "aud": audience, "iat": int(now), "exp": now + ttl, "jti": "t"}
    return jwt.encode(claims, secret, algorithm="HS256")


METHODS = sorted(REQUESTS)


@pytest.mark.parametrize("method", METHODS)
def test_missing_token_is_unauthenticated(channel: grpc.Channel, method: str) -> None:
    assert _call(channel, method, None) is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", METHODS)
def test_expired_token_is_unauthenticated(channel: grpc.Channel, method: str) -> None:
    assert _call(channel, method, _token(auth.ADMIN, ttl=-5)) is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", METHODS)
def test_forged_signature_is_unauthenticated(channel: grpc.Channel, method: str) -> None:
    forged = _token(auth.METHOD_ROLES[method], secret="x" * 40)
    assert _call(channel, method, forged) is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", METHODS)
def test_wrong_audience_is_unauthenticated(channel: grpc.Channel, method: str) -> None:
    assert (
        _call(channel, method, _token(auth.METHOD_ROLES[method], audience="other")) is grpc.StatusCode.UNAUTHENTICATED
    )


@pytest.mark.parametrize("method", METHODS)
def test_refresh_token_is_not_an_access_token(channel: grpc.Channel, method: str) -> None:
    token = _token(auth.METHOD_ROLES[method], kind="refresh")
    assert _call(channel, method, token) is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", METHODS)
def test_wrong_role_is_permission_denied(channel: grpc.Channel, method: str) -> None:
    token = _token(WRONG_ROLE[auth.METHOD_ROLES[method]])
    assert _call(channel, method, token) is grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("method", METHODS)
def test_valid_token_passes_auth(channel: grpc.Channel, method: str) -> None:
    code = _call(channel, method, _token(auth.METHOD_ROLES[method]))
    assert code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def test_admin_may_do_what_operator_and_viewer_may(channel: grpc.Channel) -> None:
    for method, role in auth.METHOD_ROLES.items():
        if role in (auth.VIEWER, auth.OPERATOR):
            assert _call(channel, method, _token(auth.ADMIN)) not in (
                grpc.StatusCode.UNAUTHENTICATED,
                grpc.StatusCode.PERMISSION_DENIED,
            )


def test_refresh_exchanges_a_refresh_token_and_refuses_an_access_token(channel: grpc.Channel) -> None:
    refresh = channel.unary_unary(
        "/scythe.v1.Auth/Refresh",
        request_serializer=pb.RefreshRequest.SerializeToString,
        response_deserializer=pb.AccessToken.FromString,
    )
    reply = refresh(
        pb.RefreshRequest(), metadata=(("authorization", "Bearer " + _token(auth.OPERATOR, kind="refresh")),)
    )
    assert reply.role == auth.OPERATOR and reply.expires_at_unix > time.time()
    claims = jwt.decode(reply.access_token, SECRET, algorithms=["HS256"], audience=auth.AUDIENCE)
    assert claims["typ"] == "access" and claims["role"] == auth.OPERATOR
    with pytest.raises(grpc.RpcError) as err:
        refresh(pb.RefreshRequest(), metadata=(("authorization", "Bearer " + _token(auth.OPERATOR)),))
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_observer_identity_may_only_speak_for_its_own_observer(channel: grpc.Channel) -> None:
    heartbeat = channel.unary_unary(
        "/scythe.v1.ObserverAgent/Heartbeat",
        request_serializer=pb.HeartbeatRequest.SerializeToString,
        response_deserializer=pb.HeartbeatReply.FromString,
    )
    with pytest.raises(grpc.RpcError) as err:
        heartbeat(
            pb.HeartbeatRequest(observer_id=5),
            metadata=(("authorization", "Bearer " + _token(auth.OBSERVER, subject="observer-4")),),
        )
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "observer_id 5" in (err.value.details() or "")


def test_health_needs_no_token(channel: grpc.Channel) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="scythe.v1.Orchestrator"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_needs_a_persons_token_access_or_refresh(channel: grpc.Channel) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    def listed(token: str | None) -> grpc.StatusCode:
        metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
        try:
            list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                           metadata=metadata, timeout=10))
        except grpc.RpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK

    assert listed(None) is grpc.StatusCode.UNAUTHENTICATED
    assert listed("garbage") is grpc.StatusCode.UNAUTHENTICATED
    assert listed(_token(auth.VIEWER, kind="refresh", ttl=-10.0)) is grpc.StatusCode.UNAUTHENTICATED
    assert listed(_token(auth.OBSERVER)) is grpc.StatusCode.PERMISSION_DENIED
    assert listed(_token(auth.VIEWER)) is grpc.StatusCode.OK
    assert listed(_token(auth.VIEWER, kind="refresh")) is grpc.StatusCode.OK
