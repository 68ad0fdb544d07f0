"""An independent statement of the placement rule, for the property tests and the guardrail-bypass figure.

Written from the rule's meaning (issue #16), not from :mod:`scythe_desktop.engine.placement`: a box is a set of
meridians ([lo, hi], or [lo, 180] and [-180, hi] across the antimeridian, 180 and -180 being one meridian) times
a latitude band; a point is in every box that holds it; any forbidden one forbids, none of the allowed ones
means outside, every zone must be allowed, and the smallest limit of all its zones applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scythe_desktop.engine.scenario import Region


def holds(r: Region, lon: float, lat: float) -> bool:
    same = {lon, -lon} if abs(lon) == 180.0 else {lon}
    crossing = r.lon_min > r.lon_max
    spans = [(r.lon_min, 180.0), (-180.0, r.lon_max)] if crossing else [(r.lon_min, r.lon_max)]
    return any(a <= x <= b for a, b in spans for x in same) and r.lat_min <= lat <= r.lat_max


def verdict(regions: Sequence[Region], lon: float, lat: float, *, allowed: Sequence[str] = (),
            forbidden: Sequence[str] = (), zone_limits: Mapping[str, float] | None = None,
            allowed_zones: Sequence[str] = (), latency_ms: float | None = None) -> str | None:
    """The rule that refuses the point (the engine's rule names), or None when an observer may go there."""
    inside = [r for r in regions if holds(r, lon, lat)]
    if any(r.name in forbidden for r in inside):
        return "forbidden_region"
    if allowed and not any(r.name in allowed for r in inside):
        return "outside_allowed"
    zones = [r.latency_zone for r in inside if r.latency_zone]
    if allowed_zones and any(z not in allowed_zones for z in zones):
        return "latency_zone"
    limits = [zone_limits[z] for z in zones if zone_limits and z in zone_limits]
    if latency_ms is not None and limits and latency_ms > min(limits):
        return "latency"
    return None
