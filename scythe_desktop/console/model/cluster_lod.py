"""Which node rows the live globe draws, from the streamed node-to-cluster membership and the LOD tiers.

:class:`ClusterMembership` keeps the cluster of every stable node id (``-1``: not known), fed by MEMBERSHIP
frames (see :mod:`scythe_desktop.core.frames`) and reset by each keyframe; ids survive swap-removes, so a
row's cluster is ``cluster_by_id[swarm.ids[row]]``. :func:`lod_layout` turns that into the rows to draw:
rows of clusters in the ``FIELD_ONLY`` tier are left out (their cluster gets a centroid marker instead),
rows of unknown clusters are drawn (an honest fallback until membership arrives), and a draw budget keeps
every k-th remaining row. Pure numpy: it knows the core layout and the tiers, not Qt or GL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import COL_X, COL_Z, MEMBERSHIP_DTYPE, unit_to_lonlat
from scythe_desktop.render.lod import LodThresholds, LodTier, lod_tiers


class ClusterMembership:
    """The cluster of every node id since the last keyframe."""

    def __init__(self) -> None:
        self._by_id = np.zeros(0, dtype=np.int32)

    def reset(self) -> None:
        """A keyframe reset the ids: nothing is known until its membership arrives."""
        self._by_id = np.zeros(0, dtype=np.int32)

    def apply(self, pairs: np.ndarray, id_limit: int) -> int:
        """Record (node id, cluster) pairs for ids below ``id_limit`` (the swarm's ids so far); later pairs
        for the same id win. Returns how many pairs named an id past the limit (ignored: memory stays
        bounded by the swarm whatever a frame says)."""
        if pairs.dtype != MEMBERSHIP_DTYPE:
            raise ValueError(f"membership must have dtype {MEMBERSHIP_DTYPE}, got {pairs.dtype}")
        ids = pairs["node"].astype(np.int64)
        inside = ids < id_limit
        unknown = int(ids.size - inside.sum())
        if unknown:
            pairs, ids = pairs[inside], ids[inside]
        if not pairs.size:
            return unknown
        top = int(ids.max()) + 1
        if top > len(self._by_id):
            self._by_id = np.concatenate([self._by_id, np.full(top - len(self._by_id), -1, dtype=np.int32)])
        # Fancy assignment does not promise which duplicate wins: keep each id's last pair explicitly.
        _, last = np.unique(ids[::-1], return_index=True)
        keep = len(ids) - 1 - last
        self._by_id[ids[keep]] = pairs["cluster"][keep]
        return unknown

    def of_ids(self, ids: NDArray[np.integer]) -> NDArray[np.int32]:
        """Cluster of each id (``-1`` for ids no membership named)."""
        out = np.full(len(ids), -1, dtype=np.int32)
        known = ids < len(self._by_id)
        out[known] = self._by_id[ids[known]]
        return out


@dataclass(frozen=True)
class LodLayout:
    """The draw selection: ``rows`` to draw (``None``: every row, in place), each cluster's tier and the
    centroids (lon, lat degrees) of the clusters drawn as a marker only."""

    rows: NDArray[np.int64] | None
    tiers: NDArray[np.int64]  # indexed by cluster id; clusters with no rows are FULL
    cluster_of_row: NDArray[np.int32]
    marker_clusters: NDArray[np.int64]
    marker_lonlat: NDArray[np.float64]  # (M, 2)


def lod_layout(nodes: NDArray[np.float32], cluster_of_row: NDArray[np.int32], thresholds: LodThresholds,
               stride: int = 1) -> LodLayout:
    """Rows to draw and markers to show for ``nodes`` whose clusters are ``cluster_of_row``."""
    known = cluster_of_row >= 0
    counts = np.bincount(cluster_of_row[known])
    tiers = lod_tiers(counts, thresholds)
    hidden_cluster = tiers == LodTier.FIELD_ONLY
    hidden = np.zeros(len(cluster_of_row), dtype=bool)
    hidden[known] = hidden_cluster[cluster_of_row[known]]
    markers = np.flatnonzero(hidden_cluster)
    lonlat = np.zeros((len(markers), 2))
    if markers.size:
        # Direction of each hidden cluster's mean position (one weighted bincount per axis).
        mean = np.stack([np.bincount(cluster_of_row[known], weights=nodes[known, c], minlength=len(counts))
                         for c in range(COL_X, COL_Z + 1)], axis=1)[markers]
        lon, lat, _ = unit_to_lonlat(mean)
        lonlat = np.stack([lon, lat], axis=1)
    if not hidden.any() and stride == 1:
        return LodLayout(None, tiers, cluster_of_row, markers, lonlat)
    return LodLayout(np.flatnonzero(~hidden)[::stride], tiers, cluster_of_row, markers, lonlat)


def edge_selection(edges: np.ndarray, layout: LodLayout, thresholds: LodThresholds) -> np.ndarray:
    """Edges whose source cluster draws edges: all of a ``FULL`` cluster's, the ``max_edges`` strongest of
    each ``INSTANCED`` one, none otherwise; edges of rows with unknown clusters are kept."""
    src = edges["src"].astype(np.int64)
    cluster = np.full(len(edges), -1, dtype=np.int64)
    inside = src < len(layout.cluster_of_row)
    cluster[inside] = layout.cluster_of_row[src[inside]]
    tier = np.full(len(edges), int(LodTier.FULL), dtype=np.int64)
    known = cluster >= 0
    tier[known] = layout.tiers[cluster[known]]
    keep = tier == LodTier.FULL
    for c in np.unique(cluster[tier == LodTier.INSTANCED]):
        mine = np.flatnonzero(cluster == c)
        if len(mine) > thresholds.max_edges:
            mine = mine[np.argpartition(-edges["confidence"][mine], thresholds.max_edges - 1)[: thresholds.max_edges]] \
                if thresholds.max_edges else mine[:0]
        keep[mine] = True
    return edges[keep]


__all__ = ["ClusterMembership", "LodLayout", "edge_selection", "lod_layout"]
