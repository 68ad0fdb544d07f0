"""At most one action per world per call, applied to B worlds in array operations.

An :class:`ActionBatch` holds, per world, a kind (:data:`NOOP` … :data:`DECOMMISSION`) and its arguments.
:func:`apply` assumes every action is valid (the single-world :class:`~scythe_desktop.engine.world.World`
validates with reasons first; the RL path applies only what its mask allows) and updates observers, the
spend ledger and the sensing caches. Observer rows stay in id order: a deploy appends, a decommission
moves the later rows up. Knows nothing of rewards or policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.batch.billing import Billing
from scythe_desktop.engine.batch.sensing import Sensing
from scythe_desktop.engine.batch.state import ObserverSlab
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.placement import strictest_zones
from scythe_desktop.engine.scenario import Scenario

NOOP, DEPLOY, RELOCATE, SAMPLING, FOCUS, DECOMMISSION = range(6)
KIND_NAMES: Final = ("noop", "deploy", "relocate", "sampling", "focus", "decommission")


@dataclass
class ActionBatch:
    """One action per world (B,): ``slot`` is the observer row (relocate, sampling, focus, decommission),
    ``lon``/``lat``/``type`` place a deploy or relocation, ``cluster`` is the focused cluster id."""

    kind: NDArray[np.int64]
    slot: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    type: NDArray[np.int64]
    cluster: NDArray[np.int64]

    @classmethod
    def noop(cls, worlds: int) -> ActionBatch:
        z = np.zeros(worlds, dtype=np.int64)
        return cls(z.copy(), z.copy(), np.zeros(worlds), np.zeros(worlds), z.copy(), np.full(worlds, -1))


class RegionLookup:
    """Per point, vectorised: the first region containing it (display, binning) and the latency zone that
    applies to it, the strictest of all containing regions'
    (:func:`~scythe_desktop.engine.placement.strictest_zones`)."""

    def __init__(self, scenario: Scenario) -> None:
        self.regions = scenario.regions
        zones = [z.name for z in scenario.latency_zones]
        self.zone_limits = [z.max_latency_ms for z in scenario.latency_zones]
        self.zone_of_region = [zones.index(r.latency_zone) if zones else -1 for r in scenario.regions]

    def region(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        out = np.full(lon.shape, -1, dtype=np.int64)
        for i in range(len(self.regions) - 1, -1, -1):  # last to first: the first match wins
            out[self.regions[i].contains(lon, lat)] = i
        return out

    def zone(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        return strictest_zones(self.regions, self.zone_limits, self.zone_of_region, lon, lat)


def place(o: ObserverSlab, lookup: RegionLookup, bw: NDArray[np.intp], rows: NDArray[np.intp],
          lon: NDArray[np.float64], lat: NDArray[np.float64]) -> None:
    o.lon[bw, rows], o.lat[bw, rows] = lon, lat
    o.xyz[bw, rows] = unit_vectors(lon, lat).reshape(-1, 3)
    o.region[bw, rows] = lookup.region(lon, lat)
    o.latency_zone[bw, rows] = lookup.zone(lon, lat)


def apply(
    o: ObserverSlab,
    a: ActionBatch,
    *,
    scenario: Scenario,
    lookup: RegionLookup,
    billing: Billing,
    sensing: Sensing,
    tick: NDArray[np.int64],
    next_observer_id: NDArray[np.int64],
) -> None:
    """Apply every world's action (see the module docstring)."""
    kind = a.kind
    dep = np.flatnonzero(kind == DEPLOY)
    if dep.size:
        rows = o.n[dep]
        t = a.type[dep]
        o.id[dep, rows] = next_observer_id[dep]
        next_observer_id[dep] += 1
        place(o, lookup, dep, rows, a.lon[dep], a.lat[dep])
        o.radius[dep, rows] = sensing.type_radius[t]
        o.rate[dep, rows] = billing.type_base_rate[t]
        o.focus[dep, rows] = -1
        o.cost[dep, rows] = billing.type_cost[t]
        o.type[dep, rows] = t
        o.load[dep, rows] = 0.0
        o.deployed_tick[dep, rows] = tick[dep]
        o.n[dep] += 1
        billing.charge(dep, billing.setup_fee[t])
        sensing.mark_rows(dep, rows)
    rel = np.flatnonzero(kind == RELOCATE)
    if rel.size:
        rows = a.slot[rel]
        place(o, lookup, rel, rows, a.lon[rel], a.lat[rel])
        billing.charge(rel, billing.setup_fee[o.type[rel, rows]])
        sensing.mark_rows(rel, rows)
    smp = np.flatnonzero(kind == SAMPLING)
    if smp.size:
        rows = a.slot[smp]
        t = o.type[smp, rows]
        max_rate = np.array([x.max_sampling_rate for x in scenario.observer_types])[t]
        rate = np.minimum(2.0 * o.rate[smp, rows], max_rate)
        o.rate[smp, rows] = rate
        o.cost[smp, rows] = billing.rate_cost(t, rate)
        sensing.mark_rows(smp, rows)
    foc = np.flatnonzero(kind == FOCUS)
    if foc.size:
        rows = a.slot[foc]
        o.focus[foc, rows] = a.cluster[foc]
        sensing.mark_rows(foc, rows)
    dec = np.flatnonzero(kind == DECOMMISSION)
    if dec.size:
        rows = a.slot[dec]
        t = o.type[dec, rows]
        fee = billing.early_exit_charge(t, o.cost[dec, rows], tick[dec] - o.deployed_tick[dec, rows])
        billing.charge(dec, fee)
        o.remove_row(dec, rows)
        sensing.mark_worlds(dec)


__all__ = ["DECOMMISSION", "DEPLOY", "FOCUS", "KIND_NAMES", "NOOP", "RELOCATE", "SAMPLING", "ActionBatch", "apply"]
