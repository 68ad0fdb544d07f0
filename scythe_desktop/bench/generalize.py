"""``scythe bench generalize``: the shipped brain on worlds it was never trained on.

Twenty scenarios drawn by the generator (:mod:`scythe_desktop.engine.scenario_generator`, family ``mixed``,
generator seeds 900000..900019 — training draws only seeds below 100000), each on held-out world seeds
1000..1001 for 200 ticks, plus the shipped ``global`` (never trained on), all scored with the seed reward
under the default weights. The brain is whatever ``--policy auto`` ships. Against each world the best
baseline is the best of greedy, greedy-reward, static-grid, gradient-drift and optimal, as they choose to
spend and held to the brain's spend rate (``greedy@brain`` …), as in ``scythe bench rl``:

* ``zero_shot_reward_vs_best_baseline``: mean over the generated scenarios of brain ÷ best baseline;
* ``zero_shot_worst_scenario_vs_best_baseline``: the worst of them;
* ``zero_shot_info_vs_static_grid``: mean of brain information ÷ static-grid's, over the scenarios where
  static-grid learned at least :data:`MIN_GRID_BITS` (a grid that places nothing on a world learns ~1e-12 bits, and
  one such quotient of 1e14 is not a mean of anything; those scenarios are counted in ``zero_shot_info_undefined``);
* ``global_reward_vs_best_baseline``;
* ``regional_reward_vs_mlp``: the graph policy ÷ the fixed-slot network on ``regional`` (null while no graph
  policy ships);
* ``decide_ms_global``: the brain's median decision time on ``global`` with observers deployed.

A ratio is only defined where the best baseline's reward is positive; scenarios where it is not are counted
(``zero_shot_nonpositive_best``) and left out of the means, never folded in. A mean of ratios is pulled up by a
few worlds where every baseline does badly, so the medians are printed beside the means
(``zero_shot_reward_median_vs_best_baseline``, ``zero_shot_info_median_vs_static_grid``). The per-scenario table goes to
stderr; stdout is one JSON object.
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

TARGETS = {
    "zero_shot_reward_vs_best_baseline": 1.0,
    "zero_shot_info_vs_static_grid": 1.2,
    "zero_shot_worst_scenario_vs_best_baseline": 0.8,
    "global_reward_vs_best_baseline": 1.0,
    "regional_reward_vs_mlp": 1.0,
    "decide_ms_global": 20.0,
}
#: Generator seeds of the held-out scenarios (training uses generator seeds below 100000).
HELD_OUT_SCENARIOS = tuple(range(900_000, 900_020))
WORLD_SEEDS = (1000, 1001)
FAMILY = "mixed"
EQUAL_SPEND = ("greedy", "greedy-reward", "static-grid")
#: Below this much information, static-grid learned nothing and the information ratio is undefined.
MIN_GRID_BITS = 1.0


@dataclass(frozen=True)
class WorldScore:
    """One scenario's comparison: the brain against its best baseline, means over the world seeds."""

    scenario: str
    clusters: int
    observer_types: int
    budget_per_hour: float
    brain_reward: float
    best_baseline: str
    best_baseline_reward: float
    brain_information: float
    static_grid_information: float

    @property
    def ratio(self) -> float:
        return self.brain_reward / self.best_baseline_reward if self.best_baseline_reward > 0 else math.nan


def score(source: str | int, seeds: tuple[int, ...], ticks: int) -> WorldScore:
    """The brain and every baseline on one world: a shipped scenario's name, or a generator seed."""
    import functools

    from scythe_desktop.bench.brain import shipped_brain
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.comparison import SPENDING_BASELINES, best_baseline, equal_spend, mean_of
    from scythe_desktop.engine.rl.evaluation import evaluate
    from scythe_desktop.engine.scenario import load_scenario
    from scythe_desktop.engine.scenario_generator import generate_scenario

    scenario = load_scenario(source) if isinstance(source, str) else generate_scenario(source, FAMILY)
    brain, _ = shipped_brain()
    rows = []
    for name in (brain, *SPENDING_BASELINES):
        rows += evaluate(functools.partial(make_policy, name), scenario, seeds, 1, ticks)
    rows += equal_spend(rows, scenario, seeds, ticks, EQUAL_SPEND, [brain])
    best, best_reward = best_baseline(rows, brain)
    return WorldScore(
        scenario=scenario.name,
        clusters=scenario.clusters.count,
        observer_types=len(scenario.observer_types),
        budget_per_hour=scenario.constraints.budget_per_hour,
        brain_reward=mean_of(rows, brain, "seed_reward"),
        best_baseline=best,
        best_baseline_reward=best_reward,
        brain_information=mean_of(rows, brain, "information_gain"),
        static_grid_information=mean_of(rows, "static-grid", "information_gain"),
    )


