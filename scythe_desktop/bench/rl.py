"""``scythe bench rl``: the decision brain — env throughput, greedy and PPO against the exact optimum, PPO
against greedy on whole dynamic episodes, and decision speed.

Figures and their baselines come from one run on one machine:

* ``env_steps_per_s``: ObserverEnv steps (random masked actions, ``regional``) through the gymnasium API,
  one process; ``world_steps_per_s`` is the bare ``world.step`` replaying the same actions on the same world
  seeds (the ceiling the env cannot beat), measured right after.
* ``vec_env_steps_per_s``: two env processes (SubprocVecEnv), the training set-up.
* ``greedy_vs_optimal``: CELF covered weight ÷ MILP optimum, mean over seeded clustered-sphere instances
  (300 clusters, 120 sites, budget 12 — the field-notes shape); ``greedy_vs_optimal_min`` the worst.
* ``ppo_vs_optimal``: covered weight of the shipped policy's placement after ``placement_ticks`` ticks ÷ the
  MILP optimum of the same world frozen at tick 0 (``regional``); the adaptive greedy's ratio beside it.
* ``ppo_vs_greedy``: PPO information gain per dollar ÷ greedy's, over whole ``regional`` episodes on 20
  held-out seeds (1000..1019; training draws its world seeds from a seeded generator, not from this range).
* ``ppo_decide_vs_greedy_decide``: greedy's decision time ÷ PPO's on the ``global`` scenario (200 clusters).
* ``infer_ms``: one decision of the shipped policy (observation + mask + network), median.
* the decision brain against the strongest baselines, at equal spend and on greedy's frontier, its calibration
  and its decision time: see :mod:`scythe_desktop.bench.brain`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

TARGETS = {
    "env_steps_per_s": 2000.0,
    "greedy_vs_optimal": 0.95,
    "ppo_vs_optimal": 0.95,
    "ppo_vs_greedy": 1.0,
    "ppo_decide_vs_greedy_decide": 1.0,
    "infer_ms": 10.0,
}


def env_throughput(steps: int) -> dict[str, float]:
    """Env steps/s with random masked actions, and the bare world replaying the very same actions."""
    from scythe_desktop.engine.env import ObserverEnv
    from scythe_desktop.engine.rl.episode import make_world

    env = ObserverEnv("regional", episode_ticks=200)
    _, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    episodes: list[tuple[int, list[Any]]] = [(info["world_seed"], [])]
    t0 = time.perf_counter()
    for _ in range(steps):
        valid = np.flatnonzero(env.action_masks())
        _, _, _, truncated, info = env.step(int(valid[rng.integers(valid.size)]))
        episodes[-1][1].append(info["action"])
        if truncated:
            _, info = env.reset()
            episodes.append((info["world_seed"], []))
    env_rate = steps / (time.perf_counter() - t0)
    worlds = [(make_world(env.scenario, seed), actions) for seed, actions in episodes]
    t0 = time.perf_counter()
    for world, actions in worlds:
        for action in actions:
            world.step((action,) if action is not None else ())
    return {"env_steps_per_s": env_rate, "world_steps_per_s": steps / (time.perf_counter() - t0)}


def vec_throughput(steps: int) -> float:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from scythe_desktop.engine.env import ObserverEnv

    vec = make_vec_env(
        ObserverEnv,
        n_envs=2,
        seed=0,
        env_kwargs={"scenario": "regional"},
        vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": "forkserver"},
    )
    try:
        vec.reset()
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        for _ in range(steps // 2):
            masks = np.stack(vec.env_method("action_masks"))
            actions = [int(rng.choice(np.flatnonzero(m))) for m in masks]
            vec.step(np.array(actions))
        return (steps // 2) * 2 / (time.perf_counter() - t0)
    finally:
        vec.close()


def greedy_vs_optimal(n_instances: int, quick: bool) -> tuple[float, float]:
    from scythe_desktop.engine.policies.celf import celf_coverage
    from scythe_desktop.engine.policies.coverage import random_instance
    from scythe_desktop.engine.policies.optimal import solve_max_coverage

    n_clusters, n_sites, budget = (100, 40, 6.0) if quick else (300, 120, 12.0)
    ratios = []
    for seed in range(n_instances):
        inst = random_instance(seed, n_clusters=n_clusters, n_sites=n_sites, budget=budget)
        ratios.append(celf_coverage(inst)[1] / solve_max_coverage(inst).value)
    return float(np.mean(ratios)), float(np.min(ratios))


def placement_vs_optimal(make: Callable[[], Any], seeds: list[int], ticks: int) -> float:
    from scythe_desktop.engine.policies.optimal import placement_value, solve_max_coverage, world_instance
    from scythe_desktop.engine.rl.episode import make_world
    from scythe_desktop.engine.scenario import load_scenario

    scenario = load_scenario("regional")
    ratios = []
    for seed in seeds:
        world = make_world(scenario, seed)
        instance, _ = world_instance(world)
        opt = solve_max_coverage(instance).value
        policy = make()
        policy.reset(world, seed)
        for _ in range(ticks):
            world.step(tuple(policy.decide(world)))
        ratios.append(placement_value(instance, world.observers) / opt)
    return float(np.mean(ratios))


def ppo_vs_greedy(seeds: list[int], ticks: int) -> dict[str, float]:
    from scythe_desktop.engine.policies.greedy import GreedyPolicy
    from scythe_desktop.engine.policies.ppo import PPOPolicy
    from scythe_desktop.engine.rl.evaluation import evaluate
    from scythe_desktop.engine.scenario import load_scenario

    scenario = load_scenario("regional")
    ppo = evaluate(PPOPolicy, scenario, seeds, ticks=ticks)
    greedy = evaluate(GreedyPolicy, scenario, seeds, ticks=ticks)
    ppo_ig = statistics.fmean(r.information_gain_per_dollar for r in ppo)
    greedy_ig = statistics.fmean(r.information_gain_per_dollar for r in greedy)
    return {
        "ppo_vs_greedy": ppo_ig / greedy_ig,
        "ppo_information_gain_per_dollar": ppo_ig,
        "greedy_information_gain_per_dollar": greedy_ig,
        "ppo_information_gain": statistics.fmean(r.information_gain for r in ppo),
        "greedy_information_gain": statistics.fmean(r.information_gain for r in greedy),
        "ppo_cost": statistics.fmean(r.cost for r in ppo),
        "greedy_cost": statistics.fmean(r.cost for r in greedy),
        "ppo_vs_greedy_per_seed_wins": float(
            sum(p.information_gain_per_dollar > g.information_gain_per_dollar for p, g in zip(ppo, greedy, strict=True))
        ),
    }


def decide_times(repeats: int, warm_ticks: int) -> dict[str, float]:
    from scythe_desktop.engine.policies.greedy import GreedyPolicy
    from scythe_desktop.engine.policies.ppo import PPOPolicy
    from scythe_desktop.engine.rl.episode import make_world
    from scythe_desktop.engine.scenario import load_scenario

    world = make_world(load_scenario("global"), 5)
    greedy, ppo = GreedyPolicy(), PPOPolicy()
    greedy.reset(world, 5)
    ppo.reset(world, 5)
    for _ in range(warm_ticks):  # a state with observers in it
        world.step(tuple(greedy.decide(world)))

    greedy_ms, ppo_ms = _median_decide_ms(greedy, world, repeats), _median_decide_ms(ppo, world, repeats)
    regional = make_world(load_scenario("regional"), 5)
    ppo.reset(regional, 5)
    return {
        "ppo_decide_vs_greedy_decide": greedy_ms / ppo_ms,
        "greedy_decide_ms_global": greedy_ms,
        "ppo_decide_ms_global": ppo_ms,
        "infer_ms": _median_decide_ms(ppo, regional, repeats),
    }


def _median_decide_ms(policy: Any, world: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        policy.decide(world)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def run(quick: bool = False) -> dict[str, object]:
    import torch

    torch.set_num_threads(1)
    result: dict[str, Any] = {"quick": quick}
    result.update(env_throughput(300 if quick else 5000))
    result["vec_env_steps_per_s"] = vec_throughput(200 if quick else 4000)
    result["greedy_vs_optimal"], result["greedy_vs_optimal_min"] = greedy_vs_optimal(3 if quick else 20, quick)
    seeds, ticks = ([2000], 10) if quick else (list(range(2000, 2005)), 40)
    from scythe_desktop.engine.policies.greedy import GreedyPolicy
    from scythe_desktop.engine.policies.ppo import PPOPolicy

    result["ppo_vs_optimal"] = placement_vs_optimal(PPOPolicy, seeds, ticks)
    result["greedy_placement_vs_optimal"] = placement_vs_optimal(GreedyPolicy, seeds, ticks)
    result.update(ppo_vs_greedy([1000, 1001] if quick else list(range(1000, 1020)), 20 if quick else 200))
    result.update(decide_times(5 if quick else 50, 3 if quick else 30))
    from scythe_desktop.bench import brain, with_targets

    result.update(brain.run(quick))
    return with_targets(result, {**TARGETS, **brain.TARGETS})
