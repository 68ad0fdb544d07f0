"""Comparisons that cannot flatter: baselines at equal spend, and greedy's information–cost frontier.

A policy that spends $8/h is not better "per dollar" than greedy at $55/h unless it also beats greedy *held
to $8/h*. :func:`equal_spend` re-runs each spending baseline with its budget capped at another policy's
mean spend rate (:func:`~scythe_desktop.engine.rl.evaluation.capped`), on the same seeds; its rows are named
``baseline@policy``. :func:`frontier` runs greedy at budget fractions 10 … 100 % of the scenario's budget:
the curve of the information an honest heuristic buys at each spend. A policy is *on or above* the frontier
when no frontier point has both more information and a lower cost (:func:`on_frontier`). Knows nothing of
the CLI or of plotting.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.rl.evaluation import EpisodeResult, capped, dominated, evaluate
from scythe_desktop.engine.scenario import Scenario

#: Budget fractions of the frontier (of the scenario's own budget per hour).
FRONTIER_FRACTIONS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 11))
#: Baselines whose spend a budget limits (random and the learned policies are not re-run).
SPENDING_BASELINES: tuple[str, ...] = ("greedy", "greedy-reward", "static-grid", "gradient-drift", "optimal")


@dataclass(frozen=True)
class FrontierPoint:
    """Greedy's mean over the seeds at one budget fraction."""

    fraction: float
    budget_per_hour: float
    information_gain: float
    cost: float
    seed_reward: float


def mean_spend(results: Sequence[EpisodeResult], policy: str) -> float:
    """Mean spend rate ($/h) of ``policy``'s episodes."""
    rates = [r.spend_per_hour for r in results if r.policy == policy]
    if not rates:
        raise ValueError(f"no episodes of policy {policy!r} to take a spend rate from")
    return sum(rates) / len(rates)


def mean_of(results: Sequence[EpisodeResult], policy: str, metric: str) -> float:
    values = [float(getattr(r, metric)) for r in results if r.policy == policy]
    values = [v for v in values if math.isfinite(v)]
    return sum(values) / len(values) if values else math.nan


def best_baseline(results: Sequence[EpisodeResult], policy: str) -> tuple[str, float]:
    """The baseline with the best mean seed reward, over every spending baseline as it chooses to spend and
    held to ``policy``'s spend rate (``baseline@policy`` rows), with that reward."""
    names = dict.fromkeys(r.policy for r in results)
    rewards = {n: mean_of(results, n, "seed_reward") for n in names
               if n in SPENDING_BASELINES or n.endswith(f"@{policy}")}
    if not rewards:
        raise ValueError(f"no baseline episodes to compare {policy!r} with")
    best = max(rewards, key=lambda n: rewards[n])
    return best, rewards[best]


def equal_spend(
    results: Sequence[EpisodeResult],
    scenario: Scenario,
    seeds: Sequence[int],
    ticks: int,
    baselines: Sequence[str],
    policies: Sequence[str],
    run: Callable[..., list[EpisodeResult]] = evaluate,
) -> list[EpisodeResult]:
    """Each of ``baselines`` re-run with its budget capped at each of ``policies``' mean spend rate in
    ``results`` (rows named ``baseline@policy``). A baseline is not capped at its own rate."""
    out: list[EpisodeResult] = []
    for policy in policies:
        rate = mean_spend(results, policy)
        for baseline in baselines:
            if baseline == policy:
                continue
            rows = run(functools.partial(make_policy, baseline), capped(scenario, rate), seeds, 1, ticks)
            out += [replace(r, policy=f"{baseline}@{policy}") for r in rows]
    return out


def frontier(
    scenario: Scenario,
    seeds: Sequence[int],
    ticks: int,
    fractions: Sequence[float] = FRONTIER_FRACTIONS,
    baseline: str = "greedy",
    run: Callable[..., list[EpisodeResult]] = evaluate,
) -> tuple[list[FrontierPoint], list[EpisodeResult]]:
    """``baseline`` at each budget fraction: the mean points and the raw episodes (rows ``greedy@30%``)."""
    points, rows = [], []
    for f in fractions:
        if not 0.0 < f <= 1.0:
            raise ValueError(f"frontier fractions must be in (0, 1], got {f!r}")
        budget = f * scenario.constraints.budget_per_hour
        name = f"{baseline}@{round(100 * f)}%"
        episodes = [
            replace(r, policy=name)
            for r in run(functools.partial(make_policy, baseline), capped(scenario, budget), seeds, 1, ticks)
        ]
        rows += episodes
        points.append(
            FrontierPoint(
                f,
                budget,
                mean_of(episodes, name, "information_gain"),
                mean_of(episodes, name, "cost"),
                mean_of(episodes, name, "seed_reward"),
            )
        )
    return points, rows


def info_at_cost(points: Sequence[FrontierPoint], cost: float) -> float:
    """Greedy's information at an actual mean spend of ``cost``: linear interpolation along the frontier's
    upper envelope (points sorted by cost, each kept only if it buys more than every cheaper one). NaN below
    the cheapest point (greedy never spent that little); the envelope's best beyond the dearest.

    A cap on greedy's budget rate does not hold its spend to that rate — it keeps paying set-up fees — so
    this, not ``greedy@policy``, is greedy's information at the policy's *actual* spend."""
    envelope: list[tuple[float, float]] = []
    for p in sorted(points, key=lambda q: q.cost):
        if math.isfinite(p.cost) and math.isfinite(p.information_gain) and (
                not envelope or p.information_gain > envelope[-1][1]):
            envelope.append((p.cost, p.information_gain))
    if not envelope or cost < envelope[0][0]:
        return math.nan
    for (c0, i0), (c1, i1) in itertools.pairwise(envelope):
        if cost <= c1:
            return i0 + (i1 - i0) * (cost - c0) / (c1 - c0) if c1 > c0 else i1
    return envelope[-1][1]


def on_frontier(results: Sequence[EpisodeResult], policy: str, points: Sequence[FrontierPoint]) -> bool:
    """Whether ``policy``'s mean (information, cost) is on or above the frontier."""
    point = (mean_of(results, policy, "information_gain"), mean_of(results, policy, "cost"))
    return not dominated(point, [(p.information_gain, p.cost) for p in points])


__all__ = [
    "FRONTIER_FRACTIONS",
    "SPENDING_BASELINES",
    "FrontierPoint",
    "best_baseline",
    "equal_spend",
    "frontier",
    "info_at_cost",
    "mean_of",
    "mean_spend",
    "on_frontier",
]
