"""``scythe audit PATH``: print the orchestrator's audit log, optionally filtered, as text or JSON lines."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path

from scythe_desktop.orchestrator.audit import AuditLog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="audit log written by scythe serve --audit")
    parser.add_argument("--subject", help="only requests from this identity")
    parser.add_argument("--action", help="only this action (deploy, relocate, increase_sampling, focus, decommission)")
    parser.add_argument("--result", help="only this outcome, e.g. OK or FAILED_PRECONDITION")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    if not args.path.is_file():
        print(f"scythe audit: no audit log at {args.path}", file=sys.stderr)
        return 2
    try:
        log = AuditLog(args.path)
        records = list(log.records(subject=args.subject, action=args.action, result=args.result))
        log.close()
    except sqlite3.DatabaseError as exc:
        print(f"scythe audit: {args.path} is not an audit log ({exc})", file=sys.stderr)
        return 2
    for r in records:
        if args.json:
            print(json.dumps(r.as_dict(), sort_keys=True))
        else:
            when = dt.datetime.fromtimestamp(r.time, dt.UTC).isoformat(timespec="milliseconds")
            params = " ".join(f"{k}={v}" for k, v in sorted(r.params.items()))
            replay = " (replay)" if r.replayed else ""
            print(
                f"{when} {r.subject} {r.request_id} {r.action} {params} guardrail={r.guardrail} "
                f"{r.result}{replay} {r.message}".rstrip()
            )
    return 0
