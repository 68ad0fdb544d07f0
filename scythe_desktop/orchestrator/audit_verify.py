"""``scythe audit verify``: is an audit log the one the server wrote, and if not, where is the first broken link?

Checks, in order, on a read-only connection: the file is an undamaged SQLite database (every page read) with
the chained schema;
both append-only triggers exist exactly as the server creates them (a dropped trigger is reported even when no
row was touched, a recreated one only if it differs); every row, in id order, names the previous row's hash and
carries the keyed hash of its own content (an edit, a deleted or inserted row, a reordering or a row written
without the key breaks it there); and the head (last id and hash, with its own MAC) matches the last row, so
rows removed from the end are seen too. Knows the audit schema, nothing of servers.
"""

from __future__ import annotations

import hmac
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from scythe_desktop.orchestrator.audit import CONTENT, GENESIS, TRIGGERS, head_mac, row_hash


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    rows: int  # rows whose link held
    problem: str = ""  # the first broken link, in words
    row_id: int | None = None  # the row where it broke, when a row did


def verify(path: Path, key: bytes) -> Verdict:
    """The first problem found in the audit log at ``path`` checked with ``key``, or ``ok``."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return Verdict(False, 0, f"cannot open {path}: {exc}")
    try:
        return _verify(db, key)
    except sqlite3.DatabaseError as exc:  # truncated or overwritten bytes
        return Verdict(False, 0, f"{path} is not a readable audit log: {exc}")
    finally:
        db.close()


def _verify(db: sqlite3.Connection, key: bytes) -> Verdict:
    check = db.execute("PRAGMA quick_check").fetchone()[0]  # reads every page: cut or overwritten bytes show
    if check != "ok":
        return Verdict(False, 0, f"the database is damaged: {check}")
    columns = [r[1] for r in db.execute("PRAGMA table_info(audit)")]
    if not {*CONTENT, "prev_hash", "hash"} <= set(columns):
        return Verdict(False, 0, "no chained audit table (not an audit log, or written by an older scythe)")
    triggers = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"))
    for name, sql in TRIGGERS.items():
        if name not in triggers:
            return Verdict(False, 0, f"trigger {name} is missing: the log could have been rewritten")
        if " ".join(triggers[name].split()) != " ".join(sql.split()):  # SQLite stores it without IF NOT EXISTS
            return Verdict(False, 0, f"trigger {name} is not the one the server creates")
    prev, prev_id, count = GENESIS, 0, 0
    select = ", ".join(CONTENT)
    for row in db.execute(f"SELECT {select}, prev_hash, hash FROM audit ORDER BY id"):
        content, stored_prev, stored = row[: len(CONTENT)], row[-2], row[-1]
        rid = int(content[0])
        if stored_prev != prev:
            after = f"row {prev_id}" if prev_id else "the start of the log"
            return Verdict(False, count, f"row {rid} does not follow {after}: a row was deleted, inserted or "
                                         "moved before it", rid)
        if not hmac.compare_digest(str(stored), row_hash(key, prev, tuple(content))):
            return Verdict(False, count, f"row {rid} does not match its hash: it was edited, or not written with "
                                         "this key", rid)
        prev, prev_id, count = str(stored), rid, count + 1
    head = db.execute("SELECT last_id, hash, mac FROM audit_head").fetchone()
    if head is None:
        return Verdict(False, count, "the head row is missing")
    last_id, last_hash, mac = int(head[0]), str(head[1]), str(head[2])
    if not hmac.compare_digest(mac, head_mac(key, last_id, last_hash)):
        return Verdict(False, count, "the head does not match its MAC: it was edited, or another key wrote it")
    if (last_id, last_hash) != (prev_id, prev):
        return Verdict(False, count, f"the log ends at row {prev_id} but its head says row {last_id}: rows were "
                                     "removed from the end", prev_id or None)
    return Verdict(True, count)


__all__ = ["Verdict", "verify"]
