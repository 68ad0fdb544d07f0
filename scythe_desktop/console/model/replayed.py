"""Recorded messages as the console shows them: proposals, decision-history rows and metrics of a replay.

A recording stores proposals and decisions as ``scythe.recording.v1`` messages and metrics under the names
whoever recorded them used (the engine's in ``scythe simulate``, the console's own when the console
recorded). These functions turn them into the engine :class:`~scythe_desktop.engine.proposals.Proposal`
values the decisions dock and the globe's ghosts take, into audit-trail rows, and into the metrics dock's
names. A proposal whose kind or numbers make no action raises ``ValueError`` naming the field. Qt-free.
"""

from __future__ import annotations

import math
from typing import Any, Final

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording.replay import Bookmark

#: Recorded metric names (the engine's, see ``World.step``'s info) mapped to the metrics dock's.
METRIC_NAMES: Final = {
    "entropy_total": "total entropy",
    "coverage_mean": "coverage",
    "cost_per_hour": "cost/hour",
    "reward": "reward",
    "activations_caught_total": "activations caught",
    "activations_evaded_total": "activations evaded",
}


def recorded_action(m: Any) -> Action:
    """The engine action a recorded ``Proposal`` message describes."""
    kind = m.kind
    if kind in ("deploy", "relocate"):
        if not (math.isfinite(m.lon) and -180.0 <= m.lon <= 180.0):
            raise ValueError(f"recorded {kind} proposal: lon must be in [-180, 180], got {m.lon}")
        if not (math.isfinite(m.lat) and -90.0 <= m.lat <= 90.0):
            raise ValueError(f"recorded {kind} proposal: lat must be in [-90, 90], got {m.lat}")
    if kind == "deploy":
        return Deploy(m.lon, m.lat, m.observer_type or None)
    if kind == "relocate":
        return Relocate(int(m.observer_id), m.lon, m.lat)
    if kind == "increase-sampling":
        return IncreaseSampling(int(m.observer_id))
    if kind == "focus":
        return Focus(int(m.observer_id), int(m.cluster_id))
    if kind == "decommission":
        return Decommission(int(m.observer_id))
    raise ValueError(f"recorded proposal: unknown kind {kind!r}")


def recorded_proposal(m: Any) -> Proposal:
    return Proposal(recorded_action(m), m.target, float(m.predicted_information_gain), float(m.cost_per_hour),
                    float(m.confidence), m.explanation, m.policy)


def recorded_proposals(proposal_set: Any) -> tuple[list[Proposal], list[str]]:
    """The proposals of a recorded ``ProposalSet`` that make actions, and a problem line for each that does not."""
    good: list[Proposal] = []
    problems: list[str] = []
    for m in proposal_set.proposals:
        try:
            good.append(recorded_proposal(m))
        except ValueError as exc:
            problems.append(str(exc))
    return good, problems


def recorded_metrics(metrics: Any) -> dict[str, float]:
    """A recorded ``Metrics`` message under the metrics dock's names (others kept under their own)."""
    return {METRIC_NAMES.get(v.name, v.name): float(v.value) for v in metrics.values}


def decision_row(offset: str, decision: Any) -> tuple[str, str, str, str, str]:
    """An audit-trail row (time, decision, action, target, outcome) for a recorded ``Decision``."""
    outcome = f"by {decision.who}" + (f": {decision.reason}" if decision.reason else "")
    return (offset, decision.outcome, decision.proposal.kind, decision.proposal.target, outcome)


def bookmark_row(offset: str, bookmark: Bookmark) -> tuple[str, str, str, str, str]:
    """The same row from a timeline bookmark (used after a seek, for decisions not played yet)."""
    kind, _, target = bookmark.label.partition(" ")
    return (offset, bookmark.outcome, kind, target, f"by {bookmark.who}")


__all__ = [
    "METRIC_NAMES",
    "bookmark_row",
    "decision_row",
    "recorded_action",
    "recorded_metrics",
    "recorded_proposal",
    "recorded_proposals",
]
