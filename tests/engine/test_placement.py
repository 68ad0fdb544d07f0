"""The one placement rule over overlapping regions: any forbidden region forbids, the strictest zone applies.

An independent statement of the rule (:mod:`benchmarks.reliability.placement_oracle`) is checked against the engine's
:func:`site_refusal`, the world's validation, the orchestrator's guardrails and the console's Automate filter,
on random overlapping boxes (some across the antimeridian) and random points.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.reliability import placement_oracle
from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, WorldRules
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.constraints import check_placement
from scythe_desktop.engine.placement import site_refusal, strictest_zones
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.rl.graph_sites import Placement
from scythe_desktop.engine.scenario import LatencyZone, Region, load_scenario
from scythe_desktop.orchestrator import guardrails

ZONES = {"core": 300.0, "edge": 120.0, "tight": 20.0}


def oracle(regions: list[Region], lon: float, lat: float, allowed: tuple[str, ...], forbidden: tuple[str, ...],
           zones: tuple[str, ...], latency: float) -> str | None:
    return placement_oracle.verdict(regions, lon, lat, allowed=allowed, forbidden=forbidden, zone_limits=ZONES,
                                    allowed_zones=zones, latency_ms=latency)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Region], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    n = draw(st.integers(1, 6))
    regions = []
    for i in range(n):
        lo = draw(st.floats(-180.0, 180.0))
        hi = draw(st.floats(-180.0, 180.0))  # hi < lo: the box crosses the antimeridian
        lat0 = draw(st.floats(-90.0, 89.0))
        lat1 = draw(st.floats(lat0 + 0.5, 90.0)) if lat0 + 0.5 <= 90.0 else 90.0
        regions.append(Region(f"r{i}", lo, hi, lat0, lat1, draw(st.sampled_from(sorted(ZONES))), 0.0, 1.0))
    names = [r.name for r in regions]
    subset = st.lists(st.sampled_from(names), unique=True, max_size=n).map(tuple)
    zones = st.lists(st.sampled_from(sorted(ZONES)), unique=True, max_size=3).map(tuple)
    return regions, draw(subset), draw(subset), draw(zones)


def _points(regions: list[Region], draw_lon: float, draw_lat: float, pick: int) -> tuple[float, float]:
    """A random point, or (most of the time) one inside a random region, so overlaps are exercised."""
    if pick < 0:
        return draw_lon, draw_lat
    r = regions[pick % len(regions)]
    hi = r.lon_max if r.lon_min <= r.lon_max else r.lon_max + 360.0
    lon = r.lon_min + (hi - r.lon_min) * (draw_lon + 180.0) / 360.0
    lon = lon - 360.0 if lon > 180.0 else lon
    return lon, r.lat_min + (r.lat_max - r.lat_min) * (draw_lat + 90.0) / 180.0


@settings(max_examples=400, deadline=None)
@given(worlds(), st.floats(-180.0, 180.0), st.floats(-90.0, 90.0), st.integers(-2, 8),
       st.sampled_from([10.0, 30.0, 119.9, 120.0, 250.0, 400.0]))
def test_the_rule_is_the_strict_reading_over_every_containing_region(world, lon, lat, pick, latency) -> None:
    regions, allowed, forbidden, zones = world
    lon, lat = _points(regions, lon, lat, pick)
    got = site_refusal(regions, lon, lat, allowed=allowed, forbidden=forbidden, zone_limits=ZONES,
                       allowed_zones=zones, latency_ms=latency)
    expected = oracle(regions, lon, lat, allowed, forbidden, zones, latency)
    assert (got.rule if got else None) == expected
    # The vectorised zone of the observer tables is the zone whose limit the scalar rule applies.
    names = sorted(ZONES)
    zone = strictest_zones(regions, [ZONES[z] for z in names], [names.index(r.latency_zone) for r in regions],
                           np.array([lon]), np.array([lat]))[0]
    inside = [r for r in regions if placement_oracle.holds(r, lon, lat)]
    assert (ZONES[names[zone]] if zone >= 0 else None) == (min(ZONES[r.latency_zone] for r in inside)
                                                           if inside else None)


@settings(max_examples=150, deadline=None)
@given(worlds(), st.floats(-180.0, 180.0), st.floats(-90.0, 90.0), st.integers(-2, 8),
       st.sampled_from(["probe", "satellite"]))
def test_engine_orchestrator_automate_and_graph_masks_agree_with_the_rule(world, lon, lat, pick, kind) -> None:
    regions, allowed, forbidden, zones = world
    lon, lat = _points(regions, lon, lat, pick)
    base = load_scenario("regional")
    scenario = replace(base, regions=tuple(regions),
                       latency_zones=tuple(LatencyZone(z, ms) for z, ms in ZONES.items()),
                       constraints=replace(base.constraints, allowed_regions=allowed, forbidden_regions=forbidden))
    t = scenario.observer_type_index(kind)
    latency = scenario.observer_types[t].latency_ms
    engine_ok = check_placement(scenario, lon, lat, t) is None
    assert engine_ok == (oracle(regions, lon, lat, allowed, forbidden, (), latency) is None)
    # The graph policy's site masks are the same rule over arrays.
    assert bool(Placement(scenario).table(np.array([lon]), np.array([lat]))[t, 0]) == engine_ok

    rails = guardrails.Guardrails(24, 1e9, allowed, forbidden, zones)
    server_ok = guardrails.check(rails, scenario, live_instances=0, spend_per_hour=0.0, target=(lon, lat),
                                 latency_ms=latency) is None
    assert server_ok == (oracle(regions, lon, lat, allowed, forbidden, zones, latency) is None)

    rules = WorldRules(tuple(regions), ZONES, {x.name: x.latency_ms for x in scenario.observer_types},
                       allowed, forbidden, zones)
    guard = AutomateGuard(AutomateLimits(budget_per_hour=1e9, max_deploys_per_minute=100), rules)
    verdict = guard.check(Proposal(Deploy(lon, lat, kind), "t", 1.0, 0.0, 1.0, "", "test"), 0.0, 0.0)
    assert verdict.allowed == server_ok


def test_regional_overlaps_refuse_what_any_region_forbids() -> None:
    """The issue's cases: each point lies in a region the rails allow *and* in one they forbid."""
    scenario = load_scenario("regional")
    rails = guardrails.Guardrails.from_scenario(scenario)
    rails = guardrails.Guardrails(rails.max_instances, rails.budget_per_hour, rails.allowed_regions,
                                  ("conflict_zone", "mediterranean_sea", "nordics"), rails.latency_zones)
    for (lon, lat), region in (((10, 38), "mediterranean_sea"), ((12, 57), "nordics"), ((20, 34), "mediterranean_sea")):
        refusal = guardrails.check(rails, scenario, live_instances=0, spend_per_hour=0.0, target=(lon, lat),
                                   latency_ms=30.0)
        assert refusal is not None and refusal.guardrail == "forbidden_regions", (lon, lat)
        assert region in refusal.reason


def test_regional_satellite_is_held_to_the_strictest_zone() -> None:
    """(10, 38) is in western_europe (core, 300 ms) and mediterranean_sea (edge, 120 ms): 250 ms fails."""
    scenario = load_scenario("regional")
    sat = scenario.observer_type_index("satellite")
    reason = check_placement(scenario, 10.0, 38.0, sat)
    assert reason is not None and reason.startswith("latency:") and "'edge'" in reason
    assert check_placement(scenario, 10.0, 45.0, sat) is None  # western_europe alone: core
    refusal = guardrails.check(guardrails.Guardrails.from_scenario(scenario), scenario, live_instances=0,
                               spend_per_hour=0.0, target=(10.0, 38.0), latency_ms=250.0)
    assert refusal is not None and refusal.guardrail == "latency_zones" and "120 ms" in refusal.reason
