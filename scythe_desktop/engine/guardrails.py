"""The orchestrator's guardrails as a value: what the server checks every action against
(:func:`scythe_desktop.orchestrator.guardrails.check`), what ``SetGuardrails`` carries and the client reads back,
and what the state store keeps. Read from a scenario's constraints, validated against its region and zone
names. No checking happens here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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


__all__ = ["Guardrails"]