def _one_thread() -> None:
    from scythe_desktop.engine.rl.evaluation import _one_thread as limit

    limit()


def scores(sources: list[str | int], seeds: tuple[int, ...], ticks: int, jobs: int) -> list[WorldScore]:
    """:func:`score` of every world, one world per task over ``jobs`` processes, in order."""
    context = multiprocessing.get_context("forkserver")
    n = len(sources)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_one_thread) as pool:
        return list(pool.map(score, sources, [seeds] * n, [ticks] * n))


def table(rows: list[WorldScore]) -> str:
    head = f"{'scenario':<24} {'K':>4} {'T':>2} {'$/h':>6} {'brain':>8} {'best baseline':>26} {'ratio':>6} " \
           f"{'bits':>6} {'grid bits':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.scenario:<24} {r.clusters:>4} {r.observer_types:>2} {r.budget_per_hour:>6.1f} {r.brain_reward:>8.1f} "
            f"{r.best_baseline + f' {r.best_baseline_reward:.1f}':>26} {r.ratio:>6.2f} {r.brain_information:>6.0f} "
            f"{r.static_grid_information:>9.0f}"
        )
    return "\n".join(lines)


def summary(zero_shot: list[WorldScore]) -> dict[str, Any]:
    """The zero-shot figures over the generated worlds (see the module docstring for what is left out)."""
    ratios = [r.ratio for r in zero_shot if math.isfinite(r.ratio)]
    info = [r.brain_information / r.static_grid_information for r in zero_shot
            if r.static_grid_information >= MIN_GRID_BITS]
    return {
        "zero_shot_reward_vs_best_baseline": statistics.fmean(ratios) if ratios else math.nan,
        "zero_shot_reward_median_vs_best_baseline": statistics.median(ratios) if ratios else math.nan,
        "zero_shot_info_vs_static_grid": statistics.fmean(info) if info else math.nan,
        "zero_shot_info_median_vs_static_grid": statistics.median(info) if info else math.nan,
        "zero_shot_info_undefined": len(zero_shot) - len(info),
        "zero_shot_worst_scenario_vs_best_baseline": min(ratios) if ratios else math.nan,
        "zero_shot_scenarios": len(zero_shot),
        "zero_shot_nonpositive_best": len(zero_shot) - len(ratios),
        "zero_shot_brain_wins": sum(r > 1.0 for r in ratios),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from scythe_desktop.bench import with_targets
    from scythe_desktop.bench.brain import decide_ms

    generated: list[str | int] = list(HELD_OUT_SCENARIOS[:2] if quick else HELD_OUT_SCENARIOS)
    seeds, ticks = (WORLD_SEEDS[:1], 15) if quick else (WORLD_SEEDS, 200)
    *zero_shot, on_global = scores([*generated, "global"], seeds, ticks, jobs=2)
    print(f"held-out worlds, seeds {seeds}, {ticks} ticks, seed reward (default weights)", file=sys.stderr)
    print(table([*zero_shot, on_global]), file=sys.stderr)
    out: dict[str, Any] = {
        **summary(zero_shot),
        "global_reward_vs_best_baseline": on_global.ratio,
        "global_best_baseline": on_global.best_baseline,
        # No graph policy ships yet: the figure is not there to report.
        "regional_reward_vs_mlp": None,
        "graph_policy": None,
        "decide_ms_global": decide_ms(3 if quick else 20, scenarios=("global",))["brain_decide_ms_global"],
        "per_scenario": {r.scenario: [round(r.brain_reward, 1), r.best_baseline, round(r.best_baseline_reward, 1)]
                         for r in [*zero_shot, on_global]},
    }
    return with_targets(out, TARGETS)


__all__ = ["MIN_GRID_BITS", "TARGETS", "WorldScore", "run", "score", "summary"]
