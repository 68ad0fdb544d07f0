"""The README's evaluation matrix of the adversary: every seeker against every evader, and the spending
baselines held to the adversarial brain's spend rate: ``python scripts/adversary_matrix.py [--jobs 2]``.

Seekers: random, greedy, greedy-reward, static-grid, rollout, ppo (the shipped network), brain (the shipped
brain) and the adversarial brain (the brain with the self-play defender of ``resources/policies/adversarial/``
as its prior). Evaders: random, evade-when-watched, decoy and the trained evader of the same pair. Held-out
seeds 1000..1004, 200 ticks, the seed reward with the default weights. Per cell: seed reward / early
activations caught / activations evaded / detections, means over the seeds. A measurement (minutes of CPU per
lookahead row), not a test.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

from scythe_desktop.engine.evaders import with_evader
from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.rl.comparison import mean_of
from scythe_desktop.engine.rl.evaluation import EpisodeResult, capped, evaluate
from scythe_desktop.engine.scenario import load_scenario

PAIR = Path(__file__).resolve().parents[1] / "resources" / "policies" / "adversarial"
SEEKERS = ("random", "greedy", "greedy-reward", "static-grid", "rollout", "ppo", "brain", "adversarial brain")
EVADERS = ("trained", "random", "evade-when-watched", "decoy")
EQUAL_SPEND = ("greedy", "greedy-reward", "static-grid")
FIGURES = ("seed_reward", "early_activations", "activations_evaded", "detections")


def _seeker(name: str) -> Callable[[], Policy]:
    if name == "adversarial brain":
        return functools.partial(make_policy, "brain", path=PAIR / "defender.pt")
    return functools.partial(make_policy, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", default="1000..1004")
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write every cell here (after each evader's column)")
    parser.add_argument("--evaders", default=",".join(EVADERS), help="columns, in this order")
    args = parser.parse_args()
    lo, hi = (int(v) for v in args.seeds.split(".."))
    seeds = list(range(lo, hi + 1))
    cells: dict[str, dict[str, dict[str, float]]] = {}
    evaders = args.evaders.split(",")
    for evader in evaders:
        world = with_evader(load_scenario("adversarial"), "random" if evader == "trained" else evader)
        model = PAIR / "evader.pt" if evader == "trained" else None
        run = functools.partial(evaluate, scenario=world, seeds=seeds, ticks=args.ticks, jobs=args.jobs,
                                evader_model=model)
        rows: list[EpisodeResult] = []
        for name in SEEKERS:
            rows += [_renamed(r, name) for r in run(_seeker(name))]
            print(f"{evader}: {name} done", file=sys.stderr, flush=True)
        rate = mean_of(rows, "adversarial brain", "spend_per_hour")
        for name in EQUAL_SPEND:
            held = functools.partial(evaluate, scenario=capped(world, rate), seeds=seeds, ticks=args.ticks,
                                     jobs=args.jobs, evader_model=model)
            rows += [_renamed(r, f"{name}@adversarial brain") for r in held(_seeker(name))]
        names = (*SEEKERS, *(f"{n}@adversarial brain" for n in EQUAL_SPEND))
        cells[evader] = {n: {f: mean_of(rows, n, f) for f in (*FIGURES, "cost")} for n in names}
        cells[evader]["adversarial brain"]["spend_per_hour"] = rate
        if args.json:
            args.json.write_text(json.dumps(cells, indent=1))
    print("| seeker | " + " | ".join(f"{e}: reward / caught / evaded / detections" for e in evaders) + " |")
    print("|---|" + "---|" * len(evaders))
    for name in cells[evaders[0]]:
        row = [" / ".join(_fmt(cells[e][name][f]) for f in FIGURES) for e in evaders]
        print(f"| `{name}` | " + " | ".join(row) + " |")


def _renamed(result: EpisodeResult, name: str) -> EpisodeResult:
    from dataclasses import replace

    return replace(result, policy=name)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


if __name__ == "__main__":
    main()
