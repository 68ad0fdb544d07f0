"""Operator overlays on the globe: observers, the policy's proposals as ghosts, and gradient-drift arrows.

The UI hands in small frozen view-models (:class:`ObserverView`, :class:`ProposalView`,
:class:`GradientField`) built from whatever its source delivers; this module turns them into a handful
of VisPy visuals and knows nothing of the orchestrator, the policy or Qt. Observer and proposal counts
are small (tens to hundreds), so geometry is built with numpy on each update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from vispy import gloo
from vispy.scene import Node
from vispy.scene.visuals import Arrow, Line, Markers, Text, create_visual_node
from vispy.visuals import MeshVisual

from scythe_desktop.core.layout import lonlat_to_unit
from scythe_desktop.render.geometry import small_circle

OVERLAY_ALT = 0.004  # Earth radii above the surface: above nodes and grids, so overlays are never buried
GHOST_RGB = (0.85, 0.55, 1.0)
FOOTPRINT_RGBA = (0.40, 1.0, 0.55, 0.85)
LOW_LOAD_RGB = np.array([0.30, 0.95, 0.45])
HIGH_LOAD_RGB = np.array([1.00, 0.25, 0.20])


def _check_lonlat(kind: str, ident: str, lon: float, lat: float) -> None:
    if not (np.isfinite(lon) and np.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"{kind} {ident!r}: lon/lat must be finite with lat in [-90, 90], got {lon}, {lat}")


@dataclass(frozen=True)
class ObserverView:
    """One deployed observer: where it is, how far it sees (km on the ground) and its load (0..1)."""

    id: str
    lon: float
    lat: float
    radius_km: float
    load: float = 0.0
    selected: bool = False

    def __post_init__(self) -> None:
        _check_lonlat("observer", self.id, self.lon, self.lat)
        if not self.radius_km > 0:
            raise ValueError(f"observer {self.id!r}: radius_km must be > 0, got {self.radius_km}")
        if not 0.0 <= self.load <= 1.0:
            raise ValueError(f"observer {self.id!r}: load must be in [0, 1], got {self.load}")


@dataclass(frozen=True)
class ProposalView:
    """A proposed observer placement aimed at a target cluster.

    ``confidence`` (0..1) narrows the cone and makes it more opaque; ``gain`` is the predicted
    information gain shown in the label together with ``label`` (e.g. the coverage it adds).
    """

    id: str
    lon: float
    lat: float
    radius_km: float
    target_lon: float
    target_lat: float
    confidence: float
    gain: float
    label: str = ""

    def __post_init__(self) -> None:
        _check_lonlat("proposal", self.id, self.lon, self.lat)
        _check_lonlat("proposal target", self.id, self.target_lon, self.target_lat)
        if not self.radius_km > 0:
            raise ValueError(f"proposal {self.id!r}: radius_km must be > 0, got {self.radius_km}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"proposal {self.id!r}: confidence must be in [0, 1], got {self.confidence}")
        if not np.isfinite(self.gain):
            raise ValueError(f"proposal {self.id!r}: gain must be finite, got {self.gain}")


@dataclass(frozen=True)
class GradientField:
    """Arrows of gradient drift: at (lon, lat) pointing (d_lon, d_lat) degrees (already scaled for display)."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    d_lon: NDArray[np.float64]
    d_lat: NDArray[np.float64]

    def __post_init__(self) -> None:
        shapes = {np.shape(a) for a in (self.lon, self.lat, self.d_lon, self.d_lat)}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"gradient arrays must be 1-D with one shape, got {sorted(shapes)}")


def _surface(lon: NDArray[np.float64] | float, lat: NDArray[np.float64] | float) -> NDArray[np.float32]:
    return lonlat_to_unit(lon, lat, OVERLAY_ALT).reshape(-1, 3).astype(np.float32)


def _rings(centres: Sequence[tuple[float, float, float]]) -> tuple[NDArray[np.float32], NDArray[np.uint32]]:
    """Small circles (lon, lat, radius_km) as one point array and segment index pairs."""
    points, segments, start = [], [], 0
    for lon, lat, radius_km in centres:
        ring = small_circle(lon, lat, radius_km) * (1.0 + OVERLAY_ALT)
        points.append(ring)
        idx = np.arange(start, start + ring.shape[0] - 1)
        segments.append(np.stack([idx, idx + 1], axis=1))
        start += ring.shape[0]
    if not points:
        return np.zeros((0, 3), np.float32), np.zeros((0, 2), np.uint32)
    return np.concatenate(points).astype(np.float32), np.concatenate(segments).astype(np.uint32)


