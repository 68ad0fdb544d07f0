"""One world's rows of a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch`, as 1-D views.

:class:`ClusterRows` and :class:`ObserverRows` are the live rows ``[0, n)`` of one world slot: the batch's
own slab types holding 1-D numpy views (no copies) of its columns, so reading them is free and they always
show the current state of the slot until the next step. Node emission, fields, information gain and the
public tables read these instead of the padded (B, C) arrays. Knows nothing of policies or the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.batch.state import ClusterSlab, ObserverSlab
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import CLUSTER_DTYPE, STATE_THREAT, coherence
from scythe_desktop.engine.observers import OBSERVER_DTYPE


@dataclass
class ClusterRows(ClusterSlab):
    """The cluster columns of one world: 1-D views ``[slot, :n]`` (``xyz`` (n, 3), ``b`` (4, n))."""

    @classmethod
    def of(cls, batch: WorldBatch, slot: int) -> ClusterRows:
        c = batch.clusters
        n = int(c.n[slot])
        cols = {k: v[slot, :n] for k, v in c.columns().items() if k not in ("n", "b")}
        return cls(n=c.n[slot], b=c.b[slot, :, :n], **cols)

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


@dataclass
class ObserverRows(ObserverSlab):
    """The observer columns of one world: 1-D views ``[slot, :n]`` (``xyz`` (n, 3))."""

    @classmethod
    def of(cls, batch: WorldBatch, slot: int) -> ObserverRows:
        o = batch.observers
        n = int(o.n[slot])
        cols = {k: v[slot, :n] for k, v in o.columns().items() if k != "n"}
        return cls(n=o.n[slot], extra={}, **cols)

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
