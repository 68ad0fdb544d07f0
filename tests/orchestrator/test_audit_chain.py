"""The tamper-evident audit log: a keyed hash chain that ``scythe audit verify`` checks, files 0600, every way
of tampering detected at its first broken link, and a server that refuses to act when it cannot audit."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from benchmarks.reliability.rel_tamper import KINDS, _tamper, run_tamper, write_base_log
from scythe_desktop.cli import main
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.orchestrator.audit import AuditLog, AuditUnavailable, default_key_file, load_key
from scythe_desktop.orchestrator.audit_verify import verify
from scythe_desktop.orchestrator.backends import SimulatedBackend
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.requests import ActionRefused, ActionRequest, Verdict
from scythe_desktop.orchestrator.world_host import WorldHost


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_real_servers_log_is_private_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_base_log(tmp_path)
    key_file = default_key_file(log)
    assert _mode(log) == 0o600 and _mode(key_file) == 0o600
    verdict = verify(log, load_key(key_file))
    assert verdict.ok and verdict.rows >= 8, verdict
    assert main(["audit", "verify", str(log)]) == 0
    assert "intact" in capsys.readouterr().out
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    assert main(["audit", "verify", str(log), "--key-file", str(other)]) == 1  # another key proves nothing
    assert "row 1 does not match its hash" in capsys.readouterr().out


def test_the_wal_and_shm_files_are_private_too(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, load_key(tmp_path / "k", create=True))
    log.append(subject="s", request_id="r", action="deploy", params={}, guardrail="passed", result="OK")
    try:
        for suffix in ("-wal", "-shm"):
            assert _mode(path.with_name(path.name + suffix)) == 0o600
    finally:
        log.close()


def test_an_existing_log_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    path.touch(mode=0o644)
    AuditLog(path, load_key(tmp_path / "k", create=True)).close()
    assert _mode(path) == 0o600


@pytest.mark.parametrize("kind", KINDS)
def test_each_way_of_tampering_is_reported(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import random
    import shutil

    base = write_base_log(tmp_path)
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(base, copy)
    shutil.copyfile(default_key_file(base), default_key_file(copy))
    _tamper(kind, copy, random.Random(kind))
    verdict = verify(copy, load_key(default_key_file(copy)))
    assert not verdict.ok, kind
    assert main(["audit", "verify", str(copy)]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_the_first_broken_link_is_named(tmp_path: Path) -> None:
    base = write_base_log(tmp_path)
    db = sqlite3.connect(base, isolation_level=None)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET subject = 'mallory' WHERE id = 3")
    db.execute("UPDATE audit SET message = 'nothing to see' WHERE id = 5")
    db.close()
    verdict = verify(base, load_key(default_key_file(base)))
    assert not verdict.ok and "audit_no_update" in verdict.problem  # the trigger first: it makes the rest possible
    db = sqlite3.connect(base, isolation_level=None)
    db.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
               "    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    db.close()
    verdict = verify(base, load_key(default_key_file(base)))
    assert (verdict.ok, verdict.row_id, verdict.rows) == (False, 3, 2), verdict


def test_a_bounded_tamper_run_detects_every_case() -> None:
    r = run_tamper(2 * len(KINDS), 7)
    assert r["audit_intact_log_verifies"] and r["audit_tamper_cases_detected"] == 1.0, r


def test_a_server_does_not_extend_a_log_whose_end_was_cut(tmp_path: Path) -> None:
    base = write_base_log(tmp_path)
    db = sqlite3.connect(base, isolation_level=None)
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")
    db.close()
    with pytest.raises(ValueError, match="does not end where its head says"):
        AuditLog(base, load_key(default_key_file(base)))


def _locked_desk(tmp_path: Path) -> tuple[ActionDesk, WorldHost, AuditLog, sqlite3.Connection]:
    path = tmp_path / "audit.sqlite"
    audit = AuditLog(path, load_key(tmp_path / "k", create=True), busy_timeout_s=0.05)
    host = WorldHost(load_scenario("tutorial"), 1, FrameHub(max_subscribers=1))
    desk = ActionDesk(host, SimulatedBackend(), None, audit)
    other = sqlite3.connect(path, isolation_level=None)  # another writer holds the log: it cannot be written
    other.execute("BEGIN EXCLUSIVE")
    return desk, host, audit, other


def test_the_desk_refuses_to_act_when_it_cannot_audit_and_resumes_when_it_can(tmp_path: Path) -> None:
    desk, host, audit, other = _locked_desk(tmp_path)
    deploy = ActionRequest("deploy", "d1", lon=-74.0, lat=40.7)
    with pytest.raises(ActionRefused) as refused:
        desk.handle("op", deploy)
    assert refused.value.verdict is Verdict.UNAVAILABLE and "refuses to act" in str(refused.value)
    assert len(host.observers()) == 0  # nothing acted
    with pytest.raises(ActionRefused) as bad:  # a refusal that cannot be audited is not answered as usual either
        desk.handle("op", ActionRequest("deploy", "bad\nid", lon=0, lat=0))
    assert bad.value.verdict is Verdict.UNAVAILABLE
    with pytest.raises(ActionRefused) as rails:
        desk.set_rails("admin", Guardrails(1, 1.0))
    assert rails.value.verdict is Verdict.UNAVAILABLE and desk.rails.max_instances != 1
    other.execute("ROLLBACK")
    other.close()
    assert desk.handle("op", deploy).ok  # the same request, now audited
    rows = [(r.request_id, r.result) for r in audit.records()]
    assert rows[-1] == ("d1", "OK") and ("bad\nid", "INVALID_ARGUMENT") in rows  # the refusal was kept, then written
    audit.close()
    assert verify(tmp_path / "audit.sqlite", load_key(tmp_path / "k")).ok


def test_a_row_that_could_not_be_written_is_written_first_next_time(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, load_key(tmp_path / "k", create=True), busy_timeout_s=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(AuditUnavailable):
        log.append(subject="s", request_id="first", action="deploy", params={}, guardrail="passed", result="OK")
    assert log.pending == 1
    other.execute("ROLLBACK")
    log.append(subject="s", request_id="second", action="deploy", params={}, guardrail="passed", result="OK")
    assert [r.request_id for r in log.records()] == ["first", "second"] and log.pending == 0
    log.close()
    assert verify(path, load_key(tmp_path / "k")).ok
