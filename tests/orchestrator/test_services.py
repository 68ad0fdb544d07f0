"""Health, reflection, the subscriber limit and token refresh on a real server."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def test_health_reports_serving(embedded: EmbeddedOrchestrator) -> None:
    with grpc.secure_channel(embedded.target, embedded.credentials) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        for service in ("", "scythe.v1.Orchestrator"):
            assert (
                stub.Check(health_pb2.HealthCheckRequest(service=service)).status
                == health_pb2.HealthCheckResponse.SERVING
            )


def test_reflection_lists_the_services_and_serves_their_descriptors(embedded: EmbeddedOrchestrator) -> None:
    with grpc.secure_channel(embedded.target, embedded.credentials) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="scythe.v1.Orchestrator"),
        ]
        bearer = (("authorization", f"Bearer {embedded.token}"),)  # a refresh token will do
        listed, described = list(stub.ServerReflectionInfo(iter(requests), metadata=bearer))
    names = {s.name for s in listed.list_services_response.service}
    assert {"scythe.v1.Orchestrator", "scythe.v1.Auth", "grpc.health.v1.Health"} <= names
    assert described.file_descriptor_response.file_descriptor_proto


def test_one_stream_over_the_limit_is_refused_with_resource_exhausted() -> None:
    handle = start_embedded("tutorial", 0, tick_hz=10.0, max_subscribers=2, auth_secret="r" * 40)
    clients = [handle.client() for _ in range(3)]
    try:
        streams = [c.frames() for c in clients[:2]]
        for s in streams:
            next(s)  # both streams are open and being served
        extra = clients[2]
        call = extra._stub.StreamClusterUpdates(pb.StreamRequest(), metadata=extra._tokens.metadata(), timeout=10)
        with pytest.raises(grpc.RpcError) as err:
            next(call)
        assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "at most 2" in (err.value.details() or "") or "2 streams" in (err.value.details() or "")
        assert extra.world_info().scenario == "tutorial"  # unary calls keep their headroom
    finally:
        for c in clients:
            c.close()
        handle.stop()


def test_access_tokens_are_refreshed_before_they_expire() -> None:
    handle = start_embedded("tutorial", 0, tick_hz=10.0, access_ttl_s=100.0, auth_secret="r" * 40)
    now = [1_000.0]
    try:
        # The server's clock is real; the client's is ours, so "later" needs no waiting.
        import time

        now[0] = time.time()
        with handle.client(clock=lambda: now[0], refresh_margin_s=10.0) as c:
            c.world_info()
            assert c.token_refreshes == 1
            now[0] += 50.0  # half the lifetime left: keep the token
            c.world_info()
            assert c.token_refreshes == 1
            now[0] += 35.0  # 15 s left, inside the 20 % margin: a new one before the old expires
            c.world_info()
            assert c.token_refreshes == 2
    finally:
        handle.stop()


def test_an_expired_access_token_is_replaced_and_the_call_retried(embedded: EmbeddedOrchestrator) -> None:
    with embedded.client() as c:
        c.world_info()
        c._tokens._access = embedded.orchestrator.authority.issue("x", "viewer", ttl_s=-1.0)
        assert c.world_info().scenario == "tutorial"
        assert c.token_refreshes == 2


def test_a_reflection_only_client_calls_the_server_without_generated_code(embedded: EmbeddedOrchestrator) -> None:
    """What a stock tool (grpcurl -plaintext on loopback) does: learn the schema by reflection, then call."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    with grpc.insecure_channel(embedded.target) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        ask = reflection_pb2.ServerReflectionRequest(file_containing_symbol="scythe.v1.Orchestrator")
        bearer = (("authorization", f"Bearer {embedded.token}"),)  # grpcurl -H sends it to reflection too
        (answer,) = stub.ServerReflectionInfo(iter([ask]), metadata=bearer)
        pool = descriptor_pool.DescriptorPool()
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(raw))
        msg = {
            name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"scythe.v1.{name}"))
            for name in ("RefreshRequest", "AccessToken", "WorldInfoRequest", "WorldInfo")
        }
        refresh = ch.unary_unary(
            "/scythe.v1.Auth/Refresh",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=msg["AccessToken"].FromString,
        )
        access = refresh(msg["RefreshRequest"](), metadata=(("authorization", f"Bearer {embedded.token}"),))
        info = ch.unary_unary(
            "/scythe.v1.Orchestrator/GetWorldInfo",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=msg["WorldInfo"].FromString,
        )(msg["WorldInfoRequest"](), metadata=(("authorization", f"Bearer {access.access_token}"),))
    assert info.scenario == "tutorial" and info.guardrails.max_instances > 0


def test_a_refused_refresh_token_ends_the_stream_with_an_error_instead_of_retrying(
    embedded: EmbeddedOrchestrator,
) -> None:
    from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError

    forged = embedded.token[:-4] + ("AAAA" if not embedded.token.endswith("AAAA") else "BBBB")
    with OrchestratorClient(embedded.target, embedded.credentials, refresh_token=forged) as c:
        with pytest.raises(OrchestratorError) as err:
            next(c.frames())
        assert err.value.code is grpc.StatusCode.UNAUTHENTICATED
        assert forged not in str(err.value)
        with pytest.raises(OrchestratorError):
            c.world_info()


def test_scythe_serve_refuses_bad_options_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from scythe_desktop.cli import main

    assert main(["serve", "--scenario", "atlantis", "--port", "0"]) == 2
    assert "atlantis" in capsys.readouterr().err
    assert main(["serve", "--scenario", "tutorial", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "without TLS" in capsys.readouterr().err
