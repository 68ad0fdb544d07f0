"""Guardrails refuse what the scenario forbids, each with a reason that names the constraint."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scythe_desktop.engine.actions import Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.world import World
from tests.engine.scripted import STILL, scripted


@pytest.fixture
def world() -> World:
    # tutorial: probe 2.0/h, satellite 6.0/h, budget 10.0/h, max 4 instances.
    return World(scripted(**STILL), seed=0)


def test_deploy_outside_the_allowed_regions_is_refused(world: World) -> None:
    action = Deploy(100.0, 50.0)
    reason = world.validate(action)
    assert reason is not None and reason.startswith("region:")
    res = world.apply(action)
    assert not res.ok and res.reason == reason and res.observer_id is None
    assert world.observers.shape[0] == 0


def test_deploy_in_a_forbidden_region_is_refused(world: World) -> None:
    res = world.apply(Deploy(0.0, 70.0))
    assert not res.ok
    assert res.reason == "forbidden_region: (0.00, 70.00) is inside forbidden region 'arctic'"


def test_deploy_over_max_instances_is_refused(world: World) -> None:
    for i in range(4):
        assert world.apply(Deploy(-80.0 + i, 40.0)).ok
    res = world.apply(Deploy(-70.0, 40.0))
    assert not res.ok
    assert res.reason == "max_instances: 4 of 4 observers already deployed"


def test_deploy_over_budget_is_refused_with_the_amounts(world: World) -> None:
    assert world.apply(Deploy(-80.0, 40.0, "satellite")).ok  # 6.0/h
    assert world.apply(Deploy(-75.0, 40.0)).ok  # 8.0/h
    res = world.apply(Deploy(-70.0, 40.0, "satellite"))
    assert not res.ok
    assert res.reason == "budget: 17.0/h over 10.0/h (incl. a 3.0 set-up fee)"  # 14.0/h running + the fee
    assert res.cost_per_hour == pytest.approx(8.0) == world.budget_used_per_hour


def test_increase_sampling_is_budgeted_and_capped(world: World) -> None:
    oid = world.apply(Deploy(-80.0, 40.0)).observer_id
    assert oid is not None
    assert world.apply(IncreaseSampling(oid)).cost_per_hour == pytest.approx(4.0)
    assert world.apply(IncreaseSampling(oid)).cost_per_hour == pytest.approx(8.0)
    res = world.apply(IncreaseSampling(oid))
    assert not res.ok and res.reason.startswith("sampling: observer 0 already at max rate 4")
    assert world.observers["sampling_rate"][0] == 4.0
    world2 = World(scripted(**STILL), seed=0)
    world2.apply(Deploy(-80.0, 40.0, "satellite"))
    oid2 = world2.apply(Deploy(-70.0, 40.0)).observer_id
    world2.apply(IncreaseSampling(oid2))  # 6 + 4 = 10.0/h, exactly the budget
    assert world2.apply(IncreaseSampling(oid2)).reason == "budget: 14.0/h over 10.0/h"


def test_latency_zone_refuses_a_slow_observer_type() -> None:
    world = World(scripted(**STILL), seed=0)
    res = world.apply(Deploy(-30.0, 40.0, "satellite"))  # mid_atlantic: 'remote' zone, 80 ms limit
    assert not res.ok
    assert res.reason == "latency: type 'satellite' has 250 ms, over zone 'remote' limit 80 ms"
    assert world.apply(Deploy(-30.0, 40.0, "probe")).ok


def test_relocate_obeys_the_same_placement_rules(world: World) -> None:
    oid = world.apply(Deploy(-80.0, 40.0)).observer_id
    assert oid is not None
    assert world.apply(Relocate(oid, 0.0, 70.0)).reason.startswith("forbidden_region:")
    ok = world.apply(Relocate(oid, 5.0, 45.0))
    assert ok.ok and ok.observer_id == oid
    obs = world.observers[0]
    assert (obs["lon"], obs["lat"]) == (5.0, 45.0)
    assert world.scenario.regions[obs["region"]].name == "western_europe"


def test_unknown_ids_types_and_bad_coordinates_are_refused(world: World) -> None:
    assert world.apply(Decommission(42)).reason == "unknown_observer: no observer with id 42"
    assert world.apply(Deploy(-80.0, 40.0, "drone")).reason.startswith("observer_type: 'drone' is not one of")
    assert world.apply(Deploy(math.nan, 40.0)).reason.startswith("coordinates: lon")
    expected = "coordinates: lat must be a finite number in [-90, 90], got 123.0"
    assert world.apply(Deploy(-80.0, 123.0)).reason == expected
    oid = world.apply(Deploy(-80.0, 40.0)).observer_id
    assert world.apply(Focus(oid, 999)).reason == "unknown_cluster: no tracked cluster with id 999"


def test_validate_does_not_act_and_apply_does(world: World) -> None:
    assert world.validate(Deploy(-80.0, 40.0)) is None
    assert world.observers.shape[0] == 0
    res = world.apply(Deploy(-80.0, 40.0))
    assert res.ok and res.reason == "ok" and res.observer_id == 0 and res.cost_per_hour == 2.0
    cid = int(world.clusters["id"][0])
    assert world.apply(Focus(0, cid)).ok
    assert world.observers["focus_cluster"][0] == cid
    assert world.apply(Decommission(0)).ok
    assert world.observers.shape[0] == 0 and world.budget_used_per_hour == 0.0


def test_step_applies_actions_and_reports_each_result(world: World) -> None:
    res = world.step([Deploy(-80.0, 40.0), Deploy(100.0, 0.0), Deploy(-75.0, 41.0)])
    assert [r.ok for r in res.action_results] == [True, False, True]
    assert res.info["observers"] == 2.0
    assert np.array_equal(world.observers["id"], [0, 1])
