"""Instanced node sprites drawn straight from the (N, 6) float32 node buffer.

The node buffer's 24-byte rows are the GPU vertex buffer: one ``gloo.VertexBuffer`` over the
``NODE_VERTEX_DTYPE`` view, read at offsets 0 (position), 12 (intensity), 16 (threat) and 20 (size),
each attribute advancing once per instance (divisor 1). A second, per-vertex buffer holds the three
corners of one triangle circumscribing the sprite's disc (software GL pays per vertex and per
primitive, so one triangle per node beats a two-triangle quad by about a third). Colour (by threat)
and pixel size (by intensity) are computed in the vertex shader, so no per-node Python runs on
upload. Delta frames re-upload only the changed row runs.

This module knows the core buffer layout and nothing about where buffers come from (engine, wire or
recording) nor about Qt. Uploads are deferred by VisPy until the next draw and are not copied: the caller
must not mutate a buffer it handed over before that draw (or pass ``copy=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from vispy import gloo
from vispy.gloo.buffer import DataBufferView
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

from scythe_desktop.core.layout import NODE_VERTEX_DTYPE, as_vertex_records, check_node_buffer
from scythe_desktop.core.swarm import changed_runs

#: Threat colours (RGBA, 0..1) used by the shader; exported so tests and legends agree with it.
THREAT_HIGH_RGBA = (1.0, 0.15, 0.10, 1.0)  # threat > 1.5
THREAT_MEDIUM_RGBA = (1.0, 0.60, 0.05, 1.0)  # threat > 0.5
THREAT_LOW_RGBA = (0.0, 0.85, 1.0, 1.0)  # otherwise

_VERTEX_SHADER = """
attribute vec2 a_corner;      // per vertex: triangle corner, in sprite diameters from the centre
attribute vec3 a_position;    // per instance, offset 0
attribute float a_intensity;  // per instance, offset 12
attribute float a_threat;     // per instance, offset 16
attribute float a_size;       // per instance, offset 20: extra pixels (0 for plain nodes)
uniform float u_px_scale;
uniform float u_size_scale;
uniform vec4 u_high;
uniform vec4 u_medium;
uniform vec4 u_low;
varying vec4 v_color;
varying vec2 v_corner;
varying float v_diameter;

void main() {
    vec4 fb = $visual_to_framebuffer(vec4(a_position, 1.0));
    v_diameter = (1.5 + 4.0 * a_intensity + a_size) * u_size_scale * u_px_scale;
    v_color = a_threat > 1.5 ? u_high : (a_threat > 0.5 ? u_medium : u_low);
    v_corner = a_corner;
    // Offset in framebuffer pixels (scaled by w so the perspective divide keeps it in pixels).
    fb.xy += a_corner * v_diameter * fb.w;
    gl_Position = $framebuffer_to_render(fb);
}
"""

_FRAGMENT_SHADER = """
varying vec4 v_color;
varying vec2 v_corner;
varying float v_diameter;

