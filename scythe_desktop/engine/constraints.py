"""Guardrails: whether an action is allowed by the scenario's constraints, and if not, why.

Each check returns ``None`` when the action may proceed, or a reason that starts with the name of the
refusing constraint: ``coordinates``, ``observer_type``, ``unknown_observer``, ``unknown_cluster``,
``max_instances``, ``region``, ``forbidden_region``, ``latency``, ``sampling`` or ``budget`` — for
example ``"budget: 12.0/h over 10.0/h"``. The world calls these before acting, so no policy can break a
guardrail. Where an observer may be is the one placement rule of :mod:`scythe_desktop.engine.placement`,
which the orchestrator's guardrails and the console's Automate filter call too. This module knows nothing
of beliefs, nodes or fields.
"""

from __future__ import annotations

import math

import numpy as np

from scythe_desktop.engine import placement
from scythe_desktop.engine.placement import site_refusal
from scythe_desktop.engine.scenario import Scenario


def check_coordinates(lon: float, lat: float) -> str | None:
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180.0 <= lon <= 180.0):
        return f"coordinates: lon must be a finite number in [-180, 180], got {lon!r}"
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        return f"coordinates: lat must be a finite number in [-90, 90], got {lat!r}"
    return None


def zone_limits(scenario: Scenario) -> dict[str, float]:
    """Each latency zone's ``max_latency_ms``, by name."""
    return {z.name: z.max_latency_ms for z in scenario.latency_zones}


def check_placement(scenario: Scenario, lon: float, lat: float, type_index: int) -> str | None:
    """Position rules for a deploy or relocate of an observer of the given type: the scenario's regions
    through the one placement rule (:func:`~scythe_desktop.engine.placement.site_refusal`)."""
    reason = check_coordinates(lon, lat)
    if reason:
        return reason
    k = scenario.constraints
    kind = scenario.observer_types[type_index]
    refusal = site_refusal(scenario.regions, lon, lat, allowed=k.allowed_regions, forbidden=k.forbidden_regions,
                           zone_limits=zone_limits(scenario), latency_ms=kind.latency_ms)
    if refusal is None:
        return None
    prefix = {placement.FORBIDDEN: "forbidden_region", placement.OUTSIDE: "region"}.get(refusal.rule, "latency")
    return prefix + ": " + refusal.explain(f"({lon:.2f}, {lat:.2f})", observer=f"type {kind.name!r}",
                                           latency_ms=kind.latency_ms, allowed=k.allowed_regions)


def check_instances(scenario: Scenario, deployed: int) -> str | None:
    limit = scenario.constraints.max_instances
    if deployed >= limit:
        return f"max_instances: {deployed} of {limit} observers already deployed"
    return None


def check_budget(scenario: Scenario, new_total_per_hour: float, setup_fee: float = 0.0) -> str | None:
    """The spend of the hour an action starts: the running rate after it plus its one-off set-up fee
    (deploys and relocations; :mod:`scythe_desktop.engine.batch.billing`), against the hourly budget."""
    limit = scenario.constraints.budget_per_hour
    total = new_total_per_hour + setup_fee
    if total > limit + 1e-9:
        fee = f" (incl. a {setup_fee:.1f} set-up fee)" if setup_fee else ""
        return f"budget: {total:.1f}/h over {limit:.1f}/h{fee}"
    return None


def check_observer(observer_ids: np.ndarray, observer_id: int) -> str | None:
    if not np.any(observer_ids == observer_id):
        return f"unknown_observer: no observer with id {observer_id!r}"
    return None


def check_type(scenario: Scenario, name: str) -> str | None:
    names = [t.name for t in scenario.observer_types]
    if name not in names:
        return f"observer_type: {name!r} is not one of {names}"
    return None


__all__ = [
    "check_budget",
    "check_coordinates",
    "check_instances",
    "check_observer",
    "check_placement",
    "check_type",
    "zone_limits",
]
