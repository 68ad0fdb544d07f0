"""Item 16: under mTLS, observers started by the process backend get a client certificate and connect; without
one the server refuses to start instead of spawning observers that can never register."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

import pytest

from scythe_desktop.cli import main
from scythe_desktop.cli.serve import _observer_connect_args
from scythe_desktop.client.grpc_client import OrchestratorClient, tls_credentials
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.backends import ProcessBackend
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    assert main(["certs", "--out", str(out), "--user", "alice", "--user", "observer"]) == 0
    return out


def _args(pki: Path, **extra: Path | None) -> argparse.Namespace:
    return argparse.Namespace(tls_cert=pki / "server.crt", client_ca=pki / "ca.crt",
                              observer_cert=extra.get("observer_cert"), observer_key=extra.get("observer_key"))


def test_serve_hands_observers_the_certificate_beside_the_client_ca(pki: Path) -> None:
    args = _observer_connect_args(_args(pki))
    assert args == ("--ca", str(pki / "ca.crt"), "--cert", str(pki / "client-observer.crt"),
                    "--key", str(pki / "client-observer.key"))
    chosen = _observer_connect_args(_args(pki, observer_cert=pki / "client-alice.crt"))
    assert chosen[-4:] == ("--cert", str(pki / "client-alice.crt"), "--key", str(pki / "client-alice.key"))


def test_a_process_backend_under_mtls_without_an_observer_certificate_is_refused(pki: Path) -> None:
    with pytest.raises(ValueError, match="--user observer"):
        Orchestrator(ServerConfig(scenario="tutorial", tls_cert=pki / "server.crt", tls_key=pki / "server.key",
                                  client_ca=pki / "ca.crt", backend="process", auth_secret=secrets.token_hex(32),
                                  observer_connect_args=("--ca", str(pki / "ca.crt"))))


def test_an_observer_process_registers_and_heartbeats_under_mtls(pki: Path) -> None:
    orch = Orchestrator(ServerConfig(
        scenario="tutorial", tls_cert=pki / "server.crt", tls_key=pki / "server.key", client_ca=pki / "ca.crt",
        backend="process", tick_hz=10.0, auth_secret=secrets.token_hex(32), policy="none",
        observer_connect_args=_observer_connect_args(_args(pki)),
    ))
    orch.start()
    try:
        creds = tls_credentials((pki / "ca.crt").read_bytes(), (pki / "client-alice.key").read_bytes(),
                                (pki / "client-alice.crt").read_bytes())
        token = orch.issue_refresh_token("alice", auth.OPERATOR)
        with OrchestratorClient(f"localhost:{orch.port}", creds, refresh_token=token) as alice:
            oid = alice.deploy(-74.0, 40.7).observer_id
            backend = orch.backend
            assert isinstance(backend, ProcessBackend)
            assert backend.wait_for(oid, "running", timeout=60, heartbeats=2), "the observer never registered"
            assert alice.decommission(oid).ok
    finally:
        orch.stop()
