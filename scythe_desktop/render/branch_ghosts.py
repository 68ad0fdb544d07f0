"""The other future's observers: hollow orange rings above the globe, where a what-if branch (or its parent)
has its observers at the moment on screen.

:class:`BranchGhosts` takes lon/lat and nothing else; it knows nothing of recordings
(:mod:`scythe_desktop.console.model.branch_view` keeps the track).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from vispy.scene import Node
from vispy.scene.visuals import Markers

from scythe_desktop.core.layout import lonlat_to_unit

GHOST_RGBA: Final = (1.0, 0.6, 0.15, 0.9)


class BranchGhosts:
    def __init__(self, parent: Node) -> None:
        self.visual = Markers(parent=parent)
        self.visual.order = 15
        self.visual.visible = False
        self.count = 0

    def set_positions(self, lonlat: NDArray[np.floating]) -> None:
        """``lonlat`` (K, 2) degrees; none hides the layer (no GPU work)."""
        self.count = len(lonlat)
        if not self.count:
            self.visual.visible = False
            return
        pos = lonlat_to_unit(lonlat[:, 0], lonlat[:, 1], 0.006).astype(np.float32)
        self.visual.set_data(pos, size=16, face_color=(0.0, 0.0, 0.0, 0.0), edge_color=GHOST_RGBA, edge_width=2.0,
                             symbol="disc")
        self.visual.visible = True


__all__ = ["GHOST_RGBA", "BranchGhosts"]
