"""Belief and information: entropy falls under coverage and rises without it; the closed-form expected
information gain equals brute-force enumeration; gains rank sites sensibly."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.engine.actions import Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.belief import BeliefModel, transition_matrix
from scythe_desktop.engine.world import World
from tests.engine.scripted import STILL, scripted


def _entropy_of(world: World, cid: int) -> float:
    table = world.clusters
    return float(table[table["id"] == cid]["entropy"][0])


def test_entropy_falls_while_covered_and_rises_when_coverage_is_withdrawn() -> None:
    # Slow dynamics so that only observation changes the picture, but a live chain so entropy regrows.
    scenario = scripted(**{**STILL, "p_quiet": 0.02, "p_activate": 0.02})
    world = World(scenario, seed=7)
    target = world.clusters[0]
    cid = int(target["id"])
    res = world.apply(Deploy(float(target["lon"]), float(target["lat"])))
    assert res.ok, res.reason
    start = _entropy_of(world, cid)
    for _ in range(40):
        world.step()
    covered = _entropy_of(world, cid)
    assert covered < start - 0.5
    assert world.clusters[world.clusters["id"] == cid]["coverage_deficit"][0] < 0.5

    assert world.apply(Decommission(res.observer_id)).ok
    for _ in range(80):
        world.step()
    assert _entropy_of(world, cid) > covered + 0.3


def test_belief_rows_are_distributions() -> None:
    world = World("tutorial", seed=2)
    world.apply(Deploy(-70.0, 40.0))
    for _ in range(50):
        world.step()
    belief = world.clusters["belief"]
    assert np.all(belief >= 0.0)
    assert np.allclose(belief.sum(axis=1), 1.0)
    assert np.all(world.clusters["entropy"] >= 0.0)


def _brute_force_gain(model: BeliefModel, b: np.ndarray, p: float) -> float:
    """I(S; Y) by enumerating the four outcomes (nothing, report 0..2) and four states."""
    v = model.visibility
    lik = np.zeros((4, 4))
    for s in range(4):
        lik[s, 0] = 1.0 - p * v[s]
        lik[s, 1:] = p * v[s] * model.confusion[s]
    joint = b[:, None] * lik
    py = joint.sum(axis=0)
    mi = 0.0
    for s in range(4):
        for y in range(4):
            if joint[s, y] > 0:
                mi += joint[s, y] * np.log2(joint[s, y] / (b[s] * py[y]))
    return mi


def test_closed_form_information_gain_equals_enumeration() -> None:
    scenario = scripted()
    model = BeliefModel(scenario)
    model.count_weight = 0.0  # compare the state part only
    rng = np.random.default_rng(0)
    b = rng.dirichlet(np.ones(4), 20)
    p = rng.random(20)
    got = model.information_gain(b, np.ones(20), p, 1.0)
    want = [_brute_force_gain(model, b[i], p[i]) for i in range(20)]
    assert np.allclose(got, want, atol=1e-10)


def test_transition_matrix_is_stochastic() -> None:
    t = transition_matrix(scripted())
    assert np.allclose(t.sum(axis=1), 1.0) and np.all(t >= 0)


def test_information_gain_ranks_a_site_on_a_cluster_above_an_empty_ocean() -> None:
    world = World(scripted(**STILL), seed=3)
    c = world.clusters[0]
    on_cluster = world.expected_information_gain(Deploy(float(c["lon"]), float(c["lat"])))
    mid_ocean = world.expected_information_gain(Deploy(-40.0, 30.0))
    assert on_cluster > 0.1 and on_cluster > 20 * mid_ocean >= 0.0


def test_batched_deploy_gains_match_single_evaluations() -> None:
    world = World("tutorial", seed=5)
    world.apply(Deploy(-70.0, 40.0))
    world.step()
    lon = np.array([-75.0, -60.0, 0.0, 10.0])
    lat = np.array([40.0, 45.0, 50.0, 45.0])
    batch = world.deploy_gains(lon, lat)
    single = [world.expected_information_gain(Deploy(float(a), float(b))) for a, b in zip(lon, lat, strict=True)]
    assert np.allclose(batch, single)


def test_gains_of_observer_actions_have_the_expected_signs() -> None:
    world = World(scripted(**STILL), seed=6)
    c = world.clusters[0]
    oid = world.apply(Deploy(float(c["lon"]), float(c["lat"]))).observer_id
    assert oid is not None
    world.step()
    assert world.expected_information_gain(Decommission(oid)) < 0.0
    assert world.expected_information_gain(IncreaseSampling(oid)) > 0.0
    assert world.expected_information_gain(Focus(oid, int(c["id"]))) > 0.0
    assert world.expected_information_gain(Relocate(oid, -40.0, 30.0)) < 0.0
    assert world.expected_information_gain(Decommission(9999)) == 0.0


def test_redundant_second_observer_gains_less_than_the_first() -> None:
    world = World(scripted(**STILL), seed=8)
    c = world.clusters[0]
    site = Deploy(float(c["lon"]), float(c["lat"]))
    first = world.expected_information_gain(site)
    world.apply(site)
    second = world.expected_information_gain(site)
    assert second < first
    assert second == pytest.approx(float(world.deploy_gains([site.lon], [site.lat])[0]))
