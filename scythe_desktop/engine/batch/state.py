"""The struct-of-arrays state of B worlds: cluster rows padded to a capacity, observer rows padded to the
instance cap, one leading world axis on every array.

Rows ``[0, n[b])`` of world ``b`` are its tracked clusters (ghosts included) in id order, exactly the rows
the single-world table shows; rows past ``n[b]`` are padding, kept inert (no nodes, zero detection, a
"gone" belief, zero entropy) so that whole-row array operations never need a branch. Observers work the
same way with ``n_obs``. Removing rows (dropped ghosts, a decommission) moves the later rows up in one
gather, so row order stays id order. This module holds layout only: no dynamics, no sensing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.scenario import Scenario

N_STATES: Final = 4
GHOST_STATE: Final = 3

# name -> (dtype, padding value, trailing shape); xyz and b have extra axes (see ClusterSlab).
_CLUSTER_COLUMNS: Final = {
    "id": (np.int64, -1),
    "lon": (np.float64, 0.0),
    "lat": (np.float64, 0.0),
    "node_count": (np.int64, 0),
    "asn": (np.int64, 0),
    "state": (np.int64, GHOST_STATE),
    "activation_left": (np.int64, -1),
    "silence": (np.float64, 1.0),
    "spread_km": (np.float64, 1.0),
    "region_occlusion": (np.float64, 0.0),
    "node_seed": (np.int64, 0),
    "mu": (np.float64, 0.0),
    "var": (np.float64, 1.0),
    "agreement": (np.float64, 0.5),
    "volatility": (np.float64, 0.0),
    "majority": (np.int64, -1),
    "confidence": (np.float64, 1.0),
    "detected": (np.bool_, False),
    "coverage": (np.float64, 0.0),
    "entropy": (np.float64, 0.0),
    "h_state": (np.float64, 0.0),
    # Episode memory of the reward (first detection, activation caught): carried with the rows.
    "ever_detected": (np.bool_, False),
    "credited": (np.bool_, False),
    # Ground truth the defender never reads: a decoy of the evader, and whether the cluster's current
    # activation has been seen yet (caught early) — the engine's tally of activations caught and evaded.
    "decoy": (np.bool_, False),
    "seen_activating": (np.bool_, False),
}

_OBSERVER_COLUMNS: Final = {
    "id": (np.int64, -1),
    "lon": (np.float64, 0.0),
    "lat": (np.float64, 0.0),
    "radius": (np.float64, 1.0),
    "load": (np.float64, 0.0),
    "rate": (np.float64, 1.0),
    "focus": (np.int64, -1),
    "cost": (np.float64, 0.0),
    "region": (np.int64, -1),
    "latency_zone": (np.int64, -1),
    "type": (np.int64, 0),
    "deployed_tick": (np.int64, 0),
}


def cluster_capacity(scenario: Scenario) -> int:
    """Cluster rows per world: the live cap plus room for ghosts (half of it, at least 8). A spawn that
    finds no free row is skipped; the figure depends on the scenario only, never on the batch."""
    m = scenario.clusters.max_count
    return m + max(8, m // 2)


def _padded(columns: Mapping[str, tuple[Any, Any]], worlds: int, capacity: int) -> dict[str, np.ndarray]:
    """Every column filled with its padding value, plus unit vectors at the north pole and n = 0."""
    cols: dict[str, np.ndarray] = {k: np.full((worlds, capacity), pad, dtype=dt) for k, (dt, pad) in columns.items()}
    cols["xyz"] = np.zeros((worlds, capacity, 3))
    cols["xyz"][..., 2] = 1.0
    cols["n"] = np.zeros(worlds, dtype=np.int64)
    return cols


class _Rows:
    """Row bookkeeping shared by the slabs: rows [0, n[b]) of world b are live. ``len`` is the length of
    the leading axis: worlds for a batch, rows for one world's 1-D views."""

    id: NDArray[np.int64]
    n: NDArray[np.int64]

    @property
    def capacity(self) -> int:
        return int(self.id.shape[-1])

    def valid(self) -> NDArray[np.bool_]:
        return np.arange(self.capacity) < self.n[:, None]

    def __len__(self) -> int:
        return int(self.id.shape[0])


