"""The globe itself: an opaque sphere, a lat/lon graticule and country outlines from the offline basemap.

The sphere (radius 0.994) and the outline and graticule lines (0.998, just above it) sit inside the unit
sphere, so nodes at radius 1 are never hidden by them while anything on the far side of the Earth is
(depth test). The basemap comes from :mod:`scythe_desktop.render.basemap`; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vispy.scene import Node
from vispy.scene.visuals import Line, Mesh

from scythe_desktop.core.layout import lonlat_to_unit
from scythe_desktop.render.basemap import Basemap, load_basemap
from scythe_desktop.render.geometry import graticule_lines, polylines_to_segments, sphere_mesh

SURFACE_RADIUS = 0.994
LINE_RADIUS = 0.998  # below nodes at radius 1, so outlines never hide a node

OCEAN_RGBA = (0.05, 0.12, 0.22, 1.0)
BORDER_RGBA = (0.55, 0.75, 0.70, 1.0)
GRATICULE_RGBA = (0.25, 0.35, 0.50, 1.0)


class Globe:
    """Sphere, graticule and borders under ``parent``; each part can be shown or hidden.

    Parameters
    ----------
    parent : scene node (normally :attr:`GlobeScene.root`)
    basemap : Basemap, path or None
        Country outlines; ``None`` loads the shipped Natural Earth 1:110m file.
    graticule_step : float
        Degrees between graticule lines.
    """

    def __init__(self, parent: Node, basemap: Basemap | str | Path | None = None, graticule_step: float = 30.0) -> None:
        self.basemap = basemap if isinstance(basemap, Basemap) else load_basemap(basemap)
        pos, _, faces = sphere_mesh(SURFACE_RADIUS, n_lon=72, n_lat=36)
        self.surface = Mesh(vertices=pos, faces=faces, color=OCEAN_RGBA, parent=parent)
        self.surface.order = -20  # opaque, first
        self.surface.set_gl_state("opaque", depth_test=True, cull_face=False)

        grat_lonlat, grat_offsets = graticule_lines(graticule_step)
        self.graticule = Line(
            pos=lonlat_to_unit(grat_lonlat[:, 0], grat_lonlat[:, 1], LINE_RADIUS - 1.0).astype(np.float32),
            connect=polylines_to_segments(grat_lonlat, grat_offsets),
            color=GRATICULE_RGBA,
            method="gl",
            antialias=False,
            parent=parent,
        )
        self.graticule.order = -19

        b = self.basemap
        self.borders = Line(
            pos=lonlat_to_unit(b.lonlat[:, 0], b.lonlat[:, 1], LINE_RADIUS - 1.0).astype(np.float32),
            connect=polylines_to_segments(b.lonlat, b.offsets),
            color=BORDER_RGBA,
            method="gl",
            antialias=False,
            parent=parent,
        )
        self.borders.order = -18

    @property
    def show_graticule(self) -> bool:
        return bool(self.graticule.visible)

    @show_graticule.setter
    def show_graticule(self, value: bool) -> None:
        self.graticule.visible = bool(value)

    @property
    def show_borders(self) -> bool:
        return bool(self.borders.visible)

    @show_borders.setter
    def show_borders(self, value: bool) -> None:
        self.borders.visible = bool(value)


__all__ = ["BORDER_RGBA", "GRATICULE_RGBA", "OCEAN_RGBA", "Globe"]
