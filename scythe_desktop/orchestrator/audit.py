"""Append-only, tamper-evident, durable audit log of every action request, in SQLite (WAL, synchronous=FULL).

Each row: time, subject, request id, action, parameters (JSON), guardrail outcome, result (status code name
and message), whether it was an idempotent replay, and ``hash`` = HMAC-SHA256(key, previous row's hash, this
row's content) — a keyed chain, so a row cannot be edited, removed, moved or forged without the key. The
``audit_head`` row (last id and hash, with its own MAC) is updated in the same transaction and tells a
truncated log from a short one. Triggers refuse UPDATE and DELETE; :mod:`~scythe_desktop.orchestrator.audit_verify`
(``scythe audit verify``) reports the first broken link, a missing trigger or a head that does not match. The
file (and its -wal/-shm, which SQLite creates with the file's mode) is 0600, as is the key file.

Every text field is bounded (:func:`bounded`): a long value is cut and its length and SHA-256 kept, so no
request can make the log grow by more than a few kilobytes. A write that fails raises :class:`AuditUnavailable`
and keeps the row in memory (written first at the next write); :meth:`AuditLog.transaction` is how a caller
refuses to act when it cannot audit (fail closed). This module stores records; it knows nothing of gRPC or the
world.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

GENESIS: Final = "0" * 64
#: Bounds on what one row may store (characters).
MAX_TEXT: Final = 256
MAX_MESSAGE: Final = 2048
MAX_PARAMS: Final = 2048
TRIGGERS: Final = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
                       "    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
                       "    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, subject TEXT NOT NULL, request_id TEXT NOT NULL, action TEXT NOT NULL,
    params TEXT NOT NULL, guardrail TEXT NOT NULL, result TEXT NOT NULL, message TEXT NOT NULL,
    replayed INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1), last_id INTEGER NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL);
""" + "".join(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS") + ";\n" for sql in TRIGGERS.values())
#: The content columns, in the order the hash covers them.
CONTENT: Final = ("id", "time", "subject", "request_id", "action", "params", "guardrail", "result", "message",
                  "replayed")


class AuditUnavailable(Exception):
    """The audit row could not be written (the caller must not act, or must say it could not audit)."""


def bounded(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters with its length and SHA-256 (printable ASCII, for the log)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{text[:limit]}...[{len(text)} chars, sha256 {digest}]"


def row_hash(key: bytes, prev_hash: str, content: tuple[Any, ...]) -> str:
    """The chain link of one row: its content (see :data:`CONTENT`) after the previous row's hash."""
    body = json.dumps([prev_hash, *content], separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, last_id: int, last_hash: str) -> str:
    return hmac.new(key, f"head|{last_id}|{last_hash}".encode(), hashlib.sha256).hexdigest()


def default_key_file(audit_path: Path) -> Path:
    return audit_path.with_name(audit_path.name + ".key")


def load_key(path: Path, *, create: bool = False) -> bytes:
    """The chain key in ``path`` (hex); with ``create``, a new random one written with mode 0600 if missing."""
    if create and not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise ValueError(f"audit key file {path} must hold at least 32 bytes (64 hex digits)")
    return key


def _private_file(path: Path) -> None:
    """Create ``path`` with mode 0600 (or tighten an existing one) before SQLite opens it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    time: float
    subject: str
    request_id: str
    action: str
    params: dict[str, Any]
    guardrail: str  # "passed", "refused: <guardrail>: <reason>", or "not reached"
    result: str  # status code name, e.g. OK, FAILED_PRECONDITION
    message: str
    replayed: bool

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


class AuditLog:
    """With ``key``: the server's writer (creates the file 0600 and the schema). Without: a reader of an
    existing file (``scythe audit``), which never writes."""

    def __init__(self, path: str | Path, key: bytes | None = None, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._key = key
        self._lock = threading.RLock()
        self._in_transaction = False
        self._backlog: list[tuple[Any, ...]] = []  # rows whose write failed, oldest first
        if key is not None:
            _private_file(self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
        if key is None:
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(audit)")}
        if columns and "hash" not in columns:
            self._db.close()
            raise ValueError(f"{self.path} is an audit log without a hash chain (an older scythe wrote it); "
                             "move it aside and start a new one")
        self._db.executescript(_SCHEMA)
        self._check_head()

    def _check_head(self) -> None:
        """Refuse to extend a log whose end is not where its head says (continuing would bless the damage)."""
        assert self._key is not None
        head = self._db.execute("SELECT last_id, hash, mac FROM audit_head").fetchone()
        last = self._db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        fine = (head is None and last is None) or (
            head is not None and last is not None and (int(head[0]), head[1]) == (int(last[0]), last[1])
            and hmac.compare_digest(head[2], head_mac(self._key, int(head[0]), head[1])))
        if not fine:
            self._db.close()
            raise ValueError(f"the audit log {self.path} does not end where its head says (or another key wrote "
                             "it); run scythe audit verify on it, move it aside and start a new one")

    @property
    def pending(self) -> int:
        """Rows not yet written because the log could not be written."""
        with self._lock:
            return len(self._backlog)

    def append(self, *, subject: str, request_id: str, action: str, params: dict[str, Any], guardrail: str,
               result: str, message: str = "", replayed: bool = False, now: float | None = None) -> None:
        """Write one row (bounded); AuditUnavailable when it cannot (the row waits for the next write)."""
        text = json.dumps(params, sort_keys=True)
        if len(text) > MAX_PARAMS:
            text = json.dumps({"omitted": bounded(text, 64)})
        row = (time.time() if now is None else now, bounded(subject, MAX_TEXT), bounded(request_id, MAX_TEXT),
               bounded(action, MAX_TEXT), text, bounded(guardrail, MAX_TEXT), bounded(result, MAX_TEXT),
               bounded(message, MAX_MESSAGE), int(replayed))
        with self._lock:
            self._backlog.append(row)
            if not self._in_transaction:
                with self.transaction():
                    pass

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the log for writing around an action: AuditUnavailable *before* the body runs when the log
        cannot be written (so nothing acts); rows appended in the body commit at the end, even when the body
        raises, or stay pending and AuditUnavailable is raised."""
        if self._key is None:
            raise AuditUnavailable(f"{self.path} was opened for reading only")
        with self._lock:
            if self._in_transaction:  # nested: the outer one commits
                yield
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                inserted = self._insert(0)  # earlier rows that failed go first, and prove the log writable
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
            self._in_transaction = True
            try:
                yield
            finally:
                self._in_transaction = False
                try:
                    self._insert(inserted)
                    self._db.execute("COMMIT")
                    self._backlog.clear()
                except sqlite3.Error as exc:
                    raise self._failed(exc) from exc

    def _insert(self, start: int) -> int:
        """Insert the pending rows from ``start`` on, chained after the head (inside the open transaction)."""
        assert self._key is not None
        head = self._db.execute("SELECT last_id, hash FROM audit_head").fetchone()
        last_id, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        for row in self._backlog[start:]:
            last_id += 1
            digest = row_hash(self._key, prev, (last_id, *row))
            self._db.execute(
                "INSERT INTO audit (id, time, subject, request_id, action, params, guardrail, result, message, "
                "replayed, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (last_id, *row, prev, digest),
            )
            prev = digest
        self._db.execute("INSERT OR REPLACE INTO audit_head (one, last_id, hash, mac) VALUES (1, ?, ?, ?)",
                         (last_id, prev, head_mac(self._key, last_id, prev)))
        return len(self._backlog)

    def _failed(self, exc: sqlite3.Error) -> AuditUnavailable:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back by itself (disk full, I/O)
                self._db.execute("ROLLBACK")
        return AuditUnavailable(f"cannot write the audit log {self.path}: {exc}")

    def records(self, *, subject: str | None = None, action: str | None = None, result: str | None = None,
                since: float | None = None) -> Iterator[AuditRecord]:
        where: list[str] = []
        args: list[object] = []
        for column, value in (("subject", subject), ("action", action), ("result", result)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("time >= ?")
            args.append(since)
        sql = ("SELECT id, time, subject, request_id, action, params, guardrail, result, message, replayed "
               "FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for r in rows:
            yield AuditRecord(int(r[0]), float(r[1]), r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], bool(r[9]))

    def close(self) -> None:
        with self._lock:
            self._db.close()
