"""What an orchestrator must remember across a crash, in one SQLite database (WAL, synchronous=FULL).

* ``meta``: scenario, seed, tick, the world checkpoint blob (``World.to_bytes``, which holds the
  observers) and ``seq_reserved``. Sequence numbers are handed out in reserved blocks: the end of a
  block is committed before any seq in it is used, and a restarted server starts after the last
  reserved block, so no seq is ever issued twice even after ``kill -9``.
* ``idempotency``: the outcome of each action request, keyed by (subject, request_id), with a
  fingerprint of its parameters. The window is bounded per subject: outcomes older than ``window_s``
  and all but each subject's newest ``window_requests`` are pruned, so one client's burst never evicts
  another's outcomes. :class:`MemoryOutcomes` keeps the same window in memory (no state directory).
  An accepted request's ``reply`` is the action desk's ``ActionOutcome`` as JSON since schema version 2
  (``PRAGMA user_version``); version 1 stored a serialized ``scythe.v1.ActionReply``, and
  :meth:`StateStore.upgrade` rewrites such rows once, when a server opens an older state directory.

This module stores bytes and small records; it knows nothing of gRPC or how the world works.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scythe_desktop.core.private_files import private_file

SEQ_BLOCK: Final = 1000
IDEMPOTENCY_WINDOW_S: Final = 24 * 3600.0
IDEMPOTENCY_WINDOW_REQUESTS: Final = 10_000
#: ``PRAGMA user_version`` of the current layout (see the module docstring).
SCHEMA_VERSION: Final = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    subject TEXT NOT NULL, request_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    code INTEGER NOT NULL, message TEXT NOT NULL, reply BLOB NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (subject, request_id));
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created);
CREATE INDEX IF NOT EXISTS idempotency_subject_created ON idempotency (subject, created);
"""


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    fingerprint: str
    code: int  # a requests.Verdict (numbered as the canonical status codes); 0 = OK
    message: str
    reply: bytes  # the ActionOutcome as JSON when code == 0


class StateStore:
    """Thread-safe; every write is its own committed transaction."""

    def __init__(
        self,
        path: str | Path,
        *,
        window_s: float = IDEMPOTENCY_WINDOW_S,
        window_requests: int = IDEMPOTENCY_WINDOW_REQUESTS,
    ) -> None:
        self.path = Path(path)
        self.window_s = window_s
        self.window_requests = window_requests
        self._lock = threading.Lock()
        # 0600 before SQLite opens it (its -wal and -shm files take the database's mode).
        self._db = sqlite3.connect(private_file(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        if self._db.execute("SELECT COUNT(*) FROM idempotency").fetchone()[0] == 0:
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # a new database: nothing to upgrade
        self._seq_reserved = int(self._get("seq_reserved") or 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------------------------------- meta

    def _get(self, key: str) -> bytes | str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def get_meta(self, key: str) -> bytes | str | None:
        with self._lock:
            return self._get(key)

    def put_meta(self, **values: bytes | str | int | float) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, v if isinstance(v, bytes) else str(v)) for k, v in values.items()],
            )
            self._db.execute("COMMIT")

    @property
    def first_free_seq(self) -> int:
        """The first seq a (re)started server may use: everything below it may have been sent."""
        return self._seq_reserved + 1

    def reserve_seq(self, seq: int) -> None:
        """Make sure ``seq`` lies inside a durably reserved block before it is published."""
        if seq <= self._seq_reserved:
            return
        upto = seq + SEQ_BLOCK
        self.put_meta(seq_reserved=upto)
        self._seq_reserved = upto

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def upgrade(self, convert_reply: Callable[[bytes], bytes]) -> int:
        """From an older schema version: every accepted outcome's reply through ``convert_reply`` (version 1's
        ActionReply bytes to version 2's JSON), in one transaction with the version bump; the rows changed."""
        with self._lock:
            if int(self._db.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
                return 0
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT rowid, reply FROM idempotency WHERE code = 0").fetchall()
                self._db.executemany("UPDATE idempotency SET reply = ? WHERE rowid = ?",
                                     [(convert_reply(bytes(blob)), rowid) for rowid, blob in rows])
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return len(rows)

    # ---------------------------------------------------------------------------------- idempotency

    def outcome(self, subject: str, request_id: str) -> StoredOutcome | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, code, message, reply FROM idempotency WHERE subject = ? AND request_id = ?",
                (subject, request_id),
            ).fetchone()
        return None if row is None else StoredOutcome(row[0], int(row[1]), row[2], bytes(row[3]))

    def remember(
        self,
        subject: str,
        request_id: str,
        outcome: StoredOutcome,
        now: float | None = None,
        *,
        meta: dict[str, bytes | str | int | float] | None = None,
    ) -> None:
        """Store an outcome; ``meta`` (the world checkpoint the action produced) commits in the same
        transaction, so a crash can never keep the action's effect without its outcome, or the reverse."""
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            if meta:
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [(k, v if isinstance(v, bytes) else str(v)) for k, v in meta.items()],
                )
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
                (subject, request_id, outcome.fingerprint, outcome.code, outcome.message, outcome.reply, now),
            )
            self._db.execute("DELETE FROM idempotency WHERE created < ?", (now - self.window_s,))
            self._db.execute(
                "DELETE FROM idempotency WHERE subject = ? AND rowid NOT IN "
                "(SELECT rowid FROM idempotency WHERE subject = ? ORDER BY created DESC, rowid DESC LIMIT ?)",
                (subject, subject, self.window_requests),
            )
            self._db.execute("COMMIT")


class MemoryOutcomes:
    """The idempotency window without a database: the same bounds, per subject. Not thread-safe (the action
    desk calls it under its lock)."""

    def __init__(self, *, window_s: float = IDEMPOTENCY_WINDOW_S, window_requests: int = IDEMPOTENCY_WINDOW_REQUESTS
                 ) -> None:
        self.window_s = window_s
        self.window_requests = window_requests
        self._by_subject: dict[str, OrderedDict[str, tuple[float, StoredOutcome]]] = {}

    def outcome(self, subject: str, request_id: str, now: float | None = None) -> StoredOutcome | None:
        mine = self._by_subject.get(subject)
        kept = mine.get(request_id) if mine is not None else None
        now = time.time() if now is None else now
        return kept[1] if kept is not None and kept[0] >= now - self.window_s else None

    def remember(self, subject: str, request_id: str, outcome: StoredOutcome, now: float | None = None) -> None:
        now = time.time() if now is None else now
        mine = self._by_subject.setdefault(subject, OrderedDict())
        mine[request_id] = (now, outcome)
        mine.move_to_end(request_id)
        while len(mine) > self.window_requests or next(iter(mine.values()))[0] < now - self.window_s:
            mine.popitem(last=False)
