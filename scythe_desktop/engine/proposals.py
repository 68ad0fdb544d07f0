"""Proposals: what a policy suggests to the operator, ranked, each with its reason.

A :class:`Proposal` is the small immutable value the console shows as a ghost observer and the orchestrator
records in its audit log: the action, a readable target, the predicted information gain (bits, from the
world's belief model), the spend rate it adds, the policy's confidence and a one-line explanation. It knows
nothing of how the policy that made it works, of Qt or of the wire format; it only reads the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.scenario import Scenario

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


@dataclass(frozen=True, slots=True)
class Proposal:
    action: Action
    target: str  # e.g. "lon 12.5, lat 48.0" or "observer 3 -> cluster 17"
    predicted_information_gain: float  # bits of expected entropy reduction over the next tick
    cost_per_hour: float  # change of the world's spend rate if applied (negative for a decommission)
    confidence: float  # in [0, 1]: the policy's probability (PPO) or its normalised score (baselines)
    explanation: str  # one line for a human
    policy: str  # the name of the policy that proposed it

    @property
    def kind(self) -> str:
        return action_kind(self.action)


def action_kind(action: Action) -> str:
    """The action's short name as the console and the CLI spell it."""
    return _KIND[type(action)]


_KIND: dict[type, str] = {
    Deploy: "deploy",
    Relocate: "relocate",
    IncreaseSampling: "increase-sampling",
    Focus: "focus",
    Decommission: "decommission",
}


def describe_target(action: Action) -> str:
    """A readable target for ``action`` (no world needed)."""
    match action:
        case Deploy(lon=lon, lat=lat, observer_type=kind):
            return f"{kind or 'default'} at lon {lon:.1f}, lat {lat:.1f}"
        case Relocate(observer_id=oid, lon=lon, lat=lat):
            return f"observer {oid} to lon {lon:.1f}, lat {lat:.1f}"
        case Focus(observer_id=oid, cluster_id=cid):
            return f"observer {oid} -> cluster {cid}"
        case IncreaseSampling(observer_id=oid) | Decommission(observer_id=oid):
            return f"observer {oid}"
    raise TypeError(f"not an action: {action!r}")


def spend_change(scenario: Scenario, observers: NDArray[np.void], action: Action) -> float:
    """How much ``action`` changes the spend rate ($/h) if applied (0 for unknown observers)."""
    if isinstance(action, Deploy):
        kind = action.observer_type or scenario.constraints.default_observer_type
        return scenario.observer_type(kind).cost_per_hour
    row = np.flatnonzero(observers["id"] == action.observer_id)
    if row.size == 0:
        return 0.0
    o = observers[row[0]]
    if isinstance(action, Decommission):
        return -float(o["cost_per_hour"])
    if isinstance(action, IncreaseSampling):
        t = scenario.observer_types[int(o["type"])]
        new_rate = min(2.0 * float(o["sampling_rate"]), t.max_sampling_rate)
        return t.cost_per_hour * new_rate / t.sampling_rate - float(o["cost_per_hour"])
    return 0.0


def _point(observers: NDArray[np.void], action: Action) -> tuple[float, float] | None:
    if isinstance(action, Deploy | Relocate):
        return action.lon, action.lat
    row = np.flatnonzero(observers["id"] == action.observer_id)
    return (float(observers["lon"][row[0]]), float(observers["lat"][row[0]])) if row.size else None


def explain(clusters: NDArray[np.void], observers: NDArray[np.void], action: Action, gain: float, cost: float) -> str:
    """One line for the operator: what the action does, for which cluster, and what it buys."""
    kind = action_kind(action)
    if isinstance(action, Focus):
        hit = clusters[clusters["id"] == action.cluster_id]
        what = (
            f"cluster {action.cluster_id} (entropy {float(hit['entropy'][0]):.2f} bits)"
            if hit.size
            else f"cluster {action.cluster_id}"
        )
        return f"focus observer {action.observer_id} on {what}: {gain:+.2f} bits/tick"
    point = _point(observers, action)
    target = ""
    if point is not None and len(clusters):
        d = great_circle_km(point[0], point[1], clusters["lon"], clusters["lat"])
        near = int(np.argmin(d - 50.0 * clusters["entropy"]))  # the closest, favouring uncertain ones
        target = (
            f" near cluster {int(clusters['id'][near])} ({float(d[near]):.0f} km, "
            f"entropy {float(clusters['entropy'][near]):.2f} bits)"
        )
    money = f", {cost:+.2f} $/h" if cost else ""
    return f"{kind}{target}: {gain:+.2f} bits/tick{money}"


def make_proposal(
    world: World, action: Action, gain: float, confidence: float, policy: str, clusters: NDArray[np.void] | None = None
) -> Proposal:
    """A proposal for ``action`` with its spend change and explanation filled in from ``world``."""
    observers = world.observers
    table = world.clusters if clusters is None else clusters
    cost = spend_change(world.scenario, observers, action)
    return Proposal(
        action=action,
        target=describe_target(action),
        predicted_information_gain=float(gain),
        cost_per_hour=float(cost),
        confidence=float(min(max(confidence, 0.0), 1.0)),
        explanation=explain(table, observers, action, gain, cost),
        policy=policy,
    )
