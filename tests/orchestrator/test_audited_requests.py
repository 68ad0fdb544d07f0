"""SetGuardrails is audited and survives a restart; a refused request stores a bounded, hashed summary; request ids
are printable ASCII of bounded length; ``scythe audit`` output cannot be forged by what it prints."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import grpc
import pytest

from scythe_desktop.cli import main
from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.audit import AuditLog
from scythe_desktop.orchestrator.requests import MAX_REQUEST_ID
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

SECRET = secrets.token_hex(32)  # ≥ 32 random bytes, as scythe serve requires


def _start(tmp_path: Path) -> EmbeddedOrchestrator:
    return start_embedded("tutorial", 3, state_dir=tmp_path / "state", tick_hz=10.0,
                          audit_path=tmp_path / "audit.sqlite", auth_secret=SECRET)


def _code(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(OrchestratorError) as err:
        call()  # type: ignore[operator]
    return err.value.code, err.value.details


def _records(tmp_path: Path) -> list:  # type: ignore[type-arg]
    log = AuditLog(tmp_path / "audit.sqlite")
    try:
        return list(log.records())
    finally:
        log.close()


def test_set_guardrails_is_audited_and_survives_a_restart(tmp_path: Path) -> None:
    handle = _start(tmp_path)
    try:
        with handle.client() as c:
            rails = Guardrails(max_instances=2, budget_per_hour=5.0, forbidden_regions=("arctic",),
                                  latency_zones=("atlantic",))
            c.set_guardrails(rails)
            code, details = _code(lambda: c.set_guardrails(Guardrails(max_instances=1, budget_per_hour=-1)))
            assert code is grpc.StatusCode.INVALID_ARGUMENT and "budget_per_hour" in details
            subject = c.subject
    finally:
        handle.stop()
    handle = _start(tmp_path)
    try:
        with handle.client() as c:
            kept = c.world_info().guardrails
        assert (kept.max_instances, kept.budget_per_hour, list(kept.forbidden_regions), list(kept.latency_zones)) \
            == (2, 5.0, ["arctic"], ["atlantic"])
    finally:
        handle.stop()
    rows = [r for r in _records(tmp_path) if r.action == "set_guardrails"]
    assert [(r.subject, r.result) for r in rows] == [(subject, "OK"), (subject, "INVALID_ARGUMENT")]
    assert rows[0].params["max_instances"] == 2 and rows[0].params["forbidden_regions"] == ["arctic"]


def test_a_viewer_may_not_set_guardrails_and_nothing_changes(tmp_path: Path) -> None:
    handle = _start(tmp_path)
    try:
        token = handle.orchestrator.authority.issue("v", auth.VIEWER, kind="refresh")
        with OrchestratorClient(handle.target, handle.credentials, refresh_token=token) as viewer:
            code, _ = _code(lambda: viewer.set_guardrails(Guardrails(max_instances=0, budget_per_hour=0)))
            assert code is grpc.StatusCode.PERMISSION_DENIED
            assert viewer.world_info().guardrails.max_instances > 0
    finally:
        handle.stop()


def test_refused_requests_store_a_bounded_hashed_summary(tmp_path: Path) -> None:
    """Five requests with ≈1 MB request ids used to add 8.4 MB to the log."""
    handle = _start(tmp_path)
    huge = "r" * 1_000_000
    try:
        with handle.client(action_attempts=1) as c:
            before = (tmp_path / "audit.sqlite").stat().st_size
            for i in range(5):
                code, details = _code(lambda i=i: c.deploy(-74.0, 40.7, request_id=huge + str(i)))
                assert code is grpc.StatusCode.INVALID_ARGUMENT and details.startswith("request_id")
                assert len(details) < 200
    finally:
        handle.stop()
    rows = _records(tmp_path)
    assert len(rows) == 5
    for i, r in enumerate(rows):
        assert len(r.request_id) == MAX_REQUEST_ID
        body = pb.DeployRequest(request_id=huge + str(i), lon=-74.0, lat=40.7).SerializeToString()
        assert r.params["body_bytes"] == len(body)
        assert r.params["body_sha256"] == hashlib.sha256(body).hexdigest()
        assert len(json.dumps(r.params)) < 1000
    wal = tmp_path / "audit.sqlite-wal"
    grown = (tmp_path / "audit.sqlite").stat().st_size + (wal.stat().st_size if wal.exists() else 0) - before
    assert grown < 200_000, grown


@pytest.mark.parametrize("request_id", ["line\nbreak", "tab\there", "a space", "caf\u00e9", "\x1b[31mred", ""])
def test_a_request_id_must_be_printable_ascii(tmp_path: Path, request_id: str) -> None:
    handle = _start(tmp_path)
    try:
        with handle.client(action_attempts=1) as c:
            code, details = _code(lambda: c._act(c._stub.DeployObserver,
                                                 pb.DeployRequest(request_id=request_id, lon=-74.0, lat=40.7)))
            assert code is grpc.StatusCode.INVALID_ARGUMENT and details.startswith("request_id"), details
            assert "\n" not in details and "\x1b" not in details
            assert not c.list_observers().observers
            assert c.deploy(-74.0, 40.7, request_id="ok-" + "x" * (MAX_REQUEST_ID - 3)).ok  # the longest allowed
    finally:
        handle.stop()


def test_audit_output_escapes_what_it_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    handle = _start(tmp_path)
    forged_line = "\n2030-01-01T00:00:00.000+00:00 cli-admin x deploy lon=0 guardrail=passed OK"
    try:
        token = handle.orchestrator.authority.issue("evil" + forged_line, auth.OPERATOR, kind="refresh")
        with OrchestratorClient(handle.target, handle.credentials, refresh_token=token, action_attempts=1) as c:
            _code(lambda: c._act(c._stub.DeployObserver, pb.DeployRequest(request_id="id" + forged_line, lon=0)))
    finally:
        handle.stop()
    assert main(["audit", str(tmp_path / "audit.sqlite")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "\\n2030-01-01" in lines[0]
    assert main(["audit", str(tmp_path / "audit.sqlite"), "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["request_id"].startswith("id\n") and row["subject"].startswith("evil\n")  # JSON keeps it exact
