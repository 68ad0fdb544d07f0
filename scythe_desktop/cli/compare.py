"""``scythe compare A.mcap B.mcap [--plot FILE.png] [--json]``: two futures of one world over time.

Prints where the figures diverge, information, seed reward, cost, detections and early activations caught
over time (A → B), and the decisions that differ. Exit status 0, or 2 when a file cannot be compared (the
message names it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", type=Path, help="a recording (e.g. the parent)")
    parser.add_argument("b", type=Path, help="another recording of the same world (e.g. its what-if branch)")
    parser.add_argument("--plot", type=Path, default=None, help="also draw the figures over time into a PNG")
    parser.add_argument("--rows", type=int, default=6, help="times shown in the table (default 6)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.recording.compare import as_dict, compare, load_series, plot, table
    from scythe_desktop.recording.reader import RecordingError

    try:
        result = compare(load_series(args.a), load_series(args.b))
    except RecordingError as exc:
        print(f"scythe compare: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(as_dict(result), sys.stdout)
        sys.stdout.write("\n")
    else:
        print(table(result, rows=max(2, args.rows)))
    if args.plot is not None:
        try:
            plot(result, args.plot)
        except ImportError as exc:
            print(f"scythe compare: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