def load_color(load: NDArray[np.float64]) -> NDArray[np.float32]:
    """RGBA from green (idle) to red (saturated) for loads in [0, 1]."""
    t = np.clip(np.asarray(load, dtype=np.float64), 0.0, 1.0)[:, None]
    rgba = np.ones((t.shape[0], 4), dtype=np.float32)
    rgba[:, :3] = (1.0 - t) * LOW_LOAD_RGB + t * HIGH_LOAD_RGB
    return rgba


class ObserverOverlay:
    """Observers as markers coloured by load, with coverage footprints and load labels."""

    def __init__(self, parent: Node, show_labels: bool = True) -> None:
        self.markers = Markers(parent=parent)
        self.markers.order = 20
        self.footprints = Line(method="gl", antialias=False, parent=parent)
        self.footprints.order = 21
        self.footprints.set_gl_state("translucent", depth_test=True)
        self.labels = Text(color="white", font_size=8, anchor_x="left", anchor_y="bottom", parent=parent)
        self.labels.order = 22
        self.show_labels = show_labels
        self._views: tuple[ObserverView, ...] = ()
        self.set_observers(())

    @property
    def observers(self) -> tuple[ObserverView, ...]:
        return self._views

    def set_observers(self, observers: Sequence[ObserverView]) -> None:
        self._views = tuple(observers)
        if not self._views:
            for visual in (self.markers, self.footprints, self.labels):
                visual.visible = False
            return
        lon = np.array([o.lon for o in self._views])
        lat = np.array([o.lat for o in self._views])
        pos = _surface(lon, lat)
        face = load_color(np.array([o.load for o in self._views]))
        edge = np.where(np.array([o.selected for o in self._views])[:, None], (1.0, 1.0, 1.0, 1.0), (0, 0, 0, 1.0))
        self.markers.set_data(pos, size=11, face_color=face, edge_color=edge, edge_width=2, symbol="square")
        points, segments = _rings([(o.lon, o.lat, o.radius_km) for o in self._views])
        self.footprints.set_data(pos=points, connect=segments, color=FOOTPRINT_RGBA)
        self.labels.text = [f" {o.id} {round(100 * o.load)}%" for o in self._views]
        self.labels.pos = pos
        self.markers.visible = self.footprints.visible = True
        self.labels.visible = self.show_labels


class ConeMeshVisual(MeshVisual):
    """Translucent confidence cones: depth-tested but not depth-writing, so overlapping cones never hide
    each other or the labels drawn after them.

    GL state outlives a draw call, and the next frame's depth clear obeys the depth mask: a mask left off
    keeps last frame's depths and the globe fails its depth test (it vanished). So this visual turns depth
    writes back on after drawing; every other visual keeps the default (on).
    """

    def __init__(self) -> None:
        super().__init__()
        self.set_gl_state("translucent", depth_test=True, depth_mask=False, cull_face=False)

    def draw(self) -> None:
        try:
            super().draw()
        finally:
            gloo.set_depth_mask(True)


ConeMesh = create_visual_node(ConeMeshVisual)


