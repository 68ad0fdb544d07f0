"""``scythe simulate``: run a scenario and a policy faster than real time and write the run as a recording.

The progress bar goes to stderr; with ``--progress-lines`` one ``flushed messages=N log_s=T`` line per
flush goes to stdout, so a script (or a test) knows what is safely on disk. Exit status 0 on success,
2 on bad arguments (unknown scenario or policy, existing output file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scythe_desktop.engine.adversary_spec import EVADER_NAMES
from scythe_desktop.recording.defaults import FLUSH_INTERVAL_S, KEYFRAME_INTERVAL_S
from scythe_desktop.recording.durations import duration_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="regional", help="scenario name or TOML file (default regional)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evader", choices=EVADER_NAMES, default=None,
                        help="who plays the clusters' side of an adversarial scenario (default: its own evader)")
    parser.add_argument("--policy", default="none",
                        help="policy name (a Policy in scythe_desktop.engine.policies, e.g. greedy), or none")
    parser.add_argument("--duration", type=duration_arg, default=600.0,
                        help="simulated time to record: 90s, 30m, 1h (default 10m)")
    parser.add_argument("--out", type=Path, required=True, help="recording to write (.mcap); must not exist")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--tick-hz", type=float, default=5.0, help="ticks per second of log time (live rate)")
    parser.add_argument("--keyframe-every", type=int, default=50,
                        help="ticks between the orchestrator's keyframes (default 50, as `scythe serve`)")
    parser.add_argument("--keyframe-interval", type=float, default=KEYFRAME_INTERVAL_S,
                        help="most seconds of log time between seek points (keyframes or checkpoints)")
    parser.add_argument("--decide-every", type=int, default=5, help="ticks between policy decisions")
    parser.add_argument("--world-state-interval", type=duration_arg, default=60.0,
                        help="log time between captures of the whole world, where `scythe whatif` can resume "
                             "(default 60s; taken at the next keyframe)")
    parser.add_argument("--flush-interval", type=float, default=FLUSH_INTERVAL_S,
                        help="wall seconds between flushes: the most a crash can lose")
    parser.add_argument("--progress-lines", action="store_true", help="print one line per flush to stdout")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from scythe_desktop.engine.evaders import with_evader
    from scythe_desktop.engine.policies import load_policy
    from scythe_desktop.engine.scenario import ScenarioError, load_scenario
    from scythe_desktop.recording.simulate import Simulation, record_event
    from scythe_desktop.recording.writer import Recorder

    try:
        scenario = with_evader(load_scenario(args.scenario), args.evader)
        policy = load_policy(args.policy)
    except (ScenarioError, ValueError, OSError) as exc:
        print(f"scythe simulate: {exc}", file=sys.stderr)
        return 2
    if not args.tick_hz > 0:
        print(f"scythe simulate: --tick-hz must be > 0, got {args.tick_hz}", file=sys.stderr)
        return 2
    ticks = round(args.duration * args.tick_hz)

    def report(count: int, log_ns: int) -> None:
        print(f"flushed messages={count} log_s={log_ns / 1e9:.3f}", flush=True)

    world_state_every = max(1, round(args.world_state_interval * args.tick_hz))
    try:
        sim = Simulation(scenario, args.seed, policy, tick_hz=args.tick_hz, keyframe_every=args.keyframe_every,
                         decide_every=args.decide_every, world_state_every=world_state_every)
    except ValueError as exc:
        print(f"scythe simulate: {exc}", file=sys.stderr)
        return 2
    metadata = sim.metadata(args.policy)
    try:
        recorder = Recorder(args.out, metadata=metadata, keyframe_interval_s=args.keyframe_interval,
                            flush_interval_s=args.flush_interval, overwrite=args.overwrite,
                            on_flush=report if args.progress_lines else None)
    except FileExistsError:
        print(f"scythe simulate: {args.out} exists; choose another --out or pass --overwrite", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"scythe simulate: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    last_tick = 0
    try:
        with recorder, tqdm(total=ticks, unit="tick", file=sys.stderr, disable=args.no_progress,
                            mininterval=0.5) as bar:
            for event in sim.run(ticks):
                record_event(recorder, event)
                if event.tick > last_tick:
                    bar.update(event.tick - last_tick)
                    last_tick = event.tick
    except KeyboardInterrupt:  # the recorder closed the file cleanly on the way out
        print(f"interrupted: wrote {args.out} up to tick {last_tick}, {recorder.message_count} messages",
              file=sys.stderr)
        return 130
    print(f"wrote {args.out}: {ticks} ticks ({args.duration:g} s of log time), {recorder.message_count} messages",
          file=sys.stderr)
    return 0

