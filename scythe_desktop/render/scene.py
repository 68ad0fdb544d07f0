"""One VisPy canvas holding the globe and everything drawn on it, with an orbiting camera.

:class:`GlobeScene` owns the ``SceneCanvas`` (one GL context), one 3-D view with a turntable camera
(orbit and zoom with the mouse; :meth:`GlobeScene.reset_view` and :meth:`GlobeScene.fly_to` from code) and
a parent node under which the UI adds visuals. The UI embeds ``scene.canvas.native`` as a Qt widget;
headless callers use :meth:`GlobeScene.render_offscreen`. Only the GUI thread may call into it. It knows
nothing of sources, workers or widgets beyond the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import lonlat_to_unit, unit_to_lonlat
from scythe_desktop.render.backend import gl_finish, use_render_backend

use_render_backend()

from vispy import gloo, scene  # noqa: E402  (the backend must be chosen before VisPy creates anything)
from vispy.io import write_png  # noqa: E402

from scythe_desktop.render.globe import SURFACE_RADIUS  # noqa: E402
from scythe_desktop.render.nodes import NodesVisual  # noqa: E402


@dataclass(frozen=True)
class CameraHome:
    """The view :meth:`GlobeScene.reset_view` returns to (degrees; ``extent`` in Earth radii across)."""

    lon: float = 10.0
    lat: float = 25.0
    extent: float = 2.6
    fov: float = 30.0


class GlobeScene:
    """A canvas with one 3-D view of the unit-sphere globe.

    Parameters
    ----------
    size : (width, height)
        Canvas size in logical pixels.
    home : CameraHome
        Initial and reset camera.
    bgcolor : str or RGBA tuple
        Background colour.
    show : bool
        Show a top-level window (``False`` when embedding or rendering offscreen).
    """

    def __init__(
        self,
        size: tuple[int, int] = (1280, 800),
        home: CameraHome | None = None,
        bgcolor: str | tuple[float, ...] = "#05070d",
        show: bool = False,
    ) -> None:
        self.home = home or CameraHome()
        self.canvas = scene.SceneCanvas(size=size, bgcolor=bgcolor, show=show, keys=None)
        self.view = self.canvas.central_widget.add_view()
        self.camera = scene.TurntableCamera(fov=self.home.fov, center=(0.0, 0.0, 0.0))
        # VisPy's default depth_value (1e6) puts the near plane so close that lines 0.006 above the
        # sphere z-fight with it; near = distance / 10 and far = distance * 10 keep 24-bit depth exact.
        self.camera.depth_value = 10.0
        self.view.camera = self.camera
        # Fix the camera's range now: otherwise VisPy fits it to the scene bounds at the first draw
        # (a large volume box would zoom the globe out) and overrides the home view.
        self.camera.set_range(x=(-1.0, 1.0), y=(-1.0, 1.0), z=(-1.0, 1.0), margin=0.0)
        self._fbo: gloo.FrameBuffer | None = None
        self._fbo_shape: tuple[int, int] = (0, 0)
        self.reset_view()

    @property
    def root(self) -> scene.Node:
        """Parent for visuals in globe coordinates (unit sphere, z to the north pole)."""
        return self.view.scene

    # ----------------------------------------------------------------------------------------- camera

    def reset_view(self) -> None:
        """Return to the home view."""
        self.fly_to(self.home.lon, self.home.lat, self.home.extent)

    def fly_to(self, lon: float, lat: float, extent: float | None = None) -> None:
        """Look at (lon, lat) straight down from above; ``extent`` is the view height in Earth radii."""
        if not (np.isfinite(lon) and np.isfinite(lat) and -90.0 <= lat <= 90.0):
            raise ValueError(f"fly_to needs finite lon and lat in [-90, 90], got lon={lon}, lat={lat}")
        if extent is not None and not extent > 0:
            raise ValueError(f"extent must be > 0, got {extent}")
        # The turntable at azimuth 0 looks from lon -90° (the -y side); azimuth turns the camera eastward.
        self.camera.azimuth = float(lon) + 90.0
        self.camera.elevation = float(lat)
        extent = float(extent) if extent is not None else float(self.camera.scale_factor)
        self.camera.scale_factor = extent
        # Orbit about a point between the Earth's centre (whole-globe views) and the target (close-ups),
        # so a close camera stays outside the sphere: its height is about 0.37 * extent above ground.
        depth = max(0.0, 1.0 - extent / 2.0)
        self.camera.center = tuple(float(c) for c in lonlat_to_unit(lon, lat) * depth)
        self.canvas.update()

    def orbit(self, d_lon: float, d_lat: float) -> None:
        """Turn the view by degrees (keyboard orbit); latitude is clamped at the poles."""
        self.camera.orbit(float(d_lon), float(d_lat))
        self.canvas.update()

    def zoom(self, factor: float) -> None:
        """Zoom in (factor < 1) or out (factor > 1)."""
        if not factor > 0:
            raise ValueError(f"zoom factor must be > 0, got {factor}")
        self.camera.scale_factor *= float(factor)
        self.canvas.update()

    # ---------------------------------------------------------------------------------------- images

    def render_offscreen(self, size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
        """Render one frame into an offscreen framebuffer; returns (H, W, 4) RGBA, row 0 at the top."""
        img = self.canvas.render(size=size)
        return np.asarray(img)

    def draw_frame(self) -> None:
        """Draw one frame into a cached offscreen framebuffer and wait for GL to finish; no read-back.

        This is what a frame costs without the pixel transfer of :meth:`render_offscreen`, and it also
        performs every deferred upload (benchmarks time calls plus this).
        """
        canvas = self.canvas
        canvas.set_current()
        shape = (round(canvas.size[1] * canvas.pixel_scale), round(canvas.size[0] * canvas.pixel_scale))
        if self._fbo is None or self._fbo_shape != shape:
            self._fbo = gloo.FrameBuffer(color=gloo.RenderBuffer(shape), depth=gloo.RenderBuffer(shape))
            self._fbo_shape = shape
        canvas.push_fbo(self._fbo, (0, 0), canvas.size)
        try:
            canvas.context.clear(color=canvas.bgcolor, depth=True)
            canvas.draw_visual(canvas.scene)
            canvas.context.flush_commands()
        finally:
            canvas.pop_fbo()
        gl_finish()

    def flush_uploads(self) -> None:
        """Send queued GL commands (deferred uploads) to the driver and wait for them, without drawing."""
        self.canvas.set_current()
        self.canvas.context.flush_commands()
        gl_finish()

    def screenshot(self, path: str, size: tuple[int, int] | None = None) -> NDArray[np.uint8]:
        """Render offscreen and write a PNG to ``path``; returns the image."""
        img = self.render_offscreen(size)
        write_png(path, img)
        return img

    def world_to_canvas(self, visual: scene.Node, xyz: NDArray[np.floating]) -> NDArray[np.float64]:
        """Canvas pixel coordinates (x right, y down) of points in ``visual``'s coordinates, shape (N, 2)."""
        tr = visual.get_transform("visual", "canvas")
        mapped = np.asarray(tr.map(np.asarray(xyz, dtype=np.float64)), dtype=np.float64)
        return mapped[:, :2] / mapped[:, 3:4]

    # --------------------------------------------------------------------------------------- picking

    def canvas_ray(self, x: float, y: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Origin and unit direction, in globe coordinates, of the view ray through canvas pixel (x, y)."""
        tr = self.canvas.scene.node_transform(self.root)
        near = np.asarray(tr.map([x, y, 0.0, 1.0]), dtype=np.float64)
        far = np.asarray(tr.map([x, y, 1.0, 1.0]), dtype=np.float64)
        origin, end = near[:3] / near[3], far[:3] / far[3]
        direction = end - origin
        return origin, direction / np.linalg.norm(direction)

    def canvas_to_lonlat(self, x: float, y: float) -> tuple[float, float] | None:
        """Longitude and latitude of the ground under canvas pixel (x, y), or ``None`` off the globe."""
        origin, direction = self.canvas_ray(x, y)
        t = _sphere_hit(origin, direction, 1.0)
        if t is None:
            return None
        lon, lat, _ = unit_to_lonlat(origin + t * direction)
        return float(lon), float(lat)

    def pick_node(self, visual: NodesVisual, x: float, y: float, radius_px: float = 6.0) -> int | None:
        """Row of the drawn node nearest canvas pixel (x, y) within ``radius_px``, skipping nodes the globe hides."""
        nodes = visual.nodes
        start, stop = visual.visible_range
        if nodes is None or stop <= start or not visual.visible:
            return None
        i = self.pick_point(visual, nodes[start:stop, :3], x, y, radius_px)
        return None if i is None else start + i

    def pick_point(self, visual: scene.Node, xyz: NDArray[np.floating], x: float, y: float,
                   radius_px: float) -> int | None:
        """Index of the point of ``xyz`` (in ``visual``'s coordinates) nearest canvas pixel (x, y) within
        ``radius_px`` that the globe does not hide; the one picking rule of the console."""
        if not len(xyz):
            return None
        xyz = np.asarray(xyz, dtype=np.float64)
        dist = np.hypot(*(self.world_to_canvas(visual, xyz) - (x, y)).T)
        origin, _ = self.canvas_ray(x, y)
        for i in np.argsort(dist):
            if dist[i] > radius_px:
                break
            to_point = xyz[i] - origin
            reach = float(np.linalg.norm(to_point))
            hit = _sphere_hit(origin, to_point / reach, SURFACE_RADIUS)
            if hit is None or reach <= hit:
                return int(i)
        return None

    def close(self) -> None:
        self.canvas.close()


def _sphere_hit(origin: NDArray[np.float64], direction: NDArray[np.float64], radius: float) -> float | None:
    """Distance along a unit ray to its first hit of the sphere of ``radius`` at the origin, or ``None``."""
    b = float(np.dot(origin, direction))
    c = float(np.dot(origin, origin)) - radius * radius
    disc = b * b - c
    if disc < 0:
        return None
    t = -b - np.sqrt(disc)
    if t < 0:
        t = -b + np.sqrt(disc)
    return float(t) if t >= 0 else None


__all__ = ["CameraHome", "GlobeScene"]
