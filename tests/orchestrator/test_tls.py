"""TLS and mTLS with certificates made by ``scythe certs``: the client connects; under mTLS a client
without a certificate is refused at the handshake."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from scythe_desktop.cli import main
from scythe_desktop.client.grpc_client import Backoff, OrchestratorClient, OrchestratorError
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    assert main(["certs", "--out", str(out), "--user", "alice"]) == 0
    return out


def _serve(pki: Path, *, mtls: bool) -> Orchestrator:
    orch = Orchestrator(
        ServerConfig(
            scenario="tutorial",
            tls_cert=pki / "server.crt",
            tls_key=pki / "server.key",
            client_ca=pki / "ca.crt" if mtls else None,
            tick_hz=10.0,
            auth_secret=secrets.token_hex(32),
        )
    )
    orch.start()
    return orch


@pytest.fixture
def tls_server(pki: Path) -> Iterator[Orchestrator]:
    orch = _serve(pki, mtls=False)
    yield orch
    orch.stop()


@pytest.fixture
def mtls_server(pki: Path) -> Iterator[Orchestrator]:
    orch = _serve(pki, mtls=True)
    yield orch
    orch.stop()


def _client(orch: Orchestrator, creds: grpc.ChannelCredentials) -> OrchestratorClient:
    token = orch.issue_refresh_token("alice", auth.VIEWER)
    return OrchestratorClient(
        f"localhost:{orch.port}", creds, refresh_token=token, backoff=Backoff(initial_s=0.01, cap_s=0.05)
    )


def test_certs_have_the_expected_files_and_private_keys_are_owner_only(pki: Path) -> None:
    for name in ("ca.crt", "ca.key", "server.crt", "server.key", "client-alice.crt", "client-alice.key"):
        assert (pki / name).is_file()
    assert (pki / "server.key").stat().st_mode & 0o077 == 0


def test_tls_client_connects_and_reads(pki: Path, tls_server: Orchestrator) -> None:
    creds = grpc.ssl_channel_credentials((pki / "ca.crt").read_bytes())
    with _client(tls_server, creds) as c:
        assert c.world_info().scenario == "tutorial"


def test_tls_client_that_does_not_trust_the_ca_is_refused(pki: Path, tls_server: Orchestrator, tmp_path: Path) -> None:
    assert main(["certs", "--out", str(tmp_path / "other")]) == 0
    creds = grpc.ssl_channel_credentials((tmp_path / "other" / "ca.crt").read_bytes())
    with _client(tls_server, creds) as c, pytest.raises(OrchestratorError) as err:
        c.world_info()
    assert err.value.code is grpc.StatusCode.UNAVAILABLE


def test_mtls_client_with_a_certificate_connects(pki: Path, mtls_server: Orchestrator) -> None:
    creds = grpc.ssl_channel_credentials(
        (pki / "ca.crt").read_bytes(), (pki / "client-alice.key").read_bytes(), (pki / "client-alice.crt").read_bytes()
    )
    with _client(mtls_server, creds) as c:
        assert c.world_info().scenario == "tutorial"


def test_mtls_client_without_a_certificate_is_refused(pki: Path, mtls_server: Orchestrator) -> None:
    creds = grpc.ssl_channel_credentials((pki / "ca.crt").read_bytes())
    with _client(mtls_server, creds) as c, pytest.raises(OrchestratorError) as err:
        c.world_info()
    assert err.value.code is grpc.StatusCode.UNAVAILABLE


def test_serving_a_public_address_without_tls_is_refused() -> None:
    with pytest.raises(ValueError, match="without TLS"):
        Orchestrator(ServerConfig(scenario="tutorial", host="0.0.0.0", auth_secret=secrets.token_hex(32)))
