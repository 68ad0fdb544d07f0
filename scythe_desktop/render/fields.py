"""Scalar fields on the globe: a volumetric field as a 3-D texture and lon/lat grids draped on the sphere.

:class:`VolumeField` shows an (S, S, S) float32 field in an axis-aligned cube of globe coordinates with
VisPy's ``Volume`` visual; the float data goes to the GPU as is (``texture_format='auto'``), so setting
a field costs no CPU rescaling; the colour limits and threshold are shader uniforms. :class:`GridLayers`
keeps the 2-D (H, W) lon/lat grids (coverage, occlusion, uncertainty; row 0 north, column 0 at lon -180°,
the engine's and the wire's layout) as float textures on a sphere shell
(radius 0.999: above the outlines, below nodes at radius 1), one shown at a time; the colormap is applied
in the fragment shader.

The module takes arrays and a box; it does not know which engine computed them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from vispy import gloo
from vispy.color import get_colormap
from vispy.scene import Node
from vispy.scene.visuals import Volume, create_visual_node
from vispy.visuals import Visual
from vispy.visuals.shaders import Function
from vispy.visuals.transforms import STTransform

from scythe_desktop.core.layout import FIELD_DTYPE, GRID_DTYPE
from scythe_desktop.render.geometry import sphere_mesh


@dataclass(frozen=True)
class FieldBox:
    """The cube a volumetric field fills, in globe coordinates (Earth radii)."""

    center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    half_extent: float = 1.1

    def __post_init__(self) -> None:
        if not (np.all(np.isfinite(self.center)) and self.half_extent > 0):
            raise ValueError(f"FieldBox needs a finite center and half_extent > 0, got {self}")


def _check_field(field: np.ndarray) -> None:
    if field.dtype != FIELD_DTYPE:
        raise ValueError(f"field must be little-endian float32, got {field.dtype}")
    if field.ndim != 3 or len(set(field.shape)) != 1 or field.shape[0] < 2:
        raise ValueError(f"field must be a cube (S, S, S) with S >= 2, got shape {field.shape}")


class VolumeField:
    """One volumetric field under ``parent``.

    Axis order follows VisPy: ``field[i, j, k]`` is the voxel at z index ``i``, y index ``j`` and
    x index ``k`` of the box (C order, x fastest).

    Parameters
    ----------
    parent : scene node
    cmap : str
        A VisPy colormap name.
    method : str
        ``'additive'`` (default: low values add nothing, so the globe shows through), ``'mip'``
        (maximum intensity), ``'translucent'`` (needs a colormap with alpha) or ``'iso'``.
    """

    def __init__(self, parent: Node, cmap: str = "hot", method: str = "additive") -> None:
        placeholder = np.zeros((2, 2, 2), dtype=FIELD_DTYPE)
        self.visual = Volume(
            placeholder, clim=(0.0, 1.0), method=method, cmap=cmap, texture_format="auto", parent=parent
        )
        self.visual.order = 10  # after the opaque globe and nodes
        if method == "additive":
            # VisPy's default 'translucent' blending would paint the empty (black) voxels over the globe.
            self.visual.set_gl_state("additive", cull_face=False)
        self.visual.visible = False
        self._box = FieldBox()
        self._shape = 2
        self._threshold = 0.0
        self._clim = (0.0, 1.0)

    @property
    def visible(self) -> bool:
        return bool(self.visual.visible)

    @visible.setter
    def visible(self, value: bool) -> None:
        self.visual.visible = bool(value)

    @property
    def clim(self) -> tuple[float, float]:
        return self._clim

    def set_field(
        self, field: NDArray[np.float32], box: FieldBox | None = None, clim: tuple[float, float] | None = None
    ) -> None:
        """Show ``field`` (not copied; do not mutate it before the next draw) in ``box``.

        ``clim`` defaults to the field's finite min and max; the threshold keeps its value.
        """
        _check_field(field)
        if clim is None:
            lo, hi = float(np.nanmin(field)), float(np.nanmax(field))
            clim = (lo, hi if hi > lo else lo + 1.0)
        self._clim = (float(clim[0]), float(clim[1]))
        self.visual.set_data(field, clim=self._effective_clim(), copy=False)
        self._box = box or self._box
        self._shape = field.shape[0]
        scale = 2.0 * self._box.half_extent / self._shape
        # Voxel centres sit at integer coordinates; shift by half a voxel so the cube fills the box.
        self.visual.transform = STTransform(
            scale=(scale, scale, scale),
            translate=tuple(c - self._box.half_extent + scale / 2 for c in self._box.center),
        )
        self.visual.visible = True

    def set_colormap(self, name: str) -> None:
        self.visual.cmap = name

    def set_threshold(self, value: float) -> None:
        """Hide values below ``value`` (iso surface level for ``'iso'``, lower colour limit otherwise)."""
        if not np.isfinite(value):
            raise ValueError(f"threshold must be finite, got {value}")
        self._threshold = float(value)
        if self.visual.method == "iso":
            self.visual.threshold = self._threshold
        else:
            self.visual.clim = self._effective_clim()

    def _effective_clim(self) -> tuple[float, float]:
        lo, hi = self._clim
        lo = max(lo, self._threshold)
        return (lo, hi if hi > lo else lo + 1e-6)


_GRID_VERTEX = """
attribute vec3 a_position;
attribute vec2 a_texcoord;
varying vec2 v_texcoord;
void main() {
    v_texcoord = a_texcoord;
    gl_Position = $visual_to_render(vec4(a_position, 1.0));
}
"""

_GRID_FRAGMENT = """
uniform sampler2D u_grid;
uniform vec2 u_clim;
uniform float u_opacity;
varying vec2 v_texcoord;
void main() {
    float value = texture2D(u_grid, v_texcoord).r;
    float t = clamp((value - u_clim.x) / (u_clim.y - u_clim.x), 0.0, 1.0);
    vec4 color = $cmap(t);
    // Low values fade out so an empty grid cell does not paint over the map.
    gl_FragColor = vec4(color.rgb, color.a * u_opacity * mix(0.15, 1.0, t));
}
"""


class GridShellVisual(Visual):
    """A sphere shell textured with one float (H, W) lon/lat grid through a colormap.

    The grid layout is the engine's and the wire's (``scythe.v1`` GRID frames): rows run north to south
    (row 0 is the north edge, lat +90°), columns west to east (column 0 at lon -180°), cell centred, so a
    grid goes from the stream to the GPU unflipped. The float texture is sampled with linear
    interpolation; values map through ``clim``.
    """

    def __init__(self, radius: float = 0.999, cmap: str = "viridis", opacity: float = 0.6) -> None:
        Visual.__init__(self, vcode=_GRID_VERTEX, fcode=_GRID_FRAGMENT)
        pos, tex, faces = sphere_mesh(radius)
        # sphere_mesh's v runs south to north, and texture row 0 is sampled at v = 0: turn v round so
        # row 0 (the grid's north edge) lands at the north pole.
        tex[:, 1] = 1.0 - tex[:, 1]
        self.shared_program["a_position"] = gloo.VertexBuffer(pos)
        self.shared_program["a_texcoord"] = gloo.VertexBuffer(tex)
        self._index_buffer = gloo.IndexBuffer(faces)
        self._texture = gloo.Texture2D(
            np.zeros((2, 2), np.float32), internalformat="r32f", interpolation="linear", wrapping="clamp_to_edge"
        )
        self.shared_program["u_grid"] = self._texture
        self.shared_program["u_clim"] = (0.0, 1.0)
        self.shared_program["u_opacity"] = float(opacity)
        self.set_colormap(cmap)
        self._draw_mode = "triangles"
        self.set_gl_state("translucent", depth_test=True, cull_face=False)
        self.freeze()

    def set_grid(self, grid: NDArray[np.float32], clim: tuple[float, float]) -> None:
        if grid.dtype != GRID_DTYPE or grid.ndim != 2 or min(grid.shape) < 2:
            raise ValueError(f"grid must be float32 (H, W) with H, W >= 2, got {grid.dtype} {grid.shape}")
        if not (np.isfinite(clim).all() and clim[1] > clim[0]):
            raise ValueError(f"clim must be finite with clim[1] > clim[0], got {clim}")
        self._texture.set_data(np.ascontiguousarray(grid))
        self.shared_program["u_clim"] = (float(clim[0]), float(clim[1]))
        self.update()

    def set_colormap(self, name: str) -> None:
        cmap = get_colormap(name)
        self.shared_program.frag["cmap"] = Function(cmap.glsl_map)
        # Table-based colormaps (viridis, ...) sample a lookup texture the program must be given.
        self.shared_program["texture2D_LUT"] = cmap.texture_lut()
        self.update()

    def set_opacity(self, opacity: float) -> None:
        if not 0.0 <= opacity <= 1.0:
            raise ValueError(f"opacity must be in [0, 1], got {opacity}")
        self.shared_program["u_opacity"] = float(opacity)
        self.update()

    def _prepare_transforms(self, view: Visual) -> None:
        view.view_program.vert["visual_to_render"] = view.get_transform("visual", "render")


GridShell = create_visual_node(GridShellVisual)

#: The grids the operator can switch between, with their default colormaps.
GRID_KINDS: dict[str, str] = {"coverage": "viridis", "occlusion": "grays", "uncertainty": "hot"}


class GridLayers:
    """The named lon/lat grids; at most one is draped on the globe at a time."""

    def __init__(self, parent: Node, opacity: float = 0.55) -> None:
        self.shell = GridShell(opacity=opacity, parent=parent)
        self.shell.order = 5  # after the opaque globe, before translucent overlays
        self.shell.visible = False
        self._grids: dict[str, tuple[NDArray[np.float32], tuple[float, float]]] = {}
        self._active: str | None = None

    @property
    def active(self) -> str | None:
        """The grid shown, or ``None``."""
        return self._active

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._grids)

    def set_grid(self, kind: str, grid: NDArray[np.float32], clim: tuple[float, float] | None = None) -> None:
        """Store (and show, if it is the active one) the latest grid of ``kind``."""
        if kind not in GRID_KINDS:
            raise ValueError(f"unknown grid kind {kind!r}; expected one of {sorted(GRID_KINDS)}")
        if clim is None:
            lo, hi = float(np.nanmin(grid)), float(np.nanmax(grid))
            clim = (lo, hi if hi > lo else lo + 1.0)
        if grid.dtype != GRID_DTYPE or grid.ndim != 2:
            raise ValueError(f"{kind} grid must be float32 (H, W), got {grid.dtype} {grid.shape}")
        self._grids[kind] = (grid, clim)
        if kind == self._active:
            self.shell.set_grid(grid, clim)

    def show(self, kind: str | None) -> None:
        """Drape the grid ``kind`` on the globe, or hide grids with ``None``."""
        if kind is None:
            self._active = None
            self.shell.visible = False
            return
        if kind not in self._grids:
            raise ValueError(f"no {kind!r} grid has been set; have {sorted(self._grids)}")
        grid, clim = self._grids[kind]
        self.shell.set_grid(grid, clim)
        self.shell.set_colormap(GRID_KINDS[kind])
        self._active = kind
        self.shell.visible = True


__all__ = ["GRID_KINDS", "FieldBox", "GridLayers", "GridShell", "GridShellVisual", "VolumeField"]