void main() {
    // Round sprites once they are big enough for roundness to show; tiny ones keep the whole triangle
    // so a 1.5-pixel node still covers a pixel.
    if (v_diameter > 3.0 && dot(v_corner, v_corner) > 0.25) {
        discard;
    }
    gl_FragColor = v_color;
}
"""

# An equilateral triangle whose inscribed circle is the sprite disc (radius 0.5 diameters).
_TRIANGLE_CORNERS = np.array([[0.0, 1.0], [-0.8660254, -0.5], [0.8660254, -0.5]], dtype=np.float32)

UploadKind = Literal["none", "partial", "full"]


@dataclass(frozen=True)
class UploadPolicy:
    """When a delta is uploaded row-run by row-run and when as one full buffer write.

    Each ``set_subdata`` costs a fixed overhead (a GLIR command, a ``glBufferSubData`` call) while bytes
    are cheap (a full 100k-node buffer is 2.4 MB), so: runs separated by at most ``merge_gap_rows``
    unchanged rows are merged into one write (re-sending identical bytes is harmless); then, if the merged
    runs still number more than ``max_runs`` or cover more than ``full_fraction`` of the rows, one full
    upload is cheaper and is done instead. A uniformly scattered 5% delta thus becomes one write.
    """

    merge_gap_rows: int = 256
    max_runs: int = 64
    full_fraction: float = 0.5

    def plan(self, rows: NDArray[np.integer], n_rows: int) -> list[tuple[int, int]] | None:
        """The row runs to upload, or ``None`` for one full upload."""
        runs = changed_runs(np.asarray(rows, dtype=np.int64))
        merged: list[tuple[int, int]] = []
        for start, stop in runs:
            if merged and start - merged[-1][1] <= self.merge_gap_rows:
                merged[-1] = (merged[-1][0], stop)
            else:
                merged.append((start, stop))
        covered = sum(stop - start for start, stop in merged)
        if len(merged) > self.max_runs or covered > self.full_fraction * n_rows:
            return None
        return merged


class _RowsFieldView(DataBufferView):
    """A view of one record field restricted to rows ``[start, stop)`` of the base buffer.

    VisPy's own views are either one field over all rows or all fields over some rows; an attribute
    needs both, which is just a larger byte offset and a smaller element count.
    """

    def __init__(self, base: gloo.VertexBuffer, field: str, start: int, stop: int) -> None:
        super().__init__(base, field)
        self._offset += start * base.stride
        self._size = stop - start
        self._nbytes = self._size * self._itemsize


class NodesVisual(Visual):
    """Instanced sprites for one node buffer (one cluster or swarm).

    Parameters
    ----------
    nodes : (N, 6) float32 array or None
        Initial node buffer (see :mod:`scythe_desktop.core.layout`).
    size_scale : float
        Multiplies the shader's pixel diameter ``1.5 + 4 * intensity + size`` (1 = the specified size).
    policy : UploadPolicy
        When a delta is uploaded as row runs and when as one full write.
    """

    _ATTRIBUTES = ("position", "intensity", "threat", "size")

    def __init__(
        self,
        nodes: NDArray[np.float32] | None = None,
        size_scale: float = 1.0,
        policy: UploadPolicy | None = None,
    ) -> None:
        Visual.__init__(self, vcode=_VERTEX_SHADER, fcode=_FRAGMENT_SHADER)
        self.policy = policy or UploadPolicy()
        self._vbo = gloo.VertexBuffer()
        self._corners = gloo.VertexBuffer(_TRIANGLE_CORNERS)
        self._nodes: NDArray[np.float32] | None = None
        self._count = 0
        self._range = (0, 0)
        self._range_limited = False
        self.shared_program["a_corner"] = self._corners
        self.shared_program["u_size_scale"] = float(size_scale)
        self.shared_program["u_high"] = THREAT_HIGH_RGBA
        self.shared_program["u_medium"] = THREAT_MEDIUM_RGBA
        self.shared_program["u_low"] = THREAT_LOW_RGBA
        self._draw_mode = "triangles"
        self.set_gl_state(depth_test=True, blend=False, cull_face=False)
        if nodes is not None:
            self.set_nodes(nodes)
        self.freeze()

    # ------------------------------------------------------------------------------------ properties

    @property
    def count(self) -> int:
        """Rows currently in the GPU buffer."""
        return self._count

    @property
    def nodes(self) -> NDArray[np.float32] | None:
        """The buffer last handed over (not a copy)."""
        return self._nodes

    @property
    def visible_range(self) -> tuple[int, int]:
        """The rows ``[start, stop)`` that are drawn."""
        return self._range

    @property
    def size_scale(self) -> float:
        return float(self.shared_program["u_size_scale"])

    @size_scale.setter
    def size_scale(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"size_scale must be > 0, got {value}")
        self.shared_program["u_size_scale"] = float(value)
        self.update()

    # --------------------------------------------------------------------------------------- uploads

    def set_nodes(self, nodes: NDArray[np.float32], copy: bool = False) -> None:
        """Upload a whole node buffer (one buffer write at the next draw); shows every row."""
        records = as_vertex_records(nodes)
        self._vbo.set_data(records, copy=copy)
        self._nodes = nodes
        self._count = records.shape[0]
        self._range_limited = False
        self._bind_range(0, self._count)
        self.update()

    def update_rows(self, nodes: NDArray[np.float32], rows: NDArray[np.integer], copy: bool = False) -> UploadKind:
        """Upload only ``rows`` of ``nodes`` (sorted unique rows, e.g. from ``NodeSwarm.apply_delta``).

        ``nodes`` is the whole buffer after the change. When its row count differs from the uploaded one
        the buffer is re-uploaded whole; otherwise the rows go up as merged runs, or whole when churn is
        high (see :class:`UploadPolicy`). Returns which of the two happened.
        """
        check_node_buffer(nodes)
        rows = np.asarray(rows)
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= nodes.shape[0]):
            raise ValueError(f"rows must lie in [0, {nodes.shape[0]}), got {int(rows.min())}..{int(rows.max())}")
        if nodes.shape[0] != self._count:
            self.set_nodes(nodes, copy=copy)
            return "full"
        if rows.size == 0:
            self._nodes = nodes
            return "none"
        runs = self.policy.plan(rows, self._count)
        if runs is None:
            start, stop = self._range
            limited = self._range_limited
            self.set_nodes(nodes, copy=copy)
            if limited:
                self.set_visible_range(start, stop)
            return "full"
        records = as_vertex_records(nodes)
        for start, stop in runs:
            self._vbo.set_subdata(records[start:stop], offset=start, copy=copy)
        self._nodes = nodes
        self.update()
        return "partial"

    def set_visible_range(self, start: int, stop: int) -> None:
        """Draw only rows ``[start, stop)`` (an LOD budget or one cluster's slice); no data moves."""
        if not 0 <= start <= stop <= self._count:
            raise ValueError(f"visible range must satisfy 0 <= start <= stop <= {self._count}, got {start}, {stop}")
        self._range_limited = (start, stop) != (0, self._count)
        self._bind_range(start, stop)
        self.update()

    def _bind_range(self, start: int, stop: int) -> None:
        self._range = (start, stop)
        if stop <= start:
            return
        for name in self._ATTRIBUTES:
            if (start, stop) == (0, self._count):
                view = self._vbo[name]
            else:
                view = _RowsFieldView(self._vbo, name, start, stop)
            view.divisor = 1  # not inherited from the base buffer: set on each view
            self.shared_program["a_" + name] = view

    # --------------------------------------------------------------------------------- visual hooks

    def _prepare_transforms(self, view: Visual) -> None:
        view.view_program.vert["visual_to_framebuffer"] = view.get_transform("visual", "framebuffer")
        view.view_program.vert["framebuffer_to_render"] = view.get_transform("framebuffer", "render")

    def _prepare_draw(self, view: Visual) -> bool:
        if self._range[1] <= self._range[0]:
            return False
        view.view_program["u_px_scale"] = view.transforms.pixel_scale
        return True

    def _compute_bounds(self, axis: int, view: Visual) -> tuple[float, float] | None:
        if self._nodes is None or self._count == 0:
            return None
        column = self._nodes[:, axis]
        return float(column.min()), float(column.max())


#: Scene-graph node wrapping :class:`NodesVisual` (``parent=``, ``order=`` etc. as for any scene node).
Nodes = create_visual_node(NodesVisual)

assert NODE_VERTEX_DTYPE.names == ("position", "intensity", "threat", "size")

__all__ = [
    "THREAT_HIGH_RGBA",
    "THREAT_LOW_RGBA",
    "THREAT_MEDIUM_RGBA",
    "Nodes",
    "NodesVisual",
    "UploadKind",
    "UploadPolicy",
]
