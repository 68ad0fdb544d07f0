"""Automate mode's client-side guardrails: each limit refuses with its name, and no sequence breaks them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, WorldRules, region_box
from scythe_desktop.engine.actions import Decommission, Deploy, Relocate
from scythe_desktop.engine.proposals import Proposal

EUROPE = region_box("europe", -10.0, 30.0, 35.0, 60.0)
PACIFIC = region_box("pacific", 170.0, -170.0, -10.0, 10.0)  # crosses the antimeridian


def proposal(action: object, cost: float = 1.0, confidence: float = 0.9) -> Proposal:
    return Proposal(action, "t", 0.5, cost, confidence, "because", "test")  # type: ignore[arg-type]


def test_low_confidence_is_refused_by_name() -> None:
    guard = AutomateGuard(AutomateLimits(min_confidence=0.6))
    verdict = guard.check(proposal(Deploy(0, 45), confidence=0.4), spend_per_hour=0, now=0)
    assert not verdict.allowed and verdict.reason.startswith("min_confidence")


def test_budget_counts_current_spend_plus_the_action() -> None:
    guard = AutomateGuard(AutomateLimits(budget_per_hour=10.0))
    assert guard.check(proposal(Deploy(0, 45), cost=4.0), spend_per_hour=6.0, now=0).allowed
    verdict = guard.check(proposal(Deploy(0, 45), cost=4.5), spend_per_hour=6.0, now=0)
    assert not verdict.allowed and verdict.reason.startswith("budget_per_hour")


def test_a_decommission_is_allowed_even_over_budget() -> None:
    guard = AutomateGuard(AutomateLimits(budget_per_hour=1.0))
    assert guard.check(proposal(Decommission(3), cost=-2.0), spend_per_hour=5.0, now=0).allowed


def test_deploy_rate_uses_a_sliding_minute() -> None:
    guard = AutomateGuard(AutomateLimits(max_deploys_per_minute=2, budget_per_hour=1e9))
    p = proposal(Deploy(0, 45))
    for t in (0.0, 10.0):
        assert guard.check(p, 0, t).allowed
        guard.record_sent(p, t)
    verdict = guard.check(p, 0, 59.0)
    assert not verdict.allowed and verdict.reason.startswith("max_deploys_per_minute")
    assert guard.check(p, 0, 60.5).allowed  # the first deploy left the window


def test_allowed_regions_include_antimeridian_boxes() -> None:
    guard = AutomateGuard(AutomateLimits(allowed_regions=("pacific",), budget_per_hour=1e9),
                          WorldRules((EUROPE, PACIFIC)))
    assert guard.check(proposal(Deploy(179.0, 0.0)), 0, 0).allowed
    assert guard.check(proposal(Deploy(-175.0, 5.0)), 0, 0).allowed
    verdict = guard.check(proposal(Relocate(1, 10.0, 45.0)), 0, 0)
    assert not verdict.allowed and verdict.reason.startswith("allowed_regions")


def test_a_region_unknown_to_the_world_allows_nothing() -> None:
    guard = AutomateGuard(AutomateLimits(allowed_regions=("atlantis",), budget_per_hour=1e9), WorldRules((EUROPE,)))
    assert not guard.check(proposal(Deploy(10.0, 45.0)), 0, 0).allowed


def test_limits_reject_nonsense_values() -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        AutomateLimits(min_confidence=1.5)
    with pytest.raises(ValueError, match="max_deploys_per_minute"):
        AutomateLimits(max_deploys_per_minute=-1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 5.0),  # seconds since the previous proposal
            st.floats(-180.0, 180.0),
            st.floats(-80.0, 80.0),
            st.floats(0.0, 1.0),  # confidence
            st.floats(0.0, 6.0),  # cost per hour
        ),
        max_size=80,
    )
)
def test_no_sequence_of_proposals_gets_past_the_limits(steps: list[tuple[float, float, float, float, float]]) -> None:
    limits = AutomateLimits(budget_per_hour=20.0, max_deploys_per_minute=3, min_confidence=0.5,
                            allowed_regions=("europe",))
    guard = AutomateGuard(limits, WorldRules((EUROPE, PACIFIC)))
    now, spend, sent_times = 0.0, 0.0, []
    for dt, lon, lat, confidence, cost in steps:
        now += dt
        p = proposal(Deploy(lon, lat), cost=cost, confidence=confidence)
        if guard.check(p, spend, now).allowed:
            guard.record_sent(p, now)
            spend += cost
            sent_times.append(now)
            assert confidence >= limits.min_confidence
            assert EUROPE.contains(lon, lat)
    assert spend <= limits.budget_per_hour
    for t in sent_times:
        assert sum(1 for s in sent_times if t - 60.0 < s <= t) <= limits.max_deploys_per_minute
