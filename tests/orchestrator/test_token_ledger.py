"""The token ledger: revocations written by another connection (``scythe auth revoke``) are seen, sessions
advance once per generation, expired rows are pruned, the file is private."""

from __future__ import annotations

import stat
from pathlib import Path

from scythe_desktop.orchestrator.token_ledger import TokenLedger


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_revocation_from_another_connection_is_seen(tmp_path: Path) -> None:
    server = TokenLedger(tmp_path / "credentials.sqlite")
    server.reload_s = 0.0
    cli = TokenLedger(tmp_path / "credentials.sqlite")
    assert not server.refused("alice", 10.0, ("t1", "", ""))
    cli.revoke("t1", expires=2e9)
    cli.revoke_subject("bob", at=50.0)
    assert server.refused("alice", 10.0, ("t1", "", ""))
    assert server.refused("bob", 49.9, ("other", "", "")) and not server.refused("bob", 50.1, ("other", "", ""))
    assert stat.S_IMODE((tmp_path / "credentials.sqlite").stat().st_mode) == 0o600
    server.close()
    cli.close()


def test_a_session_advances_once_per_generation() -> None:
    ledger = TokenLedger()
    session = ledger.start_session("carol", "viewer", "grant-1", expires=2e9)
    first = ledger.advance(session.sid, 1)
    assert first is not None and first.generation == 2
    assert ledger.advance(session.sid, 1) is None  # the losing copy of a race
    assert ledger.session("nope") is None


def test_expired_rows_are_pruned() -> None:
    clock = Clock()
    ledger = TokenLedger(clock=clock)
    ledger.record_grant("old", "dave", "viewer", 0.0, 1500.0)
    ledger.revoke("gone", expires=1500.0)
    clock.now = 2000.0
    ledger.record_grant("new", "dave", "viewer", 2000.0, 9000.0)
    ledger.revoke("kept", expires=9000.0)
    assert [g.jti for g in ledger.grants()] == ["new"]
    assert ledger._db.execute("SELECT id FROM revoked").fetchall() == [("kept",)]
