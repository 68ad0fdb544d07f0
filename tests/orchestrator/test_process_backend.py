"""The process backend: a deploy starts a real ``scythe observer`` process that registers with its own
identity and heartbeats; decommission stops it; a killed process is detected and reported lost."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.orchestrator.backends import ProcessBackend


@pytest.fixture
def orchestrator() -> Iterator[EmbeddedOrchestrator]:
    handle = start_embedded("tutorial", 0, tick_hz=10.0, backend="process", auth_secret=secrets.token_hex(32))
    yield handle
    handle.stop()


def _status(handle: EmbeddedOrchestrator, observer_id: int) -> tuple[str, str, float]:
    with handle.client() as c:
        o = next(o for o in c.list_observers().observers if o.observer_id == observer_id)
    return o.status, o.backend, o.last_heartbeat_unix


def test_process_observer_starts_heartbeats_and_stops(orchestrator: EmbeddedOrchestrator) -> None:
    backend = orchestrator.orchestrator.backend
    assert isinstance(backend, ProcessBackend)
    with orchestrator.client() as c:
        oid = c.deploy(-74.0, 40.7).observer_id
        pid = backend.pid(oid)
        assert pid is not None and pid != os.getpid()
        assert backend.wait_for(oid, "running", timeout=60, heartbeats=2), "no heartbeats from the observer process"
        status, kind, heartbeat = _status(orchestrator, oid)
        assert (status, kind) == ("running", "process") and heartbeat > 0

        assert c.decommission(oid).ok
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the process is gone (decommission waited for it)


def test_a_killed_observer_process_is_reported_lost(orchestrator: EmbeddedOrchestrator) -> None:
    backend = orchestrator.orchestrator.backend
    assert isinstance(backend, ProcessBackend)
    with orchestrator.client() as c:
        oid = c.deploy(-74.0, 40.7).observer_id
    assert backend.wait_for(oid, "running", timeout=60, heartbeats=1)
    pid = backend.pid(oid)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert backend.wait_for(oid, "lost", timeout=30)
    assert _status(orchestrator, oid)[0] == "lost"


def test_plan_backends_render_without_executing(tmp_path: Path) -> None:
    for kind, suffix in (("docker-plan", ".docker.sh"), ("terraform-plan", ".tf.json")):
        handle = start_embedded(
            "tutorial", 0, tick_hz=10.0, backend=kind, plan_dir=tmp_path / kind, auth_secret=secrets.token_hex(32)
        )
        try:
            with handle.client() as c:
                oid = c.deploy(-74.0, 40.7).observer_id
        finally:
            handle.stop()
        plan = tmp_path / kind / f"scythe-observer-{oid}{suffix}"
        text = plan.read_text()
        assert "scythe observer" in text or '"observer"' in text
        assert "-74.000000" in text
        if kind == "terraform-plan":
            import json

            resource = json.loads(text)["resource"]["docker_container"][f"scythe_observer_{oid}"]
            assert resource["command"][:2] == ["scythe", "observer"]
