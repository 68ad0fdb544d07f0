"""Guardrails checked by the orchestrator at the point of action, before the world is touched.

Five guardrails: ``max_instances`` (live observers after a deploy), ``allowed_regions`` and
``forbidden_regions`` (where a deploy or relocation may land), ``latency_zones`` (every region containing the
target must be in an allowed zone; the observer type's latency is always held to the strictest of those
zones' maxima) and
``budget_per_hour`` (total cost per hour of live observers after the action). A refusal names the
guardrail and the numbers that broke it. No client, policy or retry reaches the world without
passing :func:`check`. The rails themselves are :class:`~scythe_desktop.engine.guardrails.Guardrails`
(the value the wire and the client share). Where a target may land is the engine's one placement rule
(:func:`~scythe_desktop.engine.placement.site_refusal`), applied to these guardrails' lists. This
module knows the scenario's geography, not gRPC or the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

from scythe_desktop.engine import placement
from scythe_desktop.engine.constraints import zone_limits
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.placement import site_refusal
from scythe_desktop.engine.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Refusal:
    guardrail: str
    reason: str

    def __str__(self) -> str:
        return f"guardrail {self.guardrail}: {self.reason}"


def check(
    rails: Guardrails,
    scenario: Scenario,
    *,
    live_instances: int,
    spend_per_hour: float,
    added_instances: int = 0,
    added_cost_per_hour: float = 0.0,
    target: tuple[float, float] | None = None,
    latency_ms: float | None = None,
) -> Refusal | None:
    """The first guardrail the proposed change breaks, or None when it may go ahead."""
    if added_instances and live_instances + added_instances > rails.max_instances:
        return Refusal(
            "max_instances", f"{live_instances} observers are live and at most {rails.max_instances} are allowed"
        )
    if target is not None:
        refusal = _placement(rails, scenario, target, latency_ms)
        if refusal is not None:
            return refusal
    if added_cost_per_hour > 0 and spend_per_hour + added_cost_per_hour > rails.budget_per_hour + 1e-9:
        return Refusal(
            "budget_per_hour",
            f"spend would be {spend_per_hour + added_cost_per_hour:.2f}/h, over "
            f"the budget of {rails.budget_per_hour:.2f}/h",
        )
    return None


def _placement(
    rails: Guardrails, scenario: Scenario, target: tuple[float, float], latency_ms: float | None
) -> Refusal | None:
    lon, lat = target
    refusal = site_refusal(
        scenario.regions, lon, lat, allowed=rails.allowed_regions, forbidden=rails.forbidden_regions,
        zone_limits=zone_limits(scenario), allowed_zones=rails.latency_zones, latency_ms=latency_ms,
    )
    if refusal is None:
        return None
    return Refusal(placement.RAIL[refusal.rule], refusal.explain(
        f"({lon:g}, {lat:g})", observer="observer latency", latency_ms=latency_ms, allowed=rails.allowed_regions,
        allowed_zones=rails.latency_zones))
