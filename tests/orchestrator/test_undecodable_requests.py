"""Bytes that are not a valid request message get INVALID_ARGUMENT (not INTERNAL), and the server goes on."""

from __future__ import annotations

import grpc
import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator
from scythe_desktop.orchestrator import auth

METHODS = [*auth.METHOD_ROLES, auth.REFRESH_METHOD]


def _identity(b: bytes) -> bytes:
    return b


@pytest.mark.parametrize("method", METHODS)
def test_undecodable_request_is_invalid_argument(embedded: EmbeddedOrchestrator, method: str) -> None:
    authority = embedded.orchestrator.authority
    role = auth.METHOD_ROLES.get(method, auth.ADMIN)
    token = authority.issue("fuzz", role, kind="refresh" if method == auth.REFRESH_METHOD else "access")
    metadata = (("authorization", f"Bearer {token}"),)
    garbage = b"\xff\xff\xff\xff"  # a truncated varint field key: no message type parses it
    with grpc.secure_channel(embedded.target, embedded.credentials) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            if method.endswith("StreamClusterUpdates"):
                call = channel.unary_stream(method, request_serializer=_identity, response_deserializer=_identity)
                next(iter(call(garbage, metadata=metadata, timeout=10)))
            else:
                channel.unary_unary(method, request_serializer=_identity, response_deserializer=_identity)(
                    garbage, metadata=metadata, timeout=10
                )
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
        assert "not a valid scythe.v1." in (caught.value.details() or "")
    with embedded.client() as c:
        assert c.world_info().scenario == "tutorial"
