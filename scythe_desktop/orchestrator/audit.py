"""Append-only, durable audit log of every action request, in SQLite (WAL, synchronous=FULL).

Each row: time, subject, request id, action, parameters (JSON), guardrail outcome, result (status
code name and message), and whether it was an idempotent replay. Triggers refuse UPDATE and DELETE,
so the file is never rewritten; a crash loses at most the request that was being written. This
module stores records; it knows nothing of gRPC servers or the world.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, subject TEXT NOT NULL, request_id TEXT NOT NULL, action TEXT NOT NULL,
    params TEXT NOT NULL, guardrail TEXT NOT NULL, result TEXT NOT NULL, message TEXT NOT NULL,
    replayed INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


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
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def append(
        self,
        *,
        subject: str,
        request_id: str,
        action: str,
        params: dict[str, Any],
        guardrail: str,
        result: str,
        message: str = "",
        replayed: bool = False,
        now: float | None = None,
    ) -> None:
        row = (
            time.time() if now is None else now,
            subject,
            request_id,
            action,
            json.dumps(params, sort_keys=True),
            guardrail,
            result,
            message,
            int(replayed),
        )
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (time, subject, request_id, action, params, guardrail, result, message, "
                "replayed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def records(
        self,
        *,
        subject: str | None = None,
        action: str | None = None,
        result: str | None = None,
        since: float | None = None,
    ) -> Iterator[AuditRecord]:
        where: list[str] = []
        args: list[object] = []
        for column, value in (("subject", subject), ("action", action), ("result", result)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("time >= ?")
            args.append(since)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for r in rows:
            yield AuditRecord(int(r[0]), float(r[1]), r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8], bool(r[9]))

    def close(self) -> None:
        with self._lock:
            self._db.close()
