"""``scythe evaluate``: run policies over the same seeded episodes and print mean ± 95% CI per metric.

Every policy sees the same worlds (scenario, seeds, episode length, one action per tick). The table goes to
stdout, then the comparisons at equal spend (``--equal-spend``: each named baseline re-run with its budget
capped at every other policy's mean spend rate, rows ``baseline@policy``) and, with ``--frontier`` or
``--plot``, greedy's information–cost frontier and which policies are on or above it. ``--csv`` writes the
raw per-episode rows and ``--json`` the summaries plus raw rows.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from scythe_desktop.engine.adversary_spec import EVADER_NAMES
from scythe_desktop.engine.policies import POLICIES
from scythe_desktop.engine.rl.comparison import SPENDING_BASELINES

if TYPE_CHECKING:
    from scythe_desktop.engine.scenario import Scenario


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


def parse_baselines(text: str) -> list[str]:
    if text.strip() == "none":
        return []
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in SPENDING_BASELINES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"--equal-spend: unknown {unknown or text!r}; expected 'none' or some of {list(SPENDING_BASELINES)}"
        )
    return names


def scenario_or_none(name: str, command: str, evader: str | None = None) -> Scenario | None:
    """The scenario ``name`` (with ``evader`` playing its evader), or None after one line on stderr saying
    what is wrong with it."""
    from scythe_desktop.engine.evaders import with_evader
    from scythe_desktop.engine.scenario import ScenarioError, load_scenario

    try:
        return with_evader(load_scenario(name), evader)
    except (ScenarioError, ValueError) as exc:
        print(f"scythe {command}: {exc}", file=sys.stderr)
        return None


def add_world_arguments(parser: argparse.ArgumentParser, seeds: str, why: str, ticks: int) -> None:
    """``--scenario``, ``--seeds`` and ``--ticks``: which worlds a command plays, and for how long."""
    parser.add_argument("--scenario", default="regional", help="scenario name or TOML path (default: regional)")
    parser.add_argument(
        "--seeds", type=parse_seeds, default=parse_seeds(seeds),
        help=f"world seeds, 'a..b' or 'a,b,c' (default {seeds}: {why})",
    )  # fmt: skip
    parser.add_argument("--ticks", type=int, default=ticks, help=f"ticks per episode (default {ticks})")
    parser.add_argument(
        "--evader", choices=(*EVADER_NAMES, "trained"), default=None,
        help="who plays the clusters' side of an adversarial scenario (default: the scenario's own evader); "
        "trained: the network of --evader-model",
    )  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        type=parse_policies,
        default=["ppo", "greedy", "random"],
        help=f"comma-separated policies among {', '.join(POLICIES)} (default: ppo,greedy,random)",
    )
    add_world_arguments(parser, "1000..1019", "never used in training", 200)
    parser.add_argument("--episodes", type=int, default=1, help="episodes per seed (default 1)")
    parser.add_argument(
        "--model", type=Path, default=None, help="network file of ppo and of brain's prior (default: the shipped one)"
    )
    parser.add_argument("--csv", type=Path, default=None, help="write per-episode rows as CSV here")
    parser.add_argument("--json", type=Path, default=None, help="write summary and rows as JSON here")
    parser.add_argument(
        "--card",
        type=Path,
        default=None,
        help="also store the summary under 'evaluation' in this policy card (JSON), e.g. the shipped one",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--equal-spend",
        type=parse_baselines,
        default=["greedy"],
        help="baselines re-run with the budget capped at each other policy's mean spend rate, comma-separated "
        f"among {', '.join(SPENDING_BASELINES)}, or 'none' (default: greedy)",
    )
    parser.add_argument("--frontier", action="store_true", help="also run greedy at 10 … 100%% of the budget")
    parser.add_argument("--plot", type=Path, default=None, help="draw the frontier and every policy here (PNG)")
    parser.add_argument("--jobs", type=int, default=1, help="episodes run in this many processes (default 1)")
    parser.add_argument(
        "--ray", metavar="ADDRESS", default=None,
        help="run the episodes as tasks on a Ray cluster: HOST:PORT of its head node, 'auto' inside one, or "
        "'local' (needs the cluster extra); the rows are the local ones, in the same order",
    )  # fmt: skip
    parser.add_argument("--evader-model", type=Path, default=None,
                        help="with --evader trained: the evader network (evader.pt of scythe train --adversarial)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.comparison import FrontierPoint, equal_spend, frontier, mean_of, on_frontier
    from scythe_desktop.engine.rl.evaluation import EpisodeResult, evaluate, format_table, summarise, to_csv, to_json
    from scythe_desktop.engine.rl.plot import INSTALL_HINT, plot_frontier
    if args.episodes < 1 or args.ticks < 1 or args.jobs < 1:
        print(
            f"scythe evaluate: --episodes, --ticks and --jobs must be >= 1, got {args.episodes}, {args.ticks} "
            f"and {args.jobs}",
            file=sys.stderr,
        )
        return 2
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        print(f"scythe evaluate: {INSTALL_HINT}", file=sys.stderr)
        return 2
    trained = args.evader == "trained"
    if trained != (args.evader_model is not None):
        print("scythe evaluate: --evader trained and --evader-model PATH go together", file=sys.stderr)
        return 2
    if trained and not args.evader_model.is_file():
        print(f"scythe evaluate: --evader-model {args.evader_model}: no such file", file=sys.stderr)
        return 2
    scenario = scenario_or_none(args.scenario, "evaluate", "random" if trained else args.evader)
    if scenario is None:
        return 2
    mapper = None
    if args.ray is not None:
        from scythe_desktop.cluster import ClusterError
        from scythe_desktop.cluster.connect import connect
        from scythe_desktop.cluster.episodes import RayEpisodes

        try:
            connect(args.ray)
        except ClusterError as exc:
            print(f"scythe evaluate: {exc}", file=sys.stderr)
            return 2
        mapper = RayEpisodes()
    results = []
    total = len(args.policy) * len(args.seeds) * args.episodes
    with tqdm(total=total, unit="episode", disable=args.no_progress, file=sys.stderr) as bar:
        for name in args.policy:
            kwargs = {"path": args.model} if name in ("ppo", "brain") and args.model is not None else {}
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
                jobs=args.jobs,
                evader_model=args.evader_model,
                mapper=mapper,
            )
    run = functools.partial(evaluate, jobs=args.jobs, evader_model=args.evader_model, mapper=mapper)
    spenders = [p for p in args.policy if p != "random"]
    capped_rows = equal_spend(results, scenario, args.seeds, args.ticks, args.equal_spend, spenders, run=run)
    points: list[FrontierPoint] = []
    frontier_rows: list[EpisodeResult] = []
    if args.frontier or args.plot is not None:
        points, frontier_rows = frontier(scenario, args.seeds, args.ticks, run=run)
    against = "" if scenario.adversary is None else f", evader {args.evader_model or scenario.adversary.evader}"
    print(
        f"scenario {scenario.name}{against}, {len(args.seeds)} seeds x {args.episodes} episodes x {args.ticks} "
        "ticks, mean ± 95% CI"
    )
    print(format_table(summarise(results)))
    if capped_rows:
        print(
            "\nat equal spend (baseline@policy: the baseline with its budget capped at that policy's mean spend rate)"
        )
        print(format_table(summarise(capped_rows)))
    if points:
        print("\ngreedy's information-cost frontier")
        print(format_table(summarise(frontier_rows)))
        for name in args.policy:
            verdict = "on or above" if on_frontier(results, name, points) else "below"
            print(f"{name}: {verdict} the frontier")
    everything = results + capped_rows + frontier_rows
    if args.plot is not None:
        means = {n: (mean_of(results, n, "information_gain"), mean_of(results, n, "cost")) for n in args.policy}
        plot_frontier(args.plot, points, means, f"{scenario.name}: {len(args.seeds)} seeds x {args.ticks} ticks")
        print(f"plot: {args.plot}")
    if args.csv is not None:
        args.csv.write_text(to_csv(everything))
    if args.json is not None:
        doc = json.loads(to_json(everything))
        doc["frontier"] = [asdict(p) for p in points]
        doc["on_frontier"] = {n: on_frontier(results, n, points) for n in args.policy} if points else {}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
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
