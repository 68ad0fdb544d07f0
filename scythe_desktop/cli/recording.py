"""``scythe recording check FILE``, ``scythe recording repair FILE [--out OUT]`` and ``export-foxglove IN OUT``.

``export-foxglove IN OUT`` writes a copy with the swarm as ``foxglove.PointCloud`` for Foxglove's 3-D panel.
``check`` prints duration, channels (topic, schema, message count) and whether the file was cleanly
closed; exit status 0 when it was, 1 when it needs repair, 2 when it is not a readable recording.
``repair`` rewrites the complete chunks of a truncated file as a clean, indexed recording (default
``FILE.repaired.mcap``), never touching the input. ``--json`` prints the report as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scythe_desktop.recording.reader import RecordingReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="report duration, channels, message counts, cleanly closed or not")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    repair = sub.add_parser("repair", help="rewrite a truncated recording into a clean indexed one")
    repair.add_argument("file", type=Path)
    repair.add_argument("--out", type=Path, help="output file (default FILE.repaired.mcap)")
    repair.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    repair.add_argument("--json", action="store_true", help="print the new file's report as one JSON object")
    export = sub.add_parser("export-foxglove", help="a copy with the swarm as foxglove.PointCloud for the 3-D panel")
    export.add_argument("file", type=Path)
    export.add_argument("out", type=Path)
    export.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")


def _as_dict(report: RecordingReport) -> dict[str, Any]:
    return {
        "file": str(report.path), "cleanly_closed": report.cleanly_closed, "duration_s": report.duration_s,
        "start_ns": report.start_ns, "end_ns": report.end_ns, "messages": report.message_count,
        "chunks": report.chunk_count,
        "channels": {t: {"schema": report.schemas.get(t, ""), "messages": n} for t, n in report.message_counts.items()},
        "metadata": report.metadata, "problem": report.problem,
    }


def _print(report: RecordingReport, as_json: bool) -> None:
    d = _as_dict(report)
    if as_json:
        json.dump(d, sys.stdout)
        sys.stdout.write("\n")
        return
    state = "cleanly closed" if d["cleanly_closed"] else f"NOT cleanly closed ({d['problem']})"
    print(f"{d['file']}: {state}")
    if d["cleanly_closed"] and d["problem"]:
        print(f"  {d['problem']}")
    print(f"  duration {d['duration_s']:.3f} s, {d['messages']} messages")
    meta = d["metadata"]
    if meta:
        print("  " + ", ".join(f"{k}={v}" for k, v in sorted(meta.items())))
    for topic, info in sorted(d["channels"].items()):
        print(f"  {topic:32} {info['schema']:34} {info['messages']:>9}")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.recording.reader import RecordingError, inspect, repair

    try:
        if args.action == "export-foxglove":
            from scythe_desktop.recording.export import export_foxglove

            clouds = export_foxglove(args.file, args.out, overwrite=args.overwrite)
            print(f"wrote {args.out}: every message of {args.file} plus {clouds} point clouds on "
                  f"/scythe/swarm", file=sys.stderr)
            return 0
        if args.action == "check":
            report = inspect(args.file)
            _print(report, args.json)
            return 0 if report.cleanly_closed else 1
        out = args.out or args.file.with_name(args.file.name.removesuffix(".mcap") + ".repaired.mcap")
        report = repair(args.file, out, overwrite=args.overwrite)
        if not args.json:
            print(f"repaired {args.file} -> {out}", file=sys.stderr)
        _print(report, args.json)
        return 0
    except RecordingError as exc:
        print(f"scythe recording: {exc}", file=sys.stderr)
    return 2
