"""The process backend: a deploy starts a real ``scythe observer`` process that registers with its own
identity and heartbeats; decommission stops it; a killed process is detected and reported lost."""

from __future__ import annotations

import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.orchestrator.backends import OBSERVER_ENVIRONMENT, ProcessBackend


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
    assert backend.wait_stopped(oid, timeout=60)  # decommission returns at once; the stopper sees it exit
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_observer_process_gets_a_minimal_environment_and_its_own_identity(
    orchestrator: EmbeddedOrchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.reliability.rel_trust import PLANTED, _leaks

    for name, value in PLANTED.items():  # what the server's environment may hold; spawn reads it at deploy
        monkeypatch.setenv(name, value)
    backend = orchestrator.orchestrator.backend
    assert isinstance(backend, ProcessBackend)
    with orchestrator.client() as c:
        oid = c.deploy(-74.0, 40.7).observer_id
        pid = backend.pid(oid)
        assert pid is not None and backend.wait_for(oid, "running", timeout=60, heartbeats=1)
        assert _leaks(pid) == []
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert {e.split(b"=", 1)[0].decode() for e in environ if e} <= set(OBSERVER_ENVIRONMENT)
        argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"eyJ" not in argv  # no JWT (base64 of {"...) on the command line
        assert c.decommission(oid).ok


def test_a_hung_observer_stalls_nothing_and_its_decommission_is_recorded(tmp_path: Path) -> None:
    """A process that never answers (SIGSTOP: no heartbeat, SIGTERM pending) used to hold the world lock while
    the decommission waited 8 s, then the call failed with UNKNOWN and lost its outcome."""
    from scythe_desktop.orchestrator.audit import AuditLog

    handle = start_embedded("tutorial", 0, tick_hz=10.0, backend="process", auth_secret=secrets.token_hex(32),
                            audit_path=tmp_path / "audit.sqlite", state_dir=tmp_path / "state")
    try:
        backend = handle.orchestrator.backend
        assert isinstance(backend, ProcessBackend)
        backend.stop_grace_s = backend.term_grace_s = 600.0  # the stop would outlast any client deadline
        with handle.client() as c:
            oid = c.deploy(-74.0, 40.7).observer_id
            pid = backend.pid(oid)
            assert pid is not None and backend.wait_for(oid, "running", timeout=60, heartbeats=1)
            os.kill(pid, signal.SIGSTOP)
            reply = c.decommission(oid, request_id="stop-hung")
            assert reply.ok and not reply.replayed
            os.kill(pid, 0)  # still there: the decommission did not wait for it
            assert oid not in [o.observer_id for o in c.list_observers().observers]
            assert c.world_info().scenario == "tutorial"  # the world is not held
            assert next(c.frames()).seq > 0
            assert c.decommission(oid, request_id="stop-hung").replayed  # a retry replays, never NOT_FOUND
            os.kill(pid, signal.SIGCONT)  # it reads its stop reply and exits by itself
            assert backend.wait_stopped(oid, timeout=60)
    finally:
        handle.stop()
    log = AuditLog(tmp_path / "audit.sqlite")
    rows = [(r.action, r.request_id, r.result, r.replayed) for r in log.records() if r.action == "decommission"]
    log.close()
    assert rows == [("decommission", "stop-hung", "OK", False), ("decommission", "stop-hung", "OK", True)]


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
    kinds = (("docker-plan", ".docker.sh"), ("terraform-plan", ".tf.json"), ("kubernetes-plan", ".k8s.json"))
    for kind, suffix in kinds:
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
            resource = json.loads(text)["resource"]["docker_container"][f"scythe_observer_{oid}"]
            assert resource["command"][:2] == ["scythe", "observer"]
        if kind == "kubernetes-plan":  # tests/deploy validates it against the Kubernetes schema
            (container,) = json.loads(text)["spec"]["template"]["spec"]["containers"]
            assert container["args"][:2] == ["scythe", "observer"]
