"""Centroid rings of the clusters the globe draws as ``FIELD_ONLY`` (no nodes): one marker visual for all.

:class:`CentroidMarkers` takes the centroids' lon/lat and nothing else; it knows nothing about where they came
from (see :mod:`scythe_desktop.render.lod` for the tiers).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from vispy.scene import Node
from vispy.scene.visuals import Markers

from scythe_desktop.core.layout import lonlat_to_unit

CENTROID_RGBA = (1.0, 1.0, 1.0, 0.9)


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


__all__ = ["CENTROID_RGBA", "CentroidMarkers"]
