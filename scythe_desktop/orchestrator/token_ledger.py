"""What the orchestrator remembers about tokens: grants issued, sessions, revocations. One SQLite file, 0600.

* ``grants``: every long-lived refresh token issued (token id, subject, role, issued, expires), so that
  ``scythe auth list`` can show them and ``scythe auth revoke --token-id`` name one.
* ``sessions``: one per exchange of a grant at ``Auth/Refresh``: its subject, the grant it came from, the
  generation of its current rotating refresh token and when it was rotated last.
* ``revoked`` (token, grant or session ids, kept until they would have expired anyway) and ``valid_after``
  (per subject: tokens issued before this time are refused).

The server and ``scythe auth revoke`` may write the file at once (SQLite serialises them); the server keeps
the revocations in memory and reloads them when ``PRAGMA data_version`` says another connection changed the
file (checked at most every :data:`RELOAD_S`), so a revocation from the command line takes effect within a
fraction of a second, without a restart. Without a file the ledger lives in memory. Knows ids and times, not
JWTs or gRPC.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scythe_desktop.core.private_files import private_file

RELOAD_S: Final = 0.2
#: The ledger's file name in a server's state (or token) directory; ``scythe auth`` looks for it there.
CREDENTIALS_FILE: Final = "credentials.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (jti TEXT PRIMARY KEY, subject TEXT NOT NULL, role TEXT NOT NULL,
    issued REAL NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, subject TEXT NOT NULL, role TEXT NOT NULL,
    grant_jti TEXT NOT NULL, generation INTEGER NOT NULL, rotated REAL NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS revoked (id TEXT PRIMARY KEY, expires REAL NOT NULL, why TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS valid_after (subject TEXT PRIMARY KEY, not_before REAL NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    subject: str
    role: str
    grant_jti: str
    generation: int
    rotated: float
    expires: float


@dataclass(frozen=True, slots=True)
class Grant:
    jti: str
    subject: str
    role: str
    issued: float
    expires: float
    revoked: bool


class TokenLedger:
    """Thread-safe. ``path`` None: in memory (nothing survives the process)."""

    def __init__(self, path: str | Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        target = str(private_file(self.path)) if self.path is not None else ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=10.0)
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.reload_s = RELOAD_S  # tests set 0: every check looks at the file
        self._version = -1
        self._checked = float("-inf")
        self._revoked: set[str] = set()
        self._valid_after: dict[str, float] = {}
        self._load()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---------------------------------------------------------------------------------- revocations

    def _load(self) -> None:
        """Refresh the in-memory revocations if the file changed; call with the lock held."""
        self._checked = time.monotonic()
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            return
        self._version = version
        self._revoked = {r[0] for r in self._db.execute("SELECT id FROM revoked")}
        self._valid_after = dict(self._db.execute("SELECT subject, not_before FROM valid_after").fetchall())

    def refused(self, subject: str, issued_at: float, ids: tuple[str, ...]) -> bool:
        """True if any of ``ids`` (token, session, grant) is revoked or ``subject``'s tokens before now are."""
        with self._lock:
            if time.monotonic() - self._checked >= self.reload_s:
                self._load()
            return any(i in self._revoked for i in ids if i) or issued_at < self._valid_after.get(subject, -1.0)

    def revoke(self, token_id: str, *, expires: float | None = None, why: str = "revoked") -> None:
        """Refuse the token, session or grant ``token_id`` (and what was issued under it) from now on."""
        with self._lock:
            if expires is None:
                row = self._db.execute("SELECT expires FROM grants WHERE jti = ? UNION ALL "
                                       "SELECT expires FROM sessions WHERE sid = ?", (token_id, token_id)).fetchone()
                expires = row[0] if row else self._clock() + 366 * 24 * 3600.0
            self._db.execute("INSERT OR REPLACE INTO revoked VALUES (?, ?, ?)", (token_id, expires, why))
            self._db.execute("DELETE FROM revoked WHERE expires < ?", (self._clock(),))
            self._revoked.add(token_id)
            self._load()

    def revoke_subject(self, subject: str, at: float | None = None) -> None:
        """Refuse every token of ``subject`` issued before ``at`` (default now)."""
        at = self._clock() if at is None else at
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO valid_after VALUES (?, max(?, coalesce((SELECT not_before "
                             "FROM valid_after WHERE subject = ?), 0)))", (subject, at, subject))
            self._valid_after[subject] = max(at, self._valid_after.get(subject, 0.0))
            self._load()

    # --------------------------------------------------------------------------------------- grants

    def record_grant(self, jti: str, subject: str, role: str, issued: float, expires: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO grants VALUES (?, ?, ?, ?, ?)", (jti, subject, role, issued,
                                                                                    expires))
            self._db.execute("DELETE FROM grants WHERE expires < ?", (self._clock(),))

    def grants(self) -> list[Grant]:
        with self._lock:
            self._load()
            rows = self._db.execute("SELECT jti, subject, role, issued, expires FROM grants ORDER BY issued").fetchall()
            return [Grant(jti, subject, role, issued, expires,
                          revoked=jti in self._revoked or issued < self._valid_after.get(subject, -1.0))
                    for jti, subject, role, issued, expires in rows]

    # ------------------------------------------------------------------------------------- sessions

    def start_session(self, subject: str, role: str, grant_jti: str, expires: float) -> Session:
        session = Session(uuid.uuid4().hex, subject, role, grant_jti, 1, self._clock(), expires)
        with self._lock:
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)", (
                session.sid, subject, role, grant_jti, 1, session.rotated, expires))
            self._db.execute("DELETE FROM sessions WHERE expires < ?", (self._clock(),))
        return session

    def session(self, sid: str) -> Session | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return Session(*row) if row is not None else None

    def advance(self, sid: str, from_generation: int) -> Session | None:
        """Move the session to its next generation if it is still at ``from_generation`` (atomic: of two
        concurrent refreshes with the same token, one wins); None if it was not."""
        now = self._clock()
        with self._lock:
            cur = self._db.execute("UPDATE sessions SET generation = generation + 1, rotated = ? "
                                   "WHERE sid = ? AND generation = ?", (now, sid, from_generation))
            if cur.rowcount != 1:
                return None
            row = self._db.execute("SELECT * FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return Session(*row)

    def sessions(self) -> list[Session]:
        with self._lock:
            return [Session(*r) for r in self._db.execute("SELECT * FROM sessions ORDER BY rotated").fetchall()]


__all__ = ["CREDENTIALS_FILE", "Grant", "Session", "TokenLedger"]
