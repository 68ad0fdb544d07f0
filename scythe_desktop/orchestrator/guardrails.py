"""Guardrails checked by the orchestrator at the point of action, before the world is touched.

Five guardrails: ``max_instances`` (live observers after a deploy), ``allowed_regions`` and
``forbidden_regions`` (where a deploy or relocation may land), ``latency_zones`` (every region containing the
target must be in an allowed zone; the observer type's latency is always held to the strictest of those
zones' maxima) and
``budget_per_hour`` (total cost per hour of live observers after the action). A refusal names the
guardrail and the numbers that broke it. No client, policy or retry reaches the world without
passing :func:`check`. Where a target may land is the engine's one placement rule
(:func:`~scythe_desktop.engine.placement.site_refusal`), applied to these guardrails' lists. This
module knows the scenario's geography, not gRPC or the simulator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scythe_desktop.engine import placement
from scythe_desktop.engine.constraints import zone_limits
from scythe_desktop.engine.placement import site_refusal
from scythe_desktop.engine.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Guardrails:
    max_instances: int
    budget_per_hour: float
    allowed_regions: tuple[str, ...] = ()
    forbidden_regions: tuple[str, ...] = ()
    latency_zones: tuple[str, ...] = field(default=())

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Guardrails:
        c = scenario.constraints
        return cls(
            c.max_instances,
            c.budget_per_hour,
            tuple(c.allowed_regions),
            tuple(c.forbidden_regions),
            tuple(z.name for z in scenario.latency_zones),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"max_instances": self.max_instances, "budget_per_hour": self.budget_per_hour,
                "allowed_regions": list(self.allowed_regions), "forbidden_regions": list(self.forbidden_regions),
                "latency_zones": list(self.latency_zones)}

    def to_json(self) -> str:
        """How the state store keeps them (``from_json`` reads it back)."""
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Guardrails:
        d = json.loads(text)
        return cls(int(d["max_instances"]), float(d["budget_per_hour"]), tuple(d["allowed_regions"]),
                   tuple(d["forbidden_regions"]), tuple(d["latency_zones"]))

    def validated(self, scenario: Scenario) -> Guardrails:
        """Self, or ValueError naming an unknown region or zone name or a negative limit."""
        regions = [r.name for r in scenario.regions]
        zones = [z.name for z in scenario.latency_zones]
        for what, names, known in (
            ("allowed_regions", self.allowed_regions, regions),
            ("forbidden_regions", self.forbidden_regions, regions),
            ("latency_zones", self.latency_zones, zones),
        ):
            for n in names:
                if n not in known:
                    raise ValueError(f"{what}: unknown name {n!r}; known: {', '.join(known)}")
        if not self.budget_per_hour >= 0.0:  # also refuses NaN
            raise ValueError(f"budget_per_hour must be a number >= 0, got {self.budget_per_hour!r}")
        return self


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
