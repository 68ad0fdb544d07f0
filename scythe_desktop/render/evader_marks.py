"""Where the evader of an adversarial world acted: one marker visual, a symbol and colour per kind of move,
fading with age.

:class:`EvaderMarks` takes lon/lat, move kinds and ages (0 = this tick, 1 = about to vanish) and nothing else;
it knows nothing of recordings or worlds (:mod:`scythe_desktop.console.model.evader_trail` keeps the trail).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from vispy.scene import Node
from vispy.scene.visuals import Markers

from scythe_desktop.core.layout import lonlat_to_unit

#: By move kind (the order of ``engine.batch.evader.MOVE_NAMES`` without "none"): quiet, activate, shift, decoy.
KIND_RGB: Final = np.array([[0.55, 0.65, 0.95], [1.0, 0.25, 0.2], [1.0, 0.65, 0.1], [0.95, 0.3, 0.95]])
KIND_SYMBOL: Final = ("square", "triangle_up", "diamond", "x")


class EvaderMarks:
    """The evader's recent moves as markers above the globe (one visual per kind of move)."""

    def __init__(self, parent: Node) -> None:
        self.visuals = [Markers(parent=parent) for _ in KIND_SYMBOL]
        for v in self.visuals:
            v.order = 16
            v.visible = False
        self.shown = True
        self.count = 0
        self._last: tuple[NDArray[np.floating], NDArray[np.integer], NDArray[np.floating]] = (
            np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0))

    def set_marks(self, lonlat: NDArray[np.floating], kinds: NDArray[np.integer], ages: NDArray[np.floating]) -> None:
        """``lonlat`` (M, 2) degrees, ``kinds`` (M,) in 0..3, ``ages`` (M,) in [0, 1]; none hides them."""
        self._last = (lonlat, kinds, ages)
        self.count = len(lonlat)
        for k, (visual, symbol) in enumerate(zip(self.visuals, KIND_SYMBOL, strict=True)):
            mine = np.flatnonzero(np.asarray(kinds) == k)
            if not mine.size or not self.shown:
                visual.visible = False
                continue
            pos = lonlat_to_unit(lonlat[mine, 0], lonlat[mine, 1], 0.004).astype(np.float32)
            rgba = np.empty((mine.size, 4), dtype=np.float32)
            rgba[:, :3] = KIND_RGB[k]
            rgba[:, 3] = 1.0 - 0.8 * np.clip(ages[mine], 0.0, 1.0)
            visual.set_data(pos, size=13, face_color=rgba, edge_color=(0.0, 0.0, 0.0, 0.8), symbol=symbol)
            visual.visible = True

    def set_shown(self, shown: bool) -> None:
        """The layer's toggle: hidden marks keep no GPU work; shown again, the last marks come back."""
        self.shown = shown
        self.set_marks(*self._last)


__all__ = ["KIND_RGB", "KIND_SYMBOL", "EvaderMarks"]
