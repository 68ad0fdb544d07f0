"""The decision brain against the strongest baselines (keys of ``scythe bench rl``).

Held-out seeds 1000..1019 of ``regional``, 200 ticks, the seed reward with the default weights; the brain is
whatever ``--policy auto`` ships. One run, every figure against a baseline measured in the same run:

* ``brain_reward`` / ``best_baseline_reward`` (``best_baseline`` names it) over greedy, greedy-reward,
  static-grid, gradient-drift and optimal, and greedy, greedy-reward and static-grid at the brain's spend rate
  (``greedy@brain`` …);
* the tables behind them (every policy, the baselines at the brain's spend rate, the frontier) go to stderr;
* ``brain_info_vs_greedy_equal_spend``: the brain's information ÷ greedy's at the brain's spend rate;
* ``brain_on_frontier``: 1 when no point of greedy's frontier (10 … 100 % of the budget) has both more
  information and a lower cost;
* ``rollout_reward_vs_greedy_reward``: the rollout planner's seed reward ÷ greedy-reward's;
* ``confidence_ece`` over ``confidence_proposals`` of the brain's proposals (seeds 1000..1059), each judged on
  a fresh future;
* ``brain_decide_ms_regional`` / ``brain_decide_ms_global``: median decision time on a world with observers;
* ``shipped_train_env_steps``: from the shipped card.
"""

from __future__ import annotations

import functools
import json
import statistics
import sys
import time
from typing import Any

TARGETS = {
    "brain_reward_vs_best_baseline": 1.10,
    "brain_info_vs_greedy_equal_spend": 1.05,
    "brain_on_frontier": 1,
    "rollout_reward_vs_greedy_reward": 1.0,
    "confidence_ece": 0.05,
    "confidence_proposals": 2000,
    "brain_decide_ms_regional": 20.0,
    "brain_decide_ms_global": 100.0,
    "shipped_train_env_steps": 10_000_000,
}


def shipped_brain() -> tuple[str, Any]:
    from scythe_desktop.engine.policies import load_policy

    policy = load_policy("auto")
    assert policy is not None
    return policy.name, policy


def comparison(seeds: list[int], ticks: int, jobs: int, fractions: tuple[float, ...]) -> dict[str, Any]:
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.comparison import (
        SPENDING_BASELINES,
        best_baseline,
        equal_spend,
        frontier,
        info_at_cost,
        mean_of,
        on_frontier,
    )
    from scythe_desktop.engine.rl.evaluation import evaluate, format_table, summarise
    from scythe_desktop.engine.scenario import load_scenario

    scenario = load_scenario("regional")
    brain, _ = shipped_brain()
    run = functools.partial(evaluate, jobs=jobs)
    rows = []
    for name in (brain, *SPENDING_BASELINES, "rollout"):
        rows += run(functools.partial(make_policy, name), scenario, seeds, 1, ticks)
    rows += equal_spend(rows, scenario, seeds, ticks, ["greedy", "greedy-reward", "static-grid"], [brain], run=run)
    points, frontier_rows = frontier(scenario, seeds, ticks, fractions, run=run)
    # The tables a reader wants beside the keys (stdout stays one JSON object).
    print(f"regional, seeds {seeds[0]}..{seeds[-1]}, {ticks} ticks, mean ± 95% CI", file=sys.stderr)
    print(format_table(summarise(rows)), file=sys.stderr)
    print(format_table(summarise(frontier_rows)), file=sys.stderr)
    reward = {name: mean_of(rows, name, "seed_reward") for name in dict.fromkeys(r.policy for r in rows)}
    best, best_reward = best_baseline(rows, brain)
    out: dict[str, Any] = {
        "brain": brain,
        "brain_reward": reward[brain],
        "best_baseline_reward": best_reward,
        "best_baseline": best,
        "brain_reward_vs_best_baseline": reward[brain] / best_reward if best_reward > 0 else float("nan"),
        "brain_info_vs_greedy_equal_spend": mean_of(rows, brain, "information_gain")
        / mean_of(rows, f"greedy@{brain}", "information_gain"),
        # Not a target key: greedy capped at the brain's rate still spends more (set-up fees), so this reads
        # greedy's information at the brain's actual mean spend off greedy's frontier.
        "brain_info_vs_greedy_frontier_at_brain_cost": mean_of(rows, brain, "information_gain")
        / info_at_cost(points, mean_of(rows, brain, "cost")),
        "brain_on_frontier": int(on_frontier(rows, brain, points)),
        "rollout_reward_vs_greedy_reward": reward["rollout"] / reward["greedy-reward"],
        "brain_cost": mean_of(rows, brain, "cost"),
        "brain_information_gain": mean_of(rows, brain, "information_gain"),
        "frontier": [[p.fraction, p.information_gain, p.cost, p.seed_reward] for p in points],
        "points": {n: [mean_of(rows, n, "information_gain"), mean_of(rows, n, "cost")] for n in reward},
    }
    out.update({f"reward_{n.replace('-', '_').replace('@', '_at_')}": v for n, v in reward.items()})
    return out


