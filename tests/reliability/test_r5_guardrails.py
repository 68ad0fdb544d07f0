"""R5 (bounded): random and adversarial action streams from several clients never break the guardrails."""

from __future__ import annotations

from benchmarks.reliability.rel_guardrails import Live, run_guardrails, violations
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.scenario import load_scenario

SEED = 5505


def test_no_policy_takes_the_world_past_its_guardrails() -> None:
    r = run_guardrails(250, 8, SEED)
    assert r["violations"] == 0, r
    assert r["unexpected_refusals"] == 0, r
    assert r["actions_acted"] > 0 and r["actions_refused"] > 0, r


def test_the_independent_check_sees_each_kind_of_breach() -> None:
    scenario = load_scenario("tutorial")
    region = scenario.regions[0]
    lon, lat = (region.lon_min + region.lon_max) / 2, (region.lat_min + region.lat_max) / 2
    probe = Live(1, scenario.observer_types[0].name, lon, lat, 2.0)
    assert violations([probe], Guardrails(1, 10.0), scenario) == []
    assert violations([probe, probe], Guardrails(1, 10.0), scenario)  # instances
    assert violations([probe], Guardrails(1, 1.0), scenario)  # budget
    assert violations([probe], Guardrails(1, 10.0, forbidden_regions=(region.name,)), scenario)
    other = next(r.name for r in scenario.regions if r.name != region.name)
    assert violations([probe], Guardrails(1, 10.0, allowed_regions=(other,)), scenario)
