"""The console's own guardrails for Automate mode, checked before a proposal is sent to the orchestrator.

When the operator lets the console apply the policy's proposals by itself, :class:`AutomateGuard` decides,
proposal by proposal, whether sending it stays inside the limits the operator set: a budget per hour (the
spend rate after the action), a maximum number of deploys in any sliding minute, a minimum policy
confidence, and the regions a deploy or relocation may land in. Where a target may land is the engine's one
placement rule (:func:`~scythe_desktop.engine.placement.site_refusal`) applied twice: to the operator's allowed
regions, and to the orchestrator's own rails as its world info states them (:class:`WorldRules`: forbidden and
allowed regions, latency zones and their limits, each observer type's latency). It is a client-side filter only —
the orchestrator's guardrails stay authoritative and may still refuse — so it errs on the side of refusing: an
observer whose type it does not know is held to the slowest type's latency.
Pure Python (no Qt, no gRPC) so it is unit-tested without a display; time is passed in, never read here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from scythe_desktop.engine import placement
from scythe_desktop.engine.actions import Deploy, Relocate
from scythe_desktop.engine.placement import site_refusal
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.scenario import Region
from scythe_desktop.protocol.world_wire import WorldInfo

_MINUTE_S = 60.0


def region_box(name: str, lon_min: float, lon_max: float, lat_min: float, lat_max: float,
               latency_zone: str = "") -> Region:
    """A world region known by its name, box and latency zone (as the orchestrator's world info describes it);
    ``lon_min > lon_max`` means it crosses the antimeridian."""
    return Region(name, lon_min, lon_max, lat_min, lat_max, latency_zone=latency_zone, occlusion=0.0, weight=1.0)


@dataclass(frozen=True)
class WorldRules:
    """Where the orchestrator lets observers go, from its world info (regions, zones, types, guardrails)."""

    regions: tuple[Region, ...] = ()
    zone_limits: Mapping[str, float] = field(default_factory=dict)
    type_latency: Mapping[str, float] = field(default_factory=dict)
    allowed_regions: tuple[str, ...] = ()
    forbidden_regions: tuple[str, ...] = ()
    latency_zones: tuple[str, ...] = ()

    @classmethod
    def from_world_info(cls, info: WorldInfo) -> WorldRules:
        """From the orchestrator's world info (as the client returns it)."""
        rails = info.guardrails
        return cls(
            tuple(region_box(r.name, r.lon_min, r.lon_max, r.lat_min, r.lat_max, r.latency_zone) for r in info.regions),
            {z.name: float(z.max_latency_ms) for z in info.latency_zones},
            {t.name: float(t.latency_ms) for t in info.observer_types},
            tuple(rails.allowed_regions), tuple(rails.forbidden_regions), tuple(rails.latency_zones),
        )

    def latency_of(self, type_name: str | None) -> float | None:
        """A type's latency; the slowest type's when the type is unknown (None when no type is known)."""
        if type_name is not None and type_name in self.type_latency:
            return self.type_latency[type_name]
        return max(self.type_latency.values(), default=None)

    def refusal(self, lon: float, lat: float, type_name: str | None) -> str | None:
        """Why the orchestrator's rails would refuse an observer of ``type_name`` at (lon, lat), or None."""
        r = site_refusal(self.regions, lon, lat, allowed=self.allowed_regions, forbidden=self.forbidden_regions,
                         zone_limits=self.zone_limits, allowed_zones=self.latency_zones,
                         latency_ms=self.latency_of(type_name))
        if r is None:
            return None
        return f"{placement.RAIL[r.rule]}: " + r.explain(
            f"lon {lon:.1f}, lat {lat:.1f}", observer=type_name or "the default type",
            latency_ms=self.latency_of(type_name), allowed=self.allowed_regions, allowed_zones=self.latency_zones)


@dataclass(frozen=True, slots=True)
class AutomateLimits:
    """What the operator allows Automate mode to do.

    Parameters
    ----------
    budget_per_hour : float
        Maximum total spend rate (currency units per hour) of live observers after an action.
    max_deploys_per_minute : int
        Maximum deploys sent in any 60-second window (0 forbids automatic deploys).
    min_confidence : float
        Proposals whose confidence is below this (0..1) are never sent automatically.
    allowed_regions : tuple of str
        Names of the regions a deploy or relocation may target; empty means anywhere.
    """

    budget_per_hour: float = 50.0
    max_deploys_per_minute: int = 2
    min_confidence: float = 0.5
    allowed_regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.budget_per_hour >= 0:
            raise ValueError(f"budget_per_hour must be >= 0, got {self.budget_per_hour}")
        if self.max_deploys_per_minute < 0:
            raise ValueError(f"max_deploys_per_minute must be >= 0, got {self.max_deploys_per_minute}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a proposal may be sent; ``reason`` names the guardrail that refused it (empty when allowed)."""

    allowed: bool
    reason: str = ""


@dataclass
class AutomateGuard:
    """Applies :class:`AutomateLimits` to proposals and remembers what it let through.

    Call :meth:`check` before sending, and :meth:`record_sent` once the proposal was actually sent, so the
    deploy rate counts what went out. ``rules`` are the orchestrator's (from its world info); a region named
    in the limits but unknown to the world allows nothing, which is the safe reading. ``observer_types`` maps
    live observer ids to their type names (for a relocation's latency).
    """

    limits: AutomateLimits
    rules: WorldRules = field(default_factory=WorldRules)
    observer_types: Mapping[int, str] = field(default_factory=dict)
    _deploy_times: deque[float] = field(default_factory=deque)

    def check(self, proposal: Proposal, spend_per_hour: float, now: float) -> Verdict:
        """Verdict for sending ``proposal`` when the world currently spends ``spend_per_hour`` at time ``now``."""
        limits = self.limits
        if proposal.confidence < limits.min_confidence:
            return Verdict(False, f"min_confidence: {proposal.confidence:.2f} < {limits.min_confidence:.2f}")
        after = spend_per_hour + proposal.cost_per_hour
        if proposal.cost_per_hour > 0 and after > limits.budget_per_hour:
            return Verdict(False, f"budget_per_hour: {after:.2f}/h over {limits.budget_per_hour:.2f}/h")
        action = proposal.action
        if isinstance(action, Deploy):
            recent = self._deploys_since(now - _MINUTE_S)
            if recent >= limits.max_deploys_per_minute:
                return Verdict(
                    False, f"max_deploys_per_minute: {recent} in the last minute, limit {limits.max_deploys_per_minute}"
                )
        if isinstance(action, Deploy | Relocate):
            if limits.allowed_regions and site_refusal(self.rules.regions, action.lon, action.lat,
                                                       allowed=limits.allowed_regions) is not None:
                return Verdict(
                    False,
                    f"allowed_regions: lon {action.lon:.1f}, lat {action.lat:.1f} is outside "
                    f"{', '.join(limits.allowed_regions)}",
                )
            kind = action.observer_type if isinstance(action, Deploy) else self.observer_types.get(action.observer_id)
            refused = self.rules.refusal(action.lon, action.lat, kind)
            if refused is not None:
                return Verdict(False, refused)
        return Verdict(True)

    def record_sent(self, proposal: Proposal, now: float) -> None:
        """Count ``proposal`` as sent at ``now`` (only deploys count towards the rate)."""
        if isinstance(proposal.action, Deploy):
            self._deploy_times.append(now)

    def _deploys_since(self, start: float) -> int:
        while self._deploy_times and self._deploy_times[0] <= start:
            self._deploy_times.popleft()
        return len(self._deploy_times)


__all__ = ["AutomateGuard", "AutomateLimits", "Verdict", "WorldRules", "region_box"]
