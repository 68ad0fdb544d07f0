"""Shared fixtures for the orchestrator tests: a real server on loopback, clients, tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import Backoff, OrchestratorClient

SECRET = secrets.token_hex(32)  # ≥ 32 random bytes, as scythe serve requires


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedOrchestrator]:
    """The tutorial world (≈360 nodes) on loopback, with state, audit log and a known secret."""
    handle = start_embedded(
        "tutorial",
        3,
        state_dir=tmp_path / "state",
        tick_hz=20.0,
        audit_path=tmp_path / "audit.sqlite",
        auth_secret=SECRET,
    )
    yield handle
    handle.stop()


@pytest.fixture
def client(embedded: EmbeddedOrchestrator) -> Iterator[OrchestratorClient]:
    c = embedded.client(backoff=Backoff(initial_s=0.02, cap_s=0.2), seed=1)
    yield c
    c.close()
