"""The five operator actions as small immutable values, and the result of applying one.

Actions carry only what the operator chose; validation against the scenario's constraints happens in
:mod:`scythe_desktop.engine.constraints` and the world applies them. A refused action's ``reason`` starts
with the name of the refusing constraint (``"budget: 12.0/h over 10.0/h"``), so logs and UIs can group
refusals. This module knows nothing of worlds or numpy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True, slots=True)
class Deploy:
    """Place a new observer at (lon, lat); ``observer_type`` ``None`` means the scenario's default."""

    lon: float
    lat: float
    observer_type: str | None = None


@dataclass(frozen=True, slots=True)
class Relocate:
    observer_id: int
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class IncreaseSampling:
    """Double the observer's sampling rate (capped by its type); cost grows with the rate."""

    observer_id: int


@dataclass(frozen=True, slots=True)
class Focus:
    """Concentrate the observer on one cluster (better detection there, worse elsewhere)."""

    observer_id: int
    cluster_id: int


@dataclass(frozen=True, slots=True)
class Decommission:
    observer_id: int


Action = Deploy | Relocate | IncreaseSampling | Focus | Decommission

ACTION_TYPES: tuple[type, ...] = (Deploy, Relocate, IncreaseSampling, Focus, Decommission)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What became of an action. ``observer_id`` is the observer acted on (the new one for a deploy);
    ``cost_per_hour`` is the world's total spend rate after the action (unchanged when refused)."""

    ok: bool
    reason: str
    observer_id: int | None
    cost_per_hour: float


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """The orchestrator's answer to an accepted action request (``ok`` False with a ``reason`` when the backend
    declined; ``replayed``: the stored outcome of an earlier request with this id, not a second action). The
    idempotency store keeps it as JSON; the client hands it back."""

    request_id: str
    ok: bool
    reason: str
    observer_id: int
    cost_per_hour: float
    tick: int
    replayed: bool = False

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> ActionOutcome:
        """A stored outcome, as a replay: ``replayed`` True."""
        return replace(cls(**json.loads(blob)), replayed=True)


__all__ = [
    "ACTION_TYPES",
    "Action",
    "ActionOutcome",
    "ActionResult",
    "Decommission",
    "Deploy",
    "Focus",
    "IncreaseSampling",
    "Relocate",
]
