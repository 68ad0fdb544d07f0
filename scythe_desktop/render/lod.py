"""Level-of-detail tiers per cluster, decided from node counts with numpy alone.

Software GL pays per vertex, so what a cluster draws depends on how many nodes it has:

======================  ===========================================================
nodes                   drawn
======================  ===========================================================
``< instanced``  (100)  every node and every edge (tier ``FULL``)
``< volume``     (300)  instanced nodes and only the highest-confidence edges (``INSTANCED``)
``< field_only`` (700)  instanced nodes and the volumetric field, no edges (``VOLUME``)
otherwise               the volumetric field and one centroid marker (``FIELD_ONLY``)
======================  ===========================================================

This module decides; the scene adapters obey. It imports no GL so it is tested without a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scythe_desktop.core.layout import COL_X, COL_Z, EDGE_DTYPE, check_node_buffer, unit_to_lonlat


class LodTier(IntEnum):
    FULL = 0
    INSTANCED = 1
    VOLUME = 2
    FIELD_ONLY = 3


@dataclass(frozen=True)
class LodThresholds:
    """Node counts at which a cluster enters the next tier, and the edge budget of ``INSTANCED``."""

    instanced: int = 100
    volume: int = 300
    field_only: int = 700
    max_edges: int = 256

    def __post_init__(self) -> None:
        if not 0 < self.instanced <= self.volume <= self.field_only:
            raise ValueError(
                "LOD thresholds must satisfy 0 < instanced <= volume <= field_only, got "
                f"instanced={self.instanced}, volume={self.volume}, field_only={self.field_only}"
            )
        if self.max_edges < 0:
            raise ValueError(f"max_edges must be >= 0, got {self.max_edges}")


@dataclass(frozen=True)
class LodPlan:
    """What one cluster draws. ``edge_limit`` is ``None`` for all edges."""

    tier: LodTier
    draw_nodes: bool
    draw_edges: bool
    edge_limit: int | None
    draw_field: bool
    draw_centroid: bool


def lod_tiers(node_counts: ArrayLike, thresholds: LodThresholds | None = None) -> NDArray[np.int64]:
    """Tier (as :class:`LodTier` values) of every cluster, from its node count."""
    t = thresholds or LodThresholds()
    counts = np.asarray(node_counts)
    if counts.size and (counts < 0).any():
        raise ValueError(f"node counts must be >= 0, got {int(counts.min())}")
    edges = np.array([t.instanced, t.volume, t.field_only])
    return np.searchsorted(edges, counts, side="right").astype(np.int64)


def lod_plan(node_count: int, thresholds: LodThresholds | None = None) -> LodPlan:
    """The drawing plan of one cluster with ``node_count`` nodes."""
    t = thresholds or LodThresholds()
    tier = LodTier(int(lod_tiers([node_count], t)[0]))
    return LodPlan(
        tier=tier,
        draw_nodes=tier < LodTier.FIELD_ONLY,
        draw_edges=tier <= LodTier.INSTANCED,
        edge_limit=t.max_edges if tier == LodTier.INSTANCED else None,
        draw_field=tier >= LodTier.VOLUME,
        draw_centroid=tier == LodTier.FIELD_ONLY,
    )


def strongest_edges(edges: NDArray[np.void], limit: int | None) -> NDArray[np.void]:
    """The ``limit`` highest-confidence edges (all of them when ``limit`` is ``None``), in input order."""
    if edges.dtype != EDGE_DTYPE:
        raise ValueError(f"edges must have dtype {EDGE_DTYPE}, got {edges.dtype}")
    if limit is None or edges.shape[0] <= limit:
        return edges
    if limit <= 0:
        return edges[:0]
    keep = np.argpartition(-edges["confidence"], limit - 1)[:limit]
    return edges[np.sort(keep)]


def cluster_centroid(nodes: NDArray[np.float32]) -> tuple[float, float]:
    """Longitude and latitude (degrees) of the direction of the mean node position."""
    check_node_buffer(nodes)
    if nodes.shape[0] == 0:
        raise ValueError("cannot take the centroid of an empty cluster")
    mean = nodes[:, COL_X : COL_Z + 1].astype(np.float64).mean(axis=0)
    if not np.linalg.norm(mean) > 1e-9:
        raise ValueError("cluster nodes are spread around the globe: their centroid direction is undefined")
    lon, lat, _ = unit_to_lonlat(mean)
    return float(lon), float(lat)


__all__ = [
    "LodPlan",
    "LodThresholds",
    "LodTier",
    "cluster_centroid",
    "lod_plan",
    "lod_tiers",
    "strongest_edges",
]
