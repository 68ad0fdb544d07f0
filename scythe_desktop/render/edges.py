"""Edges of one cluster as line segments between node rows, with confidence as alpha.

Edge counts are bounded by the LOD tiers (all edges below 100 nodes, the strongest few up to 300, none
above), so gathering the two endpoint positions per edge on the CPU is cheap and keeps the node buffer
untouched. Takes the (N, 6) node buffer and an ``EDGE_DTYPE`` array; knows nothing of their source.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from vispy.scene import Node
from vispy.scene.visuals import Line

from scythe_desktop.core.layout import COL_X, COL_Z, EDGE_DTYPE, check_node_buffer

EDGE_RGB = (0.75, 0.85, 1.0)


class Edges:
    """Line segments for one cluster's edges under ``parent``.

    ``min_alpha`` keeps zero-confidence edges faintly visible; alpha is
    ``min_alpha + (1 - min_alpha) * confidence`` with confidence clipped to [0, 1].
    """

    def __init__(self, parent: Node, rgb: tuple[float, float, float] = EDGE_RGB, min_alpha: float = 0.08) -> None:
        self.rgb = rgb
        self.min_alpha = min_alpha
        self.line = Line(method="gl", antialias=False, connect="segments", parent=parent)
        self.line.set_gl_state("translucent", depth_test=True)
        self.line.order = 2  # after opaque nodes so depth hides edges behind the globe
        self.line.visible = False
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    @property
    def visible(self) -> bool:
        return bool(self.line.visible)

    @visible.setter
    def visible(self, value: bool) -> None:
        self.line.visible = bool(value) and self._count > 0

    def set_edges(self, nodes: NDArray[np.float32], edges: NDArray[np.void]) -> None:
        """Draw ``edges`` between rows of ``nodes``; raises ``ValueError`` naming a row out of range."""
        check_node_buffer(nodes)
        if edges.dtype != EDGE_DTYPE:
            raise ValueError(f"edges must have dtype {EDGE_DTYPE}, got {edges.dtype}")
        self._count = int(edges.shape[0])
        if self._count == 0:
            self.line.visible = False
            return
        ends = np.stack([edges["src"], edges["dst"]], axis=1).reshape(-1).astype(np.int64)
        if ends.max() >= nodes.shape[0]:
            i = int(np.flatnonzero(ends >= nodes.shape[0])[0]) // 2
            raise ValueError(
                f"edge {i} joins rows {int(edges['src'][i])}->{int(edges['dst'][i])}, "
                f"but the cluster has {nodes.shape[0]} nodes"
            )
        alpha = self.min_alpha + (1.0 - self.min_alpha) * np.clip(edges["confidence"], 0.0, 1.0)
        colors = np.empty((ends.size, 4), dtype=np.float32)
        colors[:, :3] = self.rgb
        colors[:, 3] = np.repeat(alpha, 2)
        self.line.set_data(pos=nodes[ends, COL_X : COL_Z + 1], color=colors, connect="segments")
        self.line.visible = True


__all__ = ["EDGE_RGB", "Edges"]
