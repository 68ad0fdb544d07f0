"""Immutable snapshots the workers hand to the GUI thread: cluster rows, observer rows, proposals, metrics.

Workers build these off the GUI thread (copies, never views of live engine or wire state) and send them
through queued signals; each carries the ``generation`` (stream seq or request counter) it answers, so the
GUI can drop a stale one. The record dtypes are what the clusters and observers docks show. Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.protocol.world_wire import ObserverInfo, ObserverList
from scythe_desktop.render.lod import LodThresholds, lod_tiers

#: One row of the clusters dock (the orchestrator's cluster table, trimmed, plus the LOD tier it is drawn at).
CLUSTER_ROW_DTYPE: Final = np.dtype(
    [
        ("id", "<i8"),
        ("node_count", "<i8"),
        ("state", "<i4"),
        ("entropy", "<f8"),
        ("silence_pressure", "<f8"),
        ("coherence", "<f8"),
        ("asn", "<i8"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("lod", "<i8"),
    ]
)

#: One row of the observers dock (from the orchestrator's ``ObserverList``).
OBSERVER_DTYPE: Final = np.dtype(
    [
        ("observer_id", "<i8"),
        ("observer_type", "U24"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("sampling_rate", "<f8"),
        ("focus_cluster", "<i8"),
        ("cost_per_hour", "<f8"),
        ("load", "<f8"),
        ("status", "U16"),
    ]
)


def cluster_rows(table: np.ndarray, thresholds: LodThresholds | None = None) -> np.ndarray:
    """A :data:`CLUSTER_ROW_DTYPE` copy of a cluster table (``GetClusterTable`` rows, or any array with those
    columns), with each cluster's LOD tier."""
    rows = np.zeros(len(table), dtype=CLUSTER_ROW_DTYPE)
    for name in CLUSTER_ROW_DTYPE.names or ():
        if name != "lod":
            rows[name] = table[name]
    rows["lod"] = lod_tiers(rows["node_count"], thresholds)
    rows.flags.writeable = False
    return rows


def observer_rows(observers: ObserverList | Iterable[ObserverInfo]) -> np.ndarray:
    """A :data:`OBSERVER_DTYPE` array from the orchestrator's observer list (or its observers)."""
    items = list(observers.observers if isinstance(observers, ObserverList) else observers)
    rows = np.zeros(len(items), dtype=OBSERVER_DTYPE)
    for i, o in enumerate(items):
        rows[i] = (o.observer_id, o.observer_type, o.lon, o.lat, o.sampling_rate, o.focus_cluster,
                   o.cost_per_hour, o.load, o.status)
    rows.flags.writeable = False
    return rows


@dataclass(frozen=True, slots=True)
class WorldSnapshot:
    """What the policy worker saw and proposed at one tick."""

    generation: int
    tick: int
    clusters: np.ndarray  # CLUSTER_ROW_DTYPE
    proposals: tuple[Proposal, ...]
    metrics: dict[str, float]
    problem: str = ""  # what went wrong producing it (e.g. the policy failed), for the status bar
    #: Uncertainty-gradient drift at each observer: rows of (lon, lat, d_lon, d_lat) in degrees, scaled for
    #: display (the direction an observer would drift toward more ambiguity).
    drift: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    #: The policy has not been asked yet (the console asks only once its first frame is on screen).
    proposals_pending: bool = False
    #: An adversarial world's evader ("" without one) and its moves of the orchestrator's window:
    #: (tick, kind, cluster id, lon, lat), oldest first.
    evader: str = ""
    evader_moves: tuple[tuple[int, str, int, float, float], ...] = ()


__all__ = ["CLUSTER_ROW_DTYPE", "OBSERVER_DTYPE", "WorldSnapshot", "cluster_rows", "observer_rows"]
