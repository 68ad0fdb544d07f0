"""``scythe audit PATH``: print the orchestrator's audit log, optionally filtered, as text or JSON lines.
``scythe audit verify PATH [--key-file K]``: check its hash chain, triggers and head; print the first broken
link (exit 1) or how many rows hold (exit 0).

Text output escapes everything but printable ASCII (a request id or subject cannot forge a line); JSON output
is JSON's own escaping.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path

from scythe_desktop.orchestrator.audit import AuditLog, default_key_file, load_key
from scythe_desktop.orchestrator.audit_verify import verify
from scythe_desktop.orchestrator.requests import printable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="[verify] PATH",
                        help="audit log written by scythe serve --audit; 'verify PATH' checks it instead")
    parser.add_argument("--key-file", type=Path, help="the chain's key, for verify (default: PATH.key)")
    parser.add_argument("--subject", help="only requests from this identity")
    parser.add_argument("--action", help="only this action (deploy, relocate, increase_sampling, focus, decommission, "
                                         "set_guardrails)")
    parser.add_argument("--result", help="only this outcome, e.g. OK or FAILED_PRECONDITION")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    paths: list[str] = args.paths
    if paths[0] == "verify" and len(paths) == 2:
        return _verify(Path(paths[1]), args.key_file)
    if len(paths) != 1:
        print("scythe audit: give one PATH, or 'verify PATH'", file=sys.stderr)
        return 2
    path = Path(paths[0])
    if not path.is_file():
        print(f"scythe audit: no audit log at {path}", file=sys.stderr)
        return 2
    try:
        log = AuditLog(path)
        records = list(log.records(subject=args.subject, action=args.action, result=args.result))
        log.close()
    except sqlite3.DatabaseError as exc:
        print(f"scythe audit: {path} is not an audit log ({exc})", file=sys.stderr)
        return 2
    for r in records:
        if args.json:
            print(json.dumps(r.as_dict(), sort_keys=True))
            continue
        when = dt.datetime.fromtimestamp(r.time, dt.UTC).isoformat(timespec="milliseconds")
        params = " ".join(f"{k}={v}" for k, v in sorted(r.params.items()))
        replay = " (replay)" if r.replayed else ""
        line = (f"{when} {printable(r.subject)} {printable(r.request_id)} {printable(r.action)} {printable(params)} "
                f"guardrail={printable(r.guardrail)} {printable(r.result)}{replay} {printable(r.message)}")
        print(line.rstrip())
    return 0


def _verify(path: Path, key_file: Path | None) -> int:
    if not path.is_file():
        print(f"scythe audit verify: no audit log at {path}", file=sys.stderr)
        return 2
    key_path = key_file or default_key_file(path)
    try:
        key = load_key(key_path)
    except (OSError, ValueError) as exc:
        print(f"scythe audit verify: cannot read the chain key {key_path}: {exc}", file=sys.stderr)
        return 2
    verdict = verify(path, key)
    if verdict.ok:
        print(f"{path}: intact, {verdict.rows} rows chained, head matches")
        return 0
    print(f"{path}: BROKEN after {verdict.rows} good rows: {verdict.problem}")
    return 1
