"""Recorded proposals, decisions and metrics as the console shows them (Qt-free helpers of the replay view)."""

from __future__ import annotations

import pytest

from scythe_desktop.console.model.replayed import (
    bookmark_row,
    decision_row,
    recorded_metrics,
    recorded_proposal,
    recorded_proposals,
)
from scythe_desktop.engine.actions import Deploy, Focus, Relocate
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording import schemas
from scythe_desktop.recording.replay import Bookmark
from scythe_desktop.recording.writer import decision_message, proposal_message


@pytest.mark.parametrize("action", [Deploy(12.5, -40.0, "satellite"), Deploy(1.0, 2.0), Relocate(3, -170.0, 80.0),
                                    Focus(2, 17)])
def test_a_recorded_proposal_comes_back_as_the_engine_proposal(action: object) -> None:
    p = Proposal(action, "somewhere", 1.25, 2.5, 0.75, "because", "greedy")  # type: ignore[arg-type]
    assert recorded_proposal(proposal_message(p)) == p


def test_proposals_that_make_no_action_are_reported_by_field_and_the_rest_kept() -> None:
    good = proposal_message(Proposal(Deploy(1.0, 2.0), "t", 1.0, 1.0, 0.5, "", "greedy"))
    bad_lon = proposal_message(Proposal(Deploy(1.0, 2.0), "t", 1.0, 1.0, 0.5, "", "greedy"))
    bad_lon.lon = 500.0
    unknown = proposal_message(Proposal(Deploy(1.0, 2.0), "t", 1.0, 1.0, 0.5, "", "greedy"))
    unknown.kind = "teleport"
    proposal_set = schemas.ProposalSet(tick=1, policy="greedy", proposals=[good, bad_lon, unknown])
    kept, problems = recorded_proposals(proposal_set)
    assert [p.action for p in kept] == [Deploy(1.0, 2.0)]
    assert "lon" in problems[0] and "500" in problems[0]
    assert "teleport" in problems[1]


def test_decision_rows_and_metrics_use_the_console_names() -> None:
    p = Proposal(Deploy(1.0, 2.0), "lon 1.0, lat 2.0", 1.0, 1.0, 0.5, "", "greedy")
    message = decision_message(p, who="policy:greedy", outcome="auto-applied", reason="ok", ok=True)
    assert decision_row("0:01.0", message) == ("0:01.0", "auto-applied", "deploy", "lon 1.0, lat 2.0",
                                               "by policy:greedy: ok")
    mark = Bookmark(0, 1.0, "deploy lon 1.0, lat 2.0", "auto-applied", "policy:greedy")
    assert bookmark_row("0:01.0", mark)[:4] == decision_row("0:01.0", message)[:4]
    metrics = schemas.Metrics(tick=3)
    for name, value in (("entropy_total", 4.0), ("coverage", 0.5), ("detections", 2.0)):
        metrics.values.add(name=name, value=value)
    assert recorded_metrics(metrics) == {"total entropy": 4.0, "coverage": 0.5, "detections": 2.0}
