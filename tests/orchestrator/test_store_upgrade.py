"""A state directory written before the action desk spoke domain types still replays its outcomes.

Schema version 1 stored each accepted outcome as a serialized ``scythe.v1.ActionReply``; version 2 stores the
desk's ``ActionOutcome`` as JSON. A server that opens an old directory rewrites those rows once, so a client's
retry across the upgrade is still answered as a replay and never acts twice.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest

from scythe_desktop.client.embedded import start_embedded
from scythe_desktop.engine.actions import ActionOutcome
from scythe_desktop.orchestrator.store import SCHEMA_VERSION, StateStore
from scythe_desktop.orchestrator.wire import upgrade_store
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

SECRET = secrets.token_hex(32)


def _as_version_1(db: Path) -> int:
    """Rewrite every accepted outcome the way version 1 stored it; how many rows."""
    con = sqlite3.connect(db, isolation_level=None)
    rows = con.execute("SELECT rowid, reply FROM idempotency WHERE code = 0").fetchall()
    for rowid, blob in rows:
        o = ActionOutcome.from_json(blob)
        old = pb.ActionReply(request_id=o.request_id, ok=o.ok, reason=o.reason, observer_id=o.observer_id,
                             cost_per_hour=o.cost_per_hour, tick=o.tick).SerializeToString()
        con.execute("UPDATE idempotency SET reply = ? WHERE rowid = ?", (old, rowid))
    con.execute("PRAGMA user_version = 1")
    con.close()
    return len(rows)


def test_a_retry_across_the_upgrade_replays_and_acts_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    handle = start_embedded("tutorial", 3, state_dir=state, tick_hz=10.0, auth_secret=SECRET)
    try:
        with handle.client() as c:
            first = c.deploy(-70.0, 40.0, request_id="before-upgrade")
    finally:
        handle.stop()
    assert _as_version_1(state / "orchestrator.sqlite") == 1

    handle = start_embedded("tutorial", 3, state_dir=state, tick_hz=10.0, auth_secret=SECRET)
    try:
        with handle.client() as c:
            retry = c.deploy(-70.0, 40.0, request_id="before-upgrade")
            observers = c.list_observers().observers
    finally:
        handle.stop()
    assert retry.replayed and retry.observer_id == first.observer_id and retry.tick == first.tick
    assert [o.observer_id for o in observers] == [first.observer_id]
    store = StateStore(state / "orchestrator.sqlite")
    assert store.schema_version == SCHEMA_VERSION
    assert upgrade_store(store) == 0  # once only
    store.close()


def test_a_stored_outcome_that_is_neither_format_stops_the_server_with_a_reason(tmp_path: Path) -> None:
    db = tmp_path / "orchestrator.sqlite"
    StateStore(db).close()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("INSERT INTO idempotency VALUES ('op', 'r', 'fp', 0, '', x'ffffffff', 0)")
    con.execute("PRAGMA user_version = 1")
    con.close()
    store = StateStore(db)
    with pytest.raises(ValueError, match="neither JSON nor an ActionReply"):
        upgrade_store(store)
    assert store.schema_version == 1  # nothing half-converted
    store.close()