def _outcomes(name: str, seeds: list[int], ticks: int) -> Any:
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.calibration import outcomes
    from scythe_desktop.engine.scenario import load_scenario

    return outcomes(functools.partial(make_policy, name), load_scenario("regional"), seeds, ticks)


def confidence(seeds: list[int], ticks: int, minimum: int, jobs: int) -> dict[str, Any]:
    """Every proposal of the shipped brain over ``seeds`` judged on a fresh future (in ``jobs`` processes)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    from scythe_desktop.engine.rl.calibration import ece

    name, _ = shipped_brain()
    chunks = [seeds[i::jobs] for i in range(jobs) if seeds[i::jobs]]
    with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("forkserver")) as pool:
        parts = list(pool.map(_outcomes, [name] * len(chunks), chunks, [ticks] * len(chunks)))
    conf = np.concatenate([p.confidence for p in parts])
    beat = np.concatenate([p.beat_waiting for p in parts])
    n = int(conf.size)
    return {
        "confidence_ece": ece(conf, beat) if n else float("nan"),
        "confidence_proposals": n,
        "confidence_seeds": f"{seeds[0]}..{seeds[-1]}",
        "confidence_mean": float(conf.mean()) if n else float("nan"),
        "confidence_beat_waiting_rate": float(beat.mean()) if n else float("nan"),
        "confidence_enough_proposals": int(n >= minimum),
    }


def decide_ms(repeats: int, scenarios: tuple[str, ...] = ("regional", "global")) -> dict[str, float]:
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.episode import make_world
    from scythe_desktop.engine.scenario import load_scenario

    name, _ = shipped_brain()
    out = {}
    for scenario in scenarios:
        world = make_world(load_scenario(scenario), 5)
        warm = make_policy("greedy-reward")
        warm.reset(world, 5)
        for _ in range(20):  # a state with observers in it
            world.step(tuple(warm.decide(world)))
        policy = make_policy(name)
        policy.reset(world, 5)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            policy.decide(world)
            times.append(time.perf_counter() - t0)
        out[f"brain_decide_ms_{scenario}"] = statistics.median(times) * 1e3
    return out


def shipped_steps() -> int:
    from scythe_desktop.engine.policies.ppo import SHIPPED_POLICY, card_path

    card = json.loads(card_path(SHIPPED_POLICY).read_text())
    return int(card.get("timesteps", 0))


def run(quick: bool = False) -> dict[str, Any]:
    seeds, ticks = ([1000, 1001], 20) if quick else (list(range(1000, 1020)), 200)
    fractions = (0.2, 0.6, 1.0) if quick else tuple(round(0.1 * k, 1) for k in range(1, 11))
    out = comparison(seeds, ticks, jobs=2, fractions=fractions)
    # The brain waits on most ticks (it offers a move on about one tick in six on regional): 2,000 proposals
    # need 60 held-out seeds of 200 ticks (never used in training, selection or the calibration fit on 500..519).
    judged = ([1000, 1001], 5) if quick else (list(range(1000, 1060)), 200)
    out.update(confidence(*judged, minimum=int(TARGETS["confidence_proposals"]), jobs=2))
    out.update(decide_ms(3 if quick else 20))
    out["shipped_train_env_steps"] = shipped_steps()
    return out


__all__ = ["TARGETS", "run"]