@dataclass
class ClusterSlab(_Rows):
    """Cluster columns, each (B, C); ``xyz`` is (B, C, 3) and the state belief ``b`` is (B, 4, C)."""

    n: NDArray[np.int64]
    id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    xyz: NDArray[np.float64]
    b: NDArray[np.float64]
    node_count: NDArray[np.int64]
    asn: NDArray[np.int64]
    state: NDArray[np.int64]
    activation_left: NDArray[np.int64]
    silence: NDArray[np.float64]
    spread_km: NDArray[np.float64]
    region_occlusion: NDArray[np.float64]
    node_seed: NDArray[np.int64]
    mu: NDArray[np.float64]
    var: NDArray[np.float64]
    agreement: NDArray[np.float64]
    volatility: NDArray[np.float64]
    majority: NDArray[np.int64]
    confidence: NDArray[np.float64]
    detected: NDArray[np.bool_]
    coverage: NDArray[np.float64]
    entropy: NDArray[np.float64]
    h_state: NDArray[np.float64]
    ever_detected: NDArray[np.bool_]
    credited: NDArray[np.bool_]
    decoy: NDArray[np.bool_]
    seen_activating: NDArray[np.bool_]

    @classmethod
    def empty(cls, worlds: int, capacity: int) -> ClusterSlab:
        b = np.zeros((worlds, N_STATES, capacity))
        b[:, GHOST_STATE] = 1.0
        return cls(b=b, **_padded(_CLUSTER_COLUMNS, worlds, capacity))

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def pad(self, rows: NDArray[np.bool_]) -> None:
        """Reset the (B, C) cells marked in ``rows`` to padding."""
        for k, (_, pad) in _CLUSTER_COLUMNS.items():
            getattr(self, k)[rows] = pad
        self.xyz[rows] = (0.0, 0.0, 1.0)
        self.b.transpose(0, 2, 1)[rows] = (0.0, 0.0, 0.0, 1.0)

    def remove(self, worlds: NDArray[np.intp], drop: NDArray[np.bool_]) -> None:
        """Drop the rows marked in ``drop`` (len(worlds), C) of ``worlds``; later rows move up."""
        order = np.argsort(drop, axis=1, kind="stable")  # kept rows first, in their order
        w = worlds[:, None]
        for k in _CLUSTER_COLUMNS:
            col = getattr(self, k)
            col[worlds] = col[w, order]
        self.xyz[worlds] = self.xyz[w, order]
        self.b[worlds] = np.take_along_axis(self.b[worlds], order[:, None, :], axis=2)
        self.n[worlds] -= drop.sum(axis=1)
        gone = np.zeros((len(self.n), self.capacity), dtype=bool)
        gone[worlds] = np.arange(self.capacity) >= self.n[worlds][:, None]
        self.pad(gone)


@dataclass
class ObserverSlab(_Rows):
    """Observer columns, each (B, O); ``xyz`` is (B, O, 3). ``extra`` holds per-observer arrays of other
    layers (e.g. the RL grid's per-cell footprint, (B, O, K)) that must move with the rows."""

    n: NDArray[np.int64]
    id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    xyz: NDArray[np.float64]
    radius: NDArray[np.float64]
    load: NDArray[np.float64]
    rate: NDArray[np.float64]
    focus: NDArray[np.int64]
    cost: NDArray[np.float64]
    region: NDArray[np.int64]
    latency_zone: NDArray[np.int64]
    type: NDArray[np.int64]
    deployed_tick: NDArray[np.int64]
    extra: dict[str, np.ndarray]

    @classmethod
    def empty(cls, worlds: int, capacity: int) -> ObserverSlab:
        return cls(extra={}, **_padded(_OBSERVER_COLUMNS, worlds, capacity))

    def columns(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("n", *_OBSERVER_COLUMNS, "xyz")}

    def remove_row(self, worlds: NDArray[np.intp], rows: NDArray[np.intp]) -> None:
        """Remove one row per listed world (``rows[i]`` of ``worlds[i]``); later rows move up."""
        if worlds.size == 0:
            return
        j = np.arange(self.capacity)
        src = np.minimum(j + (j >= rows[:, None]), self.capacity - 1)  # (W, O)
        w = worlds[:, None]
        for k in _OBSERVER_COLUMNS:
            col = getattr(self, k)
            col[worlds] = col[w, src]
        self.xyz[worlds] = self.xyz[w, src]
        for arr in self.extra.values():
            arr[worlds] = arr[w, src]
        self.n[worlds] -= 1
        last = self.n[worlds]
        for k, (_, pad) in _OBSERVER_COLUMNS.items():
            getattr(self, k)[worlds, last] = pad
        self.xyz[worlds, last] = (0.0, 0.0, 1.0)
        for arr in self.extra.values():
            arr[worlds, last] = 0.0


__all__ = ["GHOST_STATE", "N_STATES", "ClusterSlab", "ObserverSlab", "cluster_capacity"]
