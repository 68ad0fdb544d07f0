"""R8's audit figure: tampered copies of a real server's audit log, and how many ``verify`` reports broken.

The base log is written by a real orchestrator on loopback (deploys, refusals, replays, a guardrail change).
Each case copies it and tampers one way, as someone with write access to the file but not the key would:
``edit`` (drop the triggers, change a field, recreate them identically), ``delete`` (a row), ``reorder`` (swap
two rows), ``truncate_rows`` (remove the last rows, optionally rewinding the head), ``truncate_bytes`` (cut the
file), ``trigger_drop`` (drop a trigger and touch nothing else) and ``forge`` (append a row, with or without a
made-up head).
"""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scythe_desktop.orchestrator.audit import TRIGGERS, default_key_file, load_key
from scythe_desktop.orchestrator.audit_verify import verify

SECRET = "reliability-tamper-secret-" + "a" * 24
EDITABLE = ("time", "subject", "request_id", "action", "params", "guardrail", "result", "message", "replayed")


def write_base_log(directory: Path) -> Path:
    """A real server's audit log: deploys, a refusal, a replay, a guardrail change, decommissions."""
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.client.grpc_client import OrchestratorError
    from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

    path = directory / "audit.sqlite"
    handle = start_embedded("tutorial", 0, tick_hz=10.0, audit_path=path, auth_secret=SECRET)
    try:
        with handle.client() as c:
            ids = [c.deploy(-74.0 + i, 40.7, request_id=f"base-{i}").observer_id for i in range(3)]
            c.deploy(-74.0, 40.7, request_id="base-0")  # a replay
            with contextlib.suppress(OrchestratorError):
                c.deploy(100.0, 10.0, request_id="base-refused")
            rails = c.world_info().guardrails
            c.set_guardrails(pb.Guardrails(max_instances=rails.max_instances, budget_per_hour=rails.budget_per_hour,
                                           allowed_regions=list(rails.allowed_regions)))
            for oid in ids:
                c.decommission(oid)
    finally:
        handle.stop()
    return path


def _rewrite(db: sqlite3.Connection, change: Callable[[sqlite3.Connection], object]) -> None:
    """Drop the append-only triggers, change rows, put the triggers back exactly as they were."""
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER {name}")
    change(db)
    for sql in TRIGGERS.values():
        db.execute(sql)


def _changed(column: str, old: Any, rng: random.Random) -> Any:
    """A value other than ``old`` for ``column`` (setting a field to what it holds is no tampering)."""
    if column == "time":
        return old + rng.uniform(1.0, 3600.0)
    if column == "replayed":
        return 1 - old
    if column == "params":
        return "{}" if old != "{}" else '{"lon": 0.0}'
    return old + rng.choice("x.!")


def _tamper(kind: str, path: Path, rng: random.Random) -> None:
    if kind == "truncate_bytes":
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(rng.randrange(size // 4, size - 1))
        return
    db = sqlite3.connect(path, isolation_level=None)
    try:
        ids = [int(r[0]) for r in db.execute("SELECT id FROM audit ORDER BY id")]
        a, b = sorted(rng.sample(ids, 2))
        if kind == "edit":
            column = rng.choice(EDITABLE)
            (old,) = db.execute(f"SELECT {column} FROM audit WHERE id = ?", (a,)).fetchone()
            value = _changed(column, old, rng)
            _rewrite(db, lambda d: d.execute(f"UPDATE audit SET {column} = ? WHERE id = ?", (value, a)))
        elif kind == "delete":
            _rewrite(db, lambda d: d.execute("DELETE FROM audit WHERE id = ?", (a,)))
        elif kind == "reorder":
            def swap(d: sqlite3.Connection) -> None:
                rows = {r[0]: r[1:] for r in d.execute("SELECT * FROM audit WHERE id IN (?, ?)", (a, b))}
                d.execute("DELETE FROM audit WHERE id IN (?, ?)", (a, b))
                for rid, other in ((a, b), (b, a)):
                    d.execute(f"INSERT INTO audit VALUES (?{', ?' * len(rows[other])})", (rid, *rows[other]))
            _rewrite(db, swap)
        elif kind == "truncate_rows":
            keep = rng.randrange(1, len(ids))
            def cut(d: sqlite3.Connection) -> None:
                d.execute("DELETE FROM audit WHERE id > ?", (ids[keep - 1],))
                if rng.random() < 0.5:  # rewind the head to the new last row (its MAC cannot be made)
                    last = d.execute("SELECT id, hash FROM audit WHERE id = ?", (ids[keep - 1],)).fetchone()
                    d.execute("UPDATE audit_head SET last_id = ?, hash = ?", last)
            _rewrite(db, cut)
        elif kind == "trigger_drop":
            db.execute(f"DROP TRIGGER {rng.choice(sorted(TRIGGERS))}")
        elif kind == "forge":
            last = db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            forged = (last[0] + 1, *last[1:-2], last[-1], "f" * 64)
            db.execute(f"INSERT INTO audit VALUES (?{', ?' * (len(forged) - 1)})", forged)
            if rng.random() < 0.5:
                db.execute("UPDATE audit_head SET last_id = ?, hash = ?, mac = ?", (forged[0], forged[-1], "0" * 64))
        else:
            raise ValueError(kind)
    finally:
        db.close()


KINDS = ("edit", "delete", "reorder", "truncate_rows", "truncate_bytes", "trigger_drop", "forge")


def run_tamper(cases: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}-tamper")
    with tempfile.TemporaryDirectory(prefix="scythe-tamper-") as tmp:
        base = write_base_log(Path(tmp))
        key = load_key(default_key_file(base))
        intact = verify(base, key)
        detected: Counter[str] = Counter()
        tried: Counter[str] = Counter()
        missed: list[str] = []
        for i in range(cases):
            kind = KINDS[i % len(KINDS)]
            copy = Path(tmp) / f"case-{i}.sqlite"
            shutil.copyfile(base, copy)
            _tamper(kind, copy, rng)
            verdict = verify(copy, key)
            tried[kind] += 1
            detected[kind] += not verdict.ok
            if verdict.ok:
                missed.append(kind)
            copy.unlink()
    total = sum(tried.values())
    return {
        "audit_tamper_cases_detected": round(sum(detected.values()) / total, 4) if total else None,
        "audit_tamper_cases": total,
        "audit_tamper_by_kind": {k: f"{detected[k]}/{tried[k]}" for k in KINDS if tried[k]},
        "audit_tamper_missed_examples": missed[:5],
        "audit_intact_log_verifies": intact.ok,
        "audit_base_rows": intact.rows,
    }
