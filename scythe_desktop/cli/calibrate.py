"""``scythe calibrate``: fit the brain's confidence to "probability that acting beats waiting" on validation
seeds, and store the map in a policy card (see :mod:`scythe_desktop.engine.rl.calibration`).

Runs the brain with its raw confidence (the share of lookahead samples in which a move beat waiting) over the
seeds, judges every proposal on a fresh future, fits the isotonic map raw share -> observed rate and writes it
under ``calibration.brain`` in ``--card``, with the expected calibration error before and after (on these
seeds: the held-out figure is ``scythe bench rl``'s ``confidence_ece``).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from scythe_desktop.cli.evaluate import add_world_arguments, scenario_or_none
from scythe_desktop.engine.rl.calibration import CONFIDENCE_HORIZON


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_world_arguments(parser, "500..519", "validation seeds, never the held-out 1000..1019", 100)
    parser.add_argument("--model", type=Path, default=None, help="the brain's network (default: the shipped one)")
    parser.add_argument("--card", type=Path, required=True, help="policy card (JSON) to store the map in")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.calibration import Calibrator, ece, outcomes

    if args.ticks < 1:
        print(f"scythe calibrate: --ticks must be >= 1, got {args.ticks}", file=sys.stderr)
        return 2
    if not args.card.is_file():
        print(f"scythe calibrate: no policy card at {args.card}", file=sys.stderr)
        return 2
    scenario = scenario_or_none(args.scenario, "calibrate", args.evader)
    if scenario is None:
        return 2
    raw = functools.partial(make_policy, "brain", path=args.model, calibrator=Calibrator.identity())
    found = outcomes(raw, scenario, args.seeds, args.ticks)
    if found.confidence.size < 2:
        print("scythe calibrate: the brain offered fewer than two proposals; nothing to fit", file=sys.stderr)
        return 1
    fitted = Calibrator.fit(found.score, found.beat_waiting)
    before = ece(found.confidence, found.beat_waiting)
    after = ece(fitted(found.score), found.beat_waiting)
    card = json.loads(args.card.read_text())
    card.setdefault("calibration", {})["brain"] = fitted.to_json()
    card["calibration"]["brain_fit"] = {
        "scenario": scenario.name,
        "seeds": f"{args.seeds[0]}..{args.seeds[-1]}",
        "ticks": args.ticks,
        "horizon": CONFIDENCE_HORIZON,
        "proposals": int(found.confidence.size),
        "ece_raw": before,
        "ece_fitted_in_sample": after,
    }
    args.card.write_text(json.dumps(card, indent=2) + "\n")
    print(f"{found.confidence.size} proposals; ECE raw {before:.4f}, fitted (in sample) {after:.4f} -> {args.card}")
    return 0
