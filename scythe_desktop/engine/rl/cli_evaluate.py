"""``scythe evaluate``: run policies over the same seeded episodes and print mean ± 95% CI per metric.

Every policy sees the same worlds (scenario, seeds, episode length, one action per tick). The table goes to
stdout; ``--csv`` writes the raw per-episode rows and ``--json`` the summary plus raw rows.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from scythe_desktop.engine.policies import POLICIES


def parse_seeds(text: str) -> list[int]:
    """``"a..b"`` (inclusive), ``"a,b,c"`` or a single integer."""
    try:
        if ".." in text:
            lo, hi = (int(p) for p in text.split("..", 1))
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1))
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds must be 'a..b' (a <= b), 'a,b,c' or one integer, got {text!r}"
        ) from None


def parse_policies(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in POLICIES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--policy: unknown {unknown or text!r}; expected some of {sorted(POLICIES)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        type=parse_policies,
        default=["ppo", "greedy", "random"],
        help=f"comma-separated policies among {', '.join(POLICIES)} (default: ppo,greedy,random)",
    )
    parser.add_argument("--scenario", default="regional", help="scenario name or TOML path (default: regional)")
    parser.add_argument("--episodes", type=int, default=1, help="episodes per seed (default 1)")
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=parse_seeds("1000..1019"),
        help="world seeds, 'a..b' or 'a,b,c' (default 1000..1019: never used in training)",
    )
    parser.add_argument("--ticks", type=int, default=200, help="ticks per episode (default 200)")
    parser.add_argument("--model", type=Path, default=None, help="policy file for ppo (default: the shipped one)")
    parser.add_argument("--csv", type=Path, default=None, help="write per-episode rows as CSV here")
    parser.add_argument("--json", type=Path, default=None, help="write summary and rows as JSON here")
    parser.add_argument(
        "--card",
        type=Path,
        default=None,
        help="also store the summary under 'evaluation' in this policy card (JSON), e.g. the shipped one",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.evaluation import evaluate, format_table, summarise, to_csv, to_json
    from scythe_desktop.engine.scenario import ScenarioError, load_scenario

    if args.episodes < 1 or args.ticks < 1:
        print(
            f"scythe evaluate: --episodes and --ticks must be >= 1, got {args.episodes} and {args.ticks}",
            file=sys.stderr,
        )
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"scythe evaluate: {exc}", file=sys.stderr)
        return 2
    results = []
    total = len(args.policy) * len(args.seeds) * args.episodes
    with tqdm(total=total, unit="episode", disable=args.no_progress, file=sys.stderr) as bar:
        for name in args.policy:
            kwargs = {"path": args.model} if name == "ppo" and args.model is not None else {}
            try:
                make_policy(name, **kwargs)  # fail before the first episode (e.g. a missing model file)
            except (FileNotFoundError, ValueError) as exc:
                print(f"scythe evaluate: {name}: {exc}", file=sys.stderr)
                return 2
            bar.set_description(name)
            results += evaluate(
                functools.partial(make_policy, name, **kwargs),
                scenario,
                args.seeds,
                args.episodes,
                args.ticks,
                on_episode=lambda _r: bar.update(),
            )
    print(
        f"scenario {scenario.name}, {len(args.seeds)} seeds x {args.episodes} episodes x {args.ticks} ticks, "
        "mean ± 95% CI"
    )
    print(format_table(summarise(results)))
    if args.csv is not None:
        args.csv.write_text(to_csv(results))
    if args.json is not None:
        args.json.write_text(to_json(results) + "\n")
    if args.card is not None:
        card = json.loads(args.card.read_text()) if args.card.exists() else {}
        card["evaluation"] = {
            "scenario": scenario.name,
            "seeds": f"{args.seeds[0]}..{args.seeds[-1]}" if len(args.seeds) > 1 else str(args.seeds[0]),
            "episodes_per_seed": args.episodes,
            "ticks": args.ticks,
            "summary": json.loads(to_json(results))["summary"],
        }
        args.card.write_text(json.dumps(card, indent=2) + "\n")
    violations = sum(r.violations for r in results)
    if violations:
        print(f"scythe evaluate: {violations} constraint violations (expected 0)", file=sys.stderr)
        return 1
    return 0
