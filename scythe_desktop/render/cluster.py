"""One cluster on the globe: its nodes, edges, volumetric field and centroid, drawn as its LOD tier says.

:class:`ClusterLayer` is the adapter the UI keeps per cluster. It takes the cluster's node buffer
(keyframes via :meth:`ClusterLayer.set_snapshot`, deltas via :meth:`ClusterLayer.apply_rows` with the rows
``NodeSwarm.apply_delta`` returned), its edges and, optionally, its field, and shows only what the tier
allows (see :mod:`scythe_desktop.render.lod`). :class:`CentroidMarkers` is the one marker visual the live
globe uses for every cluster drawn as ``FIELD_ONLY``. It knows nothing about where the buffers came from.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from vispy.scene import Node
from vispy.scene.visuals import Markers

from scythe_desktop.core.layout import EDGE_DTYPE, check_node_buffer, lonlat_to_unit
from scythe_desktop.render.edges import Edges
from scythe_desktop.render.fields import FieldBox, VolumeField
from scythe_desktop.render.lod import LodPlan, LodThresholds, cluster_centroid, lod_plan, strongest_edges
from scythe_desktop.render.nodes import Nodes, UploadKind

CENTROID_RGBA = (1.0, 1.0, 1.0, 0.9)


class ClusterLayer:
    """The visuals of one cluster under ``parent``, switched by LOD tier.

    Parameters
    ----------
    parent : scene node (normally :attr:`GlobeScene.root`)
    thresholds : LodThresholds
        Node counts at which the tier changes.
    """

    def __init__(self, parent: Node, thresholds: LodThresholds | None = None) -> None:
        self.thresholds = thresholds or LodThresholds()
        self.nodes = Nodes(parent=parent)
        self.edges = Edges(parent)
        self.field = VolumeField(parent)
        self.centroid = Markers(parent=parent)
        self.centroid.order = 15
        self._all_edges = np.zeros(0, EDGE_DTYPE)
        self._has_field = False
        self._plan = lod_plan(0, self.thresholds)
        self._apply_plan()

    @property
    def plan(self) -> LodPlan:
        """What the cluster draws now (``plan.tier`` is the tier to show in the clusters dock)."""
        return self._plan

    @property
    def node_count(self) -> int:
        return self.nodes.count

    def set_thresholds(self, thresholds: LodThresholds) -> None:
        self.thresholds = thresholds
        self._replan(force=True)

    def set_snapshot(self, nodes: NDArray[np.float32], edges: NDArray[np.void] | None = None) -> None:
        """A keyframe: the whole node buffer (and the edges between its rows, if known)."""
        self.nodes.set_nodes(nodes)
        if edges is not None:
            if edges.dtype != EDGE_DTYPE:
                raise ValueError(f"edges must have dtype {EDGE_DTYPE}, got {edges.dtype}")
            self._all_edges = edges
        self._replan(force=True)

    def apply_rows(self, nodes: NDArray[np.float32], rows: NDArray[np.integer]) -> UploadKind:
        """A delta: ``nodes`` after the change and the rows that changed; returns how it was uploaded."""
        kind = self.nodes.update_rows(nodes, rows)
        self._replan(force=kind == "full" or rows.size > 0)
        return kind

    def set_field(self, field: NDArray[np.float32], box: FieldBox | None = None) -> None:
        """The cluster's volumetric field (shown from the ``VOLUME`` tier up)."""
        self.field.set_field(field, box)
        self._has_field = True
        self._apply_plan()

    def _replan(self, force: bool) -> None:
        plan = lod_plan(self.nodes.count, self.thresholds)
        if plan != self._plan or force:
            self._plan = plan
            self._apply_plan()

    def _apply_plan(self) -> None:
        plan, nodes = self._plan, self.nodes.nodes
        self.nodes.visible = plan.draw_nodes and self.nodes.count > 0
        if plan.draw_edges and nodes is not None and self._all_edges.size:
            in_range = (self._all_edges["src"] < nodes.shape[0]) & (self._all_edges["dst"] < nodes.shape[0])
            self.edges.set_edges(nodes, strongest_edges(self._all_edges[in_range], plan.edge_limit))
            self.edges.visible = True
        else:
            self.edges.visible = False
        self.field.visible = plan.draw_field and self._has_field
        if plan.draw_centroid and nodes is not None and self.nodes.count:
            check_node_buffer(nodes)
            try:
                lon, lat = cluster_centroid(nodes)
            except ValueError:  # nodes all around the globe: no meaningful centroid to mark
                self.centroid.visible = False
                return
            pos = lonlat_to_unit([lon], [lat], 0.003).astype(np.float32)
            self.centroid.set_data(pos, size=14, face_color=CENTROID_RGBA, edge_color="black", symbol="ring")
            self.centroid.visible = True
        else:
            self.centroid.visible = False


class CentroidMarkers:
    """Centroid rings of the clusters that draw no nodes (one visual for all of them)."""

    def __init__(self, parent: Node) -> None:
        self.markers = Markers(parent=parent)
        self.markers.order = 15
        self.markers.visible = False
        self.count = 0

    def set_centroids(self, lonlat: NDArray[np.floating]) -> None:
        """``lonlat`` (M, 2) degrees; none hides the visual."""
        self.count = len(lonlat)
        if not self.count:
            self.markers.visible = False
            return
        pos = lonlat_to_unit(lonlat[:, 0], lonlat[:, 1], 0.003).astype(np.float32)
        self.markers.set_data(pos, size=14, face_color=CENTROID_RGBA, edge_color="black", symbol="ring")
        self.markers.visible = True


__all__ = ["CentroidMarkers", "ClusterLayer"]
