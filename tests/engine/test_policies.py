"""Baselines behind the Policy interface: valid proposals, zero violations, and the MILP bounds them all."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.engine.actions import Deploy, Focus
from scythe_desktop.engine.policies import POLICIES, make_policy
from scythe_desktop.engine.policies.celf import celf_coverage
from scythe_desktop.engine.policies.optimal import placement_value, solve_max_coverage, world_instance
from scythe_desktop.engine.proposals import action_kind
from scythe_desktop.engine.rl.evaluation import run_episode
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World

BASELINES = ["random", "static-grid", "greedy", "greedy-reward", "gradient-drift", "optimal", "rollout"]


@pytest.fixture(scope="module")
def tutorial():
    return load_scenario("tutorial")


@pytest.fixture(scope="module")
def regional():
    return load_scenario("regional")


@pytest.mark.parametrize("name", BASELINES)
def test_every_baseline_runs_an_episode_without_violations(name: str, tutorial) -> None:
    result = run_episode(make_policy(name), tutorial, seed=4, ticks=40)
    assert result.violations == 0
    assert result.cost > 0  # every baseline deploys something on the tutorial map
    assert result.policy == name


@pytest.mark.parametrize("name", BASELINES)
def test_proposals_are_valid_ranked_and_explained(name: str, regional) -> None:
    world = World(regional, 3, emit_nodes=False)
    policy = make_policy(name)
    policy.reset(world, 3)
    for _ in range(3):
        proposals = policy.propose(world, limit=4)
        assert len(proposals) <= 4
        for p in proposals:
            assert world.validate(p.action) is None, p
            assert 0.0 <= p.confidence <= 1.0
            assert p.explanation and p.target and p.policy == name
            assert p.kind == action_kind(p.action)
            assert np.isfinite(p.predicted_information_gain) and np.isfinite(p.cost_per_hour)
            if isinstance(p.action, Deploy):
                assert p.cost_per_hour > 0
        world.step(tuple(policy.decide(world)))


def test_greedy_proposes_the_highest_gain_per_cost_first_on_an_empty_map(regional) -> None:
    world = World(regional, 8, emit_nodes=False)
    policy = make_policy("greedy")
    policy.reset(world, 8)
    top = policy.propose(world, limit=1)[0]
    assert isinstance(top.action, Deploy)
    # No single deploy of the same type is predicted to gain more per dollar than the chosen one.
    kind = top.action.observer_type
    spare = [
        world.expected_information_gain(Deploy(lon, lat, kind))
        for lon, lat in np.random.default_rng(0).uniform([-10, 36], [40, 60], size=(30, 2))
    ]
    assert top.predicted_information_gain >= max(spare) * 0.8


def test_milp_optimum_bounds_every_baseline_placement(regional, tutorial) -> None:
    """The optimum of the frozen world is an upper bound on any on-grid placement's covered weight."""
    for scenario, seed in ((tutorial, 1), (regional, 2)):
        world0 = World(scenario, seed, emit_nodes=False)
        instance, _ = world_instance(world0)
        opt = solve_max_coverage(instance, time_limit_s=60).value
        assert celf_coverage(instance)[1] <= opt + 1e-9
        for name in ("random", "static-grid", "greedy", "optimal"):
            world = World(scenario, seed, emit_nodes=False)
            policy = make_policy(name)
            policy.reset(world, seed)
            for _ in range(30):
                world.step(tuple(policy.decide(world)))
            value = placement_value(instance, world.observers)
            assert value <= opt + 1e-9, (name, value, opt)
            if name == "optimal":
                assert value == pytest.approx(opt, rel=1e-9)  # it places exactly the optimum


def test_focus_proposals_name_their_cluster(regional) -> None:
    world = World(regional, 5, emit_nodes=False)
    policy = make_policy("greedy")
    policy.reset(world, 5)
    for _ in range(40):
        world.step(tuple(policy.decide(world)))
    focus = [p for p in policy.propose(world, limit=20) if isinstance(p.action, Focus)]
    for p in focus:
        assert f"cluster {p.action.cluster_id}" in p.explanation


def test_unknown_policy_names_the_choices() -> None:
    with pytest.raises(ValueError, match="greedy"):
        make_policy("smartest")
    assert set(BASELINES) | {"ppo", "brain", "graph"} == set(POLICIES)
