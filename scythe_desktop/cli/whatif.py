"""``scythe whatif REC.mcap --at 10m42s [--policy NAME] [--flip ID ...] [--duration 30m] --out BRANCH.mcap``.

Branches a recording at a moment under another policy, or with recorded decisions flipped, and writes the
branch as a normal recording (its metadata names the parent and the branch point); ``--list`` prints the
recording's decisions with their ids. Exit status 0 on success, 2 on bad input (the message names it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scythe_desktop.recording.durations import duration_arg, format_duration, time_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", type=Path, help="a recording made by `scythe simulate` (or a branch of one)")
    parser.add_argument("--list", action="store_true", help="list the recording's decisions (id, tick, who, what)")
    parser.add_argument("--at", type=time_arg, default=None,
                        help="where to branch, from the recording's start: 10m42s, 642, 1h (default: the first "
                             "flipped decision)")
    parser.add_argument("--policy", default=None,
                        help="who decides from --at on: a policy name (brain, greedy, …) or `recorded` (default: "
                             "the recorded decisions, with the flips)")
    parser.add_argument("--flip", type=int, action="append", default=[], metavar="DECISION_ID",
                        help="invert a recorded decision: an applied one is rejected, a rejected one applied "
                             "(repeatable; ids from --list)")
    parser.add_argument("--duration", type=duration_arg, default=None,
                        help="how long the branch runs after the branch point (default: to the recording's end)")
    parser.add_argument("--out", type=Path, help="the branch recording to write (.mcap)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--progress-lines", action="store_true",
                        help="print `progress DONE TOTAL` lines (ticks) to stdout as the branch runs (for the console)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from scythe_desktop.recording.branch import BranchSpec, ParentRun, WhatIfError, run_branch
    from scythe_desktop.recording.reader import Recording, RecordingError

    try:
        with Recording(args.recording) as rec:
            parent = ParentRun.open(rec)
        if args.list:
            for d in parent.decisions:
                print(f"{d.describe()}  [{format_duration(d.tick / parent.tick_hz)}]")
            return 0
        if args.out is None:
            print("scythe whatif: --out BRANCH.mcap is required (or --list)", file=sys.stderr)
            return 2
        spec = BranchSpec(
            at_tick=None if args.at is None else parent.tick_of(args.at), policy=args.policy, flips=tuple(args.flip),
            duration_ticks=None if args.duration is None else parent.tick_of(args.duration))
        bars: list[tqdm[None]] = []  # opened at the first tick, so a refused branch prints no bar
        said = [-1]

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(tqdm(total=total, unit="tick", file=sys.stderr, disable=args.no_progress, mininterval=0.5))
            bars[0].update(done - bars[0].n)
            if args.progress_lines and (done == total or done - said[0] >= max(1, total // 100)):
                said[0] = done
                print(f"progress {done} {total}", flush=True)

        try:
            result = run_branch(args.recording, spec, args.out, overwrite=args.overwrite, progress=progress)
        finally:
            for bar in bars:
                bar.close()
    except (WhatIfError, RecordingError) as exc:
        print(f"scythe whatif: {exc}", file=sys.stderr)
        return 2
    hz = parent.tick_hz
    diverged = ("never (the same decisions throughout)" if result.first_divergence_tick is None
                else format_duration(result.first_divergence_tick / hz))
    print(f"wrote {result.path}: branch at {format_duration(result.branch_tick / hz)} (resumed from the world "
          f"checkpoint at {format_duration(result.resumed_tick / hz)}), {result.branch_ticks} ticks in "
          f"{result.wall_s:.1f} s ({result.branch_ticks / hz / max(result.wall_s, 1e-9):.0f}x real time); decisions "
          f"diverge at {diverged}; {result.frames_checked} frames checked against the recording, "
          f"{'identical' if result.identical_until_divergence else 'NOT identical'} until then")
    return 0 if result.identical_until_divergence else 1
