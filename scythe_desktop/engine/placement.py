"""The one placement rule: may an observer with a given latency be at (lon, lat)?

Region boxes overlap (a point on the Spanish coast is in ``western_europe`` and in ``mediterranean_sea``),
so a point belongs to *every* region whose box contains it, and the rule is the strict reading of each
constraint over all of them:

* it is forbidden when **any** forbidden region contains it;
* it is outside the allowed regions when **none** of the allowed regions contains it;
* when zones are restricted, **every** containing region's latency zone must be an allowed one;
* the **strictest** latency zone of all containing regions applies (the smallest ``max_latency_ms``).

A point in no region has no zone, so only ``allowed`` can refuse it. :func:`site_refusal` is the only
place that answers the question: the world's validation (:func:`~scythe_desktop.engine.constraints.check_placement`,
and through it the RL action masks), the orchestrator's guardrails and the console's Automate filter all
call it, each with its own region lists, and word the refusal in their own vocabulary.
:func:`allowed_sites` is the same rule over arrays of points (the graph policy's site masks);
:func:`strictest_zones` is the zone rule over arrays, for the observer tables (their latency zone is
the one that applies to them). Pure Python and numpy; knows regions and zones, nothing of worlds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.scenario import Region

FORBIDDEN: Final = "forbidden_region"
OUTSIDE: Final = "outside_allowed"
ZONE: Final = "latency_zone"
LATENCY: Final = "latency"
#: Each rule's name among the orchestrator's guardrails (and the console's Automate reasons).
RAIL: Final = {FORBIDDEN: "forbidden_regions", OUTSIDE: "allowed_regions", ZONE: "latency_zones",
               LATENCY: "latency_zones"}


@dataclass(frozen=True, slots=True)
class SiteRefusal:
    """Why a point is refused. ``rule`` is one of :data:`FORBIDDEN`, :data:`OUTSIDE`, :data:`ZONE`,
    :data:`LATENCY`; ``name`` is the forbidden region, the disallowed zone or the strictest zone (empty for
    :data:`OUTSIDE`); ``inside`` names every region containing the point; ``limit_ms`` is the zone's limit
    for :data:`LATENCY`."""

    rule: str
    name: str
    inside: tuple[str, ...]
    limit_ms: float = 0.0

    def explain(self, where: str, *, observer: str = "the observer", latency_ms: float | None = None,
                allowed: Sequence[str] = (), allowed_zones: Sequence[str] = ()) -> str:
        """The refusal in words, after ``where`` the point is (callers put their own rule name before it)."""
        if self.rule == FORBIDDEN:
            return f"{where} is inside forbidden region {self.name!r}"
        if self.rule == OUTSIDE:
            return f"{where} is outside the allowed regions {list(allowed)}"
        if self.rule == ZONE:
            return f"{where} is in latency zone {self.name!r}, not in {list(allowed_zones)}"
        return f"{observer} has {latency_ms:g} ms, over zone {self.name!r} limit {self.limit_ms:g} ms"


def containing(regions: Sequence[Region], lon: float, lat: float) -> tuple[Region, ...]:
    """Every region whose box contains the point, in the given order."""
    return tuple(r for r in regions if bool(r.contains(lon, lat)))


def site_refusal(
    regions: Sequence[Region],
    lon: float,
    lat: float,
    *,
    allowed: Sequence[str] = (),
    forbidden: Sequence[str] = (),
    zone_limits: Mapping[str, float] | None = None,
    allowed_zones: Sequence[str] = (),
    latency_ms: float | None = None,
) -> SiteRefusal | None:
    """The refusal of the first rule (in the order of the module docstring) that (lon, lat) breaks, or None.

    ``allowed`` empty means anywhere; a name no region has contains nothing (so an unknown allowed region
    allows nothing). ``zone_limits`` maps zone names to their ``max_latency_ms`` (regions whose zone it
    does not list have no limit); ``allowed_zones`` empty means every zone; ``latency_ms`` None skips the
    latency limit (the caller does not know the observer's latency).
    """
    inside = containing(regions, lon, lat)
    names = tuple(r.name for r in inside)
    for r in inside:
        if r.name in forbidden:
            return SiteRefusal(FORBIDDEN, r.name, names)
    if allowed and not any(n in allowed for n in names):
        return SiteRefusal(OUTSIDE, "", names)
    zones = [r.latency_zone for r in inside if r.latency_zone]
    if allowed_zones:
        for z in zones:
            if z not in allowed_zones:
                return SiteRefusal(ZONE, z, names)
    limits = zone_limits or {}
    limited = [(limits[z], z) for z in zones if z in limits]
    if latency_ms is not None and limited:
        limit, zone = min(limited)
        if latency_ms > limit:
            return SiteRefusal(LATENCY, zone, names, limit)
    return None


def allowed_sites(
    regions: Sequence[Region],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    latency_ms: NDArray[np.float64],
    *,
    allowed: Sequence[str] = (),
    forbidden: Sequence[str] = (),
    zone_limits: Mapping[str, float] | None = None,
) -> NDArray[np.bool_]:
    """:func:`site_refusal` over arrays: ``(len(latency_ms), *lon.shape)``, whether an observer of each
    latency may be at each point (``allowed_zones`` is the console's rule and has no vectorised form).
    Coordinates are not checked here: non-finite or out-of-range points are the caller's to refuse."""
    ok = np.ones(lon.shape, dtype=bool)
    inside_allowed = np.zeros(lon.shape, dtype=bool)
    limits = zone_limits or {}
    limit = np.full(lon.shape, np.inf)
    for r in regions:
        hit = r.contains(lon, lat)
        if r.name in forbidden:
            ok &= ~hit
        if r.name in allowed:
            inside_allowed |= hit
        if r.latency_zone in limits:
            limit = np.where(hit, np.minimum(limit, limits[r.latency_zone]), limit)
    if allowed:
        ok &= inside_allowed
    within: NDArray[np.bool_] = np.asarray(latency_ms).reshape(-1, *([1] * lon.ndim)) <= limit[None]
    return ok[None] & within


def strictest_zones(
    regions: Sequence[Region], zone_limits: Sequence[float], zone_of_region: Sequence[int],
    lon: NDArray[np.float64], lat: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Per point, the index of the strictest zone among the regions containing it (-1 when none has a zone).

    ``zone_of_region[i]`` is region i's zone index into ``zone_limits`` (-1: none). Of two zones with the
    same limit the earlier region's wins (equally strict, so the limit that applies is the same).
    """
    best = np.full(lon.shape, np.inf)
    out = np.full(lon.shape, -1, dtype=np.int64)
    for region, zone in zip(regions, zone_of_region, strict=True):
        if zone < 0:
            continue
        stricter = region.contains(lon, lat) & (zone_limits[zone] < best)
        best[stricter] = zone_limits[zone]
        out[stricter] = zone
    return out


__all__ = [
    "FORBIDDEN",
    "LATENCY",
    "OUTSIDE",
    "RAIL",
    "ZONE",
    "SiteRefusal",
    "allowed_sites",
    "containing",
    "site_refusal",
    "strictest_zones",
]
