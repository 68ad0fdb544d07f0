"""The decisions of a recording as values: what was proposed, who decided what, at which tick, and whether
the action took.

A decision's **id** is its 1-based position on the decisions channel (``scythe whatif --list`` prints them):
stable, short to type, and defined for every recording (console decisions carry no request id). A decision
*took* when its action was applied to the world: ``ok`` and not ``rejected`` (a refused or unsent one did
not). :func:`proposal_of` turns a recorded ``scythe.recording.v1.Proposal`` back into the engine's
:class:`~scythe_desktop.engine.proposals.Proposal` so a branch can apply it again. Knows our schemas, not files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording, RecordingError

#: Outcomes of a decision whose action was never sent to the world.
NOT_APPLIED: Final = frozenset({"rejected"})


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    id: int  # 1-based position on the decisions channel
    log_time_ns: int
    tick: int
    who: str
    outcome: str
    ok: bool
    reason: str
    request_id: str
    proposal: Proposal
    message: Any  # the schemas.Decision as recorded

    @property
    def took(self) -> bool:
        """Whether the action was applied to the world."""
        return self.ok and self.outcome not in NOT_APPLIED

    def describe(self) -> str:
        state = "applied" if self.took else ("refused" if not self.ok else self.outcome)
        what = f"{self.proposal.kind} {self.proposal.target}"
        return f"#{self.id} tick {self.tick} {self.who} {self.outcome} ({state}): {what}"


def action_of(msg: Any) -> Action:
    """The engine action a recorded ``Proposal`` message describes; a ``ValueError`` names what is missing."""
    kind = msg.kind
    match kind:
        case "deploy":
            return Deploy(msg.lon, msg.lat, msg.observer_type or None)
        case "relocate":
            return Relocate(int(msg.observer_id), msg.lon, msg.lat)
        case "increase-sampling":
            return IncreaseSampling(int(msg.observer_id))
        case "focus":
            return Focus(int(msg.observer_id), int(msg.cluster_id))
        case "decommission":
            return Decommission(int(msg.observer_id))
    raise ValueError(f"recorded proposal has an unknown action kind {kind!r}")


def proposal_of(msg: Any) -> Proposal:
    """The engine proposal of a recorded ``Proposal`` message."""
    return Proposal(action=action_of(msg), target=msg.target, predicted_information_gain=msg.predicted_information_gain,
                    cost_per_hour=msg.cost_per_hour, confidence=msg.confidence, explanation=msg.explanation,
                    policy=msg.policy)


def read_decisions(rec: Recording) -> list[RecordedDecision]:
    """Every decision of ``rec`` in channel order; a decision that cannot be decoded is a ``RecordingError``
    naming it (a branch must not silently drop one)."""
    out = []
    for i, m in enumerate(rec.messages([schemas.TOPIC_DECISIONS]), start=1):
        try:
            d = schemas.Decision.FromString(m.data)
            proposal = proposal_of(d.proposal)
        except Exception as exc:  # protobuf raises DecodeError, a bad kind ValueError: both name the decision
            raise RecordingError(f"{rec.path}: decision #{i} cannot be read: {exc}") from None
        out.append(RecordedDecision(i, m.log_time_ns, int(d.tick), d.who, d.outcome, bool(d.ok), d.reason,
                                    d.request_id, proposal, d))
    return out


__all__ = ["NOT_APPLIED", "RecordedDecision", "action_of", "proposal_of", "read_decisions"]
