"""The evaluation judges every policy on the seed reward exactly as the env computes it, can cap a baseline's
budget for comparisons at equal spend, and tells a dominated (information, cost) point from a frontier."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from scythe_desktop.engine.env import ObserverEnv
from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.rl.episode import EpisodeMeter
from scythe_desktop.engine.rl.evaluation import capped, dominated, initial_spend, run_episode
from scythe_desktop.engine.scenario import ScenarioError, load_scenario
from scythe_desktop.engine.world import World


def test_the_evaluation_reward_equals_the_env_components_summed() -> None:
    env = ObserverEnv("tutorial", episode_ticks=40)
    _, info = env.reset(seed=5)
    world = World(env.scenario, info["world_seed"], emit_nodes=False)
    meter = EpisodeMeter(world)
    rng = np.random.default_rng(0)
    env_total = 0.0
    for _ in range(40):
        index = int(rng.choice(np.flatnonzero(env.action_masks())))
        _, reward, _, _, step_info = env.step(index)
        env_total += reward
        action = step_info["action"]
        meter.step(world, [action] if action is not None else [])
    summary = meter.summary(world)
    assert summary.seed_reward == pytest.approx(env_total, rel=1e-9, abs=1e-9)
    assert math.fsum(summary.reward_components.values()) == pytest.approx(summary.seed_reward)


def test_a_capped_baseline_never_runs_above_its_cap_and_the_cap_never_raises_the_budget() -> None:
    scenario = load_scenario("regional")
    assert capped(scenario, 1e9).constraints.budget_per_hour == scenario.constraints.budget_per_hour
    small = capped(scenario, 8.0)
    world = World(small, 3, emit_nodes=False)
    policy = make_policy("greedy")
    policy.reset(world, 3)
    for _ in range(40):
        world.step(tuple(policy.decide(world)))
        assert world.budget_used_per_hour <= 8.0 + 1e-9
    with pytest.raises(ValueError, match="budget cap"):
        capped(scenario, float("nan"))


def test_a_cap_below_the_initial_observers_keeps_the_world_buildable() -> None:
    from scythe_desktop.engine.scenario_generator import generate_scenario

    scenario = generate_scenario(900003, "mixed")  # three initial observers needing $58.5/h of $83.4/h
    floor = initial_spend(scenario)
    assert 0.0 < floor < scenario.constraints.budget_per_hour
    low = capped(scenario, 1.0)
    assert low.constraints.budget_per_hour == pytest.approx(floor)
    world = World(low, 1, emit_nodes=False)  # a cap at the floor still places every initial observer
    assert len(world.observers) == len(scenario.initial_observers)
    with pytest.raises(ScenarioError, match="initial_observers"):
        World(replace(low, constraints=replace(low.constraints, budget_per_hour=floor - 0.5)), 1, emit_nodes=False)


def test_dominance_against_a_frontier_of_hand_made_points() -> None:
    frontier = [(10.0, 5.0), (20.0, 12.0), (30.0, 30.0)]
    assert dominated((9.0, 6.0), frontier)  # (10, 5) has more information for less money
    assert not dominated((25.0, 12.0), frontier)  # above the frontier
    assert not dominated((10.0, 5.0), frontier)  # on it
    assert not dominated((5.0, 1.0), frontier)  # cheaper than every point


def test_episode_results_carry_the_seed_reward_and_its_components() -> None:
    result = run_episode(make_policy("static-grid"), load_scenario("tutorial"), seed=2, ticks=20)
    assert set(result.reward_components) >= {"entropy", "compute_cost", "redundancy", "invalid_action"}
    assert result.seed_reward == pytest.approx(math.fsum(result.reward_components.values()))
    assert result.spend_per_hour > 0


def test_on_frontier_compares_a_policy_mean_with_the_frontier_points() -> None:
    from scythe_desktop.engine.rl.comparison import FrontierPoint, on_frontier
    from scythe_desktop.engine.rl.evaluation import EpisodeResult

    def row(info: float, cost: float) -> EpisodeResult:
        return EpisodeResult("p", 0, 10, 0.0, info, 0, cost, info / cost, 0, 0, 0.0)

    points = [FrontierPoint(0.5, 30.0, 100.0, 50.0, 0.0), FrontierPoint(1.0, 60.0, 200.0, 120.0, 0.0)]
    assert on_frontier([row(110.0, 60.0), row(90.0, 60.0)], "p", points)  # mean (100, 60): not beaten
    assert not on_frontier([row(90.0, 60.0)], "p", points)  # the 50 % point has more bits for less
    assert on_frontier([row(250.0, 130.0)], "p", points)


def test_greedys_information_at_an_actual_spend_follows_the_frontiers_upper_envelope() -> None:
    from scythe_desktop.engine.rl.comparison import FrontierPoint, info_at_cost

    points = [FrontierPoint(0.1, 6.0, 100.0, 50.0, 0.0), FrontierPoint(0.3, 18.0, 80.0, 120.0, 0.0),
              FrontierPoint(0.2, 12.0, 300.0, 150.0, 0.0), FrontierPoint(1.0, 60.0, 400.0, 250.0, 0.0)]
    assert info_at_cost(points, 100.0) == pytest.approx(200.0)  # halfway from (50, 100) to (150, 300)
    assert info_at_cost(points, 120.0) == pytest.approx(240.0)  # (120, 80) is below the envelope: skipped
    assert info_at_cost(points, 200.0) == pytest.approx(350.0)
    assert info_at_cost(points, 999.0) == 400.0  # more money than greedy ever spent
    assert math.isnan(info_at_cost(points, 10.0))  # less than greedy ever spent