class ProposalOverlay:
    """Proposals as ghost observers, footprints, confidence cones toward their target, and gain labels.

    A cone is a translucent fan from the ghost (raised by ``cone_height`` Earth radii) down to a circle
    around the target cluster whose ground radius shrinks as confidence grows
    (``max_spread_km * (1 - confidence)``, at least ``min_spread_km``).
    """

    def __init__(
        self,
        parent: Node,
        cone_height: float = 0.08,
        max_spread_km: float = 600.0,
        min_spread_km: float = 60.0,
    ) -> None:
        self.cone_height = cone_height
        self.max_spread_km = max_spread_km
        self.min_spread_km = min_spread_km
        self.ghosts = Markers(parent=parent)
        self.ghosts.order = 30
        self.footprints = Line(method="gl", antialias=False, parent=parent)
        self.footprints.order = 31
        self.footprints.set_gl_state("translucent", depth_test=True)
        self.cones = ConeMesh(parent=parent)
        self.cones.order = 32  # translucent, after everything opaque
        self.labels = Text(color=(*GHOST_RGB, 1.0), font_size=8, anchor_x="left", anchor_y="top", parent=parent)
        self.labels.order = 33
        self._views: tuple[ProposalView, ...] = ()
        self.set_proposals(())

    @property
    def proposals(self) -> tuple[ProposalView, ...]:
        return self._views

    def spread_km(self, confidence: float) -> float:
        return max(self.min_spread_km, self.max_spread_km * (1.0 - confidence))

    def set_proposals(self, proposals: Sequence[ProposalView]) -> None:
        self._views = tuple(proposals)
        if not self._views:
            for visual in (self.ghosts, self.footprints, self.cones, self.labels):
                visual.visible = False
            return
        lon = np.array([p.lon for p in self._views])
        lat = np.array([p.lat for p in self._views])
        pos = _surface(lon, lat)
        self.ghosts.set_data(
            pos, size=13, face_color=(*GHOST_RGB, 0.25), edge_color=(*GHOST_RGB, 0.95), edge_width=2, symbol="disc"
        )
        points, segments = _rings([(p.lon, p.lat, p.radius_km) for p in self._views])
        self.footprints.set_data(pos=points, connect=segments, color=(*GHOST_RGB, 0.6))
        vertices, faces, colors = self._cone_geometry()
        self.cones.set_data(vertices=vertices, faces=faces, vertex_colors=colors)
        self.labels.text = [f" +{p.gain:.2f} bits {p.label}".rstrip() for p in self._views]
        self.labels.pos = pos
        for visual in (self.ghosts, self.footprints, self.cones, self.labels):
            visual.visible = True

    def _cone_geometry(self) -> tuple[NDArray[np.float32], NDArray[np.uint32], NDArray[np.float32]]:
        vertices, faces, colors, start = [], [], [], 0
        for p in self._views:
            apex = lonlat_to_unit(p.lon, p.lat, self.cone_height)
            base = small_circle(p.target_lon, p.target_lat, self.spread_km(p.confidence), samples=24)
            base = base[:-1] * (1.0 + OVERLAY_ALT)
            k = base.shape[0]
            vertices.append(np.vstack([apex[None, :], base]))
            ring = np.arange(k)
            faces.append(np.stack([np.full(k, start), start + 1 + ring, start + 1 + (ring + 1) % k], axis=1))
            alpha = 0.10 + 0.35 * p.confidence
            rgba = np.empty((k + 1, 4), dtype=np.float32)
            rgba[:, :3] = GHOST_RGB
            rgba[0, 3] = alpha
            rgba[1:, 3] = alpha * 0.4  # fades toward the target so the cluster stays readable
            colors.append(rgba)
            start += k + 1
        return (
            np.concatenate(vertices).astype(np.float32),
            np.concatenate(faces).astype(np.uint32),
            np.concatenate(colors),
        )


class GradientArrows:
    """Optional arrows of the uncertainty gradient's drift, drawn on the surface."""

    def __init__(self, parent: Node, rgba: tuple[float, float, float, float] = (1.0, 0.9, 0.3, 0.9)) -> None:
        self.rgba = rgba
        self.arrows = Arrow(method="gl", antialias=False, connect="segments", arrow_size=6.0, parent=parent)
        self.arrows.order = 25
        self.arrows.visible = False

    @property
    def visible(self) -> bool:
        return bool(self.arrows.visible)

    @visible.setter
    def visible(self, value: bool) -> None:
        self.arrows.visible = bool(value)

    def set_gradient(self, field: GradientField) -> None:
        n = np.shape(field.lon)[0]
        if n == 0:
            self.arrows.visible = False
            return
        tail = _surface(field.lon, field.lat)
        head_lat = np.clip(np.asarray(field.lat) + np.asarray(field.d_lat), -90.0, 90.0)
        head = _surface(np.asarray(field.lon) + np.asarray(field.d_lon), head_lat)
        pos = np.empty((2 * n, 3), dtype=np.float32)
        pos[0::2], pos[1::2] = tail, head
        self.arrows.set_data(pos=pos, color=self.rgba, connect="segments", arrows=np.hstack([tail, head]))
        self.arrows.arrow_color = self.rgba
        self.arrows.visible = True


__all__ = [
    "GHOST_RGB",
    "GradientArrows",
    "GradientField",
    "ObserverOverlay",
    "ObserverView",
    "ProposalOverlay",
    "ProposalView",
    "load_color",
]
