"""One world's rows of a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch`, as 1-D views.

:class:`ClusterRows` and :class:`ObserverRows` are the live rows ``[0, n)`` of one world slot: numpy views
(no copies) of the batch's columns, so reading them is free and they always show the current state of
the slot until the next step. Node emission, fields, information gain and the public tables read these
instead of the padded (B, C) arrays. Knows nothing of policies or the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import CLUSTER_DTYPE, STATE_THREAT, coherence
from scythe_desktop.engine.observers import OBSERVER_DTYPE


@dataclass(frozen=True)
class ClusterRows:
    id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    xyz: NDArray[np.float64]  # (n, 3)
    b: NDArray[np.float64]  # (4, n)
    node_count: NDArray[np.int64]
    asn: NDArray[np.int64]
    state: NDArray[np.int64]
    silence: NDArray[np.float64]
    spread_km: NDArray[np.float64]
    region_occlusion: NDArray[np.float64]
    node_seed: NDArray[np.int64]
    mu: NDArray[np.float64]
    var: NDArray[np.float64]
    agreement: NDArray[np.float64]
    volatility: NDArray[np.float64]
    confidence: NDArray[np.float64]
    detected: NDArray[np.bool_]
    coverage: NDArray[np.float64]
    entropy: NDArray[np.float64]
    h_state: NDArray[np.float64]

    @classmethod
    def of(cls, batch: WorldBatch, slot: int) -> ClusterRows:
        c = batch.clusters
        n = int(c.n[slot])
        names = [f for f in cls.__dataclass_fields__ if f not in ("xyz", "b")]
        cols = {k: getattr(c, k)[slot, :n] for k in names}
        return cls(xyz=c.xyz[slot, :n], b=c.b[slot, :, :n], **cols)

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def table(self) -> NDArray[np.void]:
        """The public cluster table (CLUSTER_DTYPE)."""
        t = np.zeros(len(self), dtype=CLUSTER_DTYPE)
        t["id"] = self.id
        t["lon"] = self.lon
        t["lat"] = self.lat
        t["node_count"] = self.node_count
        t["silence_pressure"] = self.silence
        t["coherence"] = coherence(self.state, self.silence)
        t["entropy"] = self.entropy
        t["asn"] = self.asn
        t["state"] = self.state
        t["agreement"] = self.agreement
        t["ambiguity"] = self.h_state / 2.0 * (1.0 - self.agreement)
        t["volatility"] = self.volatility
        t["coverage_deficit"] = 1.0 - self.coverage
        t["detected"] = self.detected
        t["confidence"] = self.confidence
        t["belief"] = self.b.T
        t["believed_count"] = np.exp(self.mu)
        t["spread_km"] = self.spread_km
        t["threat"] = STATE_THREAT[self.state]
        return t


@dataclass(frozen=True)
class ObserverRows:
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

    @classmethod
    def of(cls, batch: WorldBatch, slot: int) -> ObserverRows:
        o = batch.observers
        n = int(o.n[slot])
        return cls(**{k: getattr(o, k)[slot, :n] for k in cls.__dataclass_fields__})

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def table(self) -> NDArray[np.void]:
        """The public observer table (OBSERVER_DTYPE)."""
        t = np.zeros(len(self), dtype=OBSERVER_DTYPE)
        t["id"] = self.id
        t["lon"] = self.lon
        t["lat"] = self.lat
        t["coverage_radius_km"] = self.radius
        t["load"] = self.load
        t["sampling_rate"] = self.rate
        t["focus_cluster"] = self.focus
        t["cost_per_hour"] = self.cost
        t["region"] = self.region
        t["latency_zone"] = self.latency_zone
        t["type"] = self.type
        return t


__all__ = ["ClusterRows", "ObserverRows"]
