"""Small spherical-geometry helpers shared by the globe, the draped grids and the overlays (numpy only).

Everything is in globe coordinates: the unit sphere of :mod:`scythe_desktop.core.layout`, z to the north
pole, x to (lon 0, lat 0). Distances on the ground use the mean Earth radius.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import lonlat_to_unit

EARTH_RADIUS_KM = 6371.0


def sphere_mesh(
    radius: float, n_lon: int = 96, n_lat: int = 48
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.uint32]]:
    """A lon/lat sphere: positions (V, 3), texture coordinates (V, 2) and triangles (F, 3).

    ``u`` runs west to east from lon -180°, ``v`` south to north from lat -90°, both in [0, 1].
    """
    lon = np.linspace(-180.0, 180.0, n_lon + 1)
    lat = np.linspace(-90.0, 90.0, n_lat + 1)
    glon, glat = np.meshgrid(lon, lat)
    pos = lonlat_to_unit(glon, glat) * radius
    tex = np.stack([(glon + 180.0) / 360.0, (glat + 90.0) / 180.0], axis=-1)
    i, j = np.meshgrid(np.arange(n_lat), np.arange(n_lon), indexing="ij")
    a = i * (n_lon + 1) + j
    b, c, d = a + 1, a + n_lon + 1, a + n_lon + 2
    faces = np.stack([np.stack([a, b, d], -1), np.stack([a, d, c], -1)], axis=2).reshape(-1, 3)
    return (
        pos.reshape(-1, 3).astype(np.float32),
        tex.reshape(-1, 2).astype(np.float32),
        faces.astype(np.uint32),
    )


def polylines_to_segments(points: NDArray[np.floating], offsets: NDArray[np.integer]) -> NDArray[np.uint32]:
    """Index pairs (S, 2) joining consecutive points inside each polyline ``points[offsets[k]:offsets[k+1]]``."""
    starts = np.arange(points.shape[0] - 1, dtype=np.int64)
    # A segment is valid unless it would join the last point of one polyline to the first of the next.
    breaks = np.zeros(points.shape[0], dtype=bool)
    breaks[np.asarray(offsets[1:-1], dtype=np.int64) - 1] = True
    starts = starts[~breaks[:-1]]
    return np.stack([starts, starts + 1], axis=1).astype(np.uint32)


def graticule_lines(step_deg: float = 30.0, samples: int = 90) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Meridians and parallels every ``step_deg`` as lon/lat polylines: (P, 2) points and offsets."""
    if not 0 < step_deg <= 90:
        raise ValueError(f"graticule step must be in (0, 90] degrees, got {step_deg}")
    lines = []
    for lon in np.arange(-180.0, 180.0, step_deg):
        lat = np.linspace(-90.0, 90.0, samples)
        lines.append(np.stack([np.full_like(lat, lon), lat], axis=1))
    for lat0 in np.arange(-90.0 + step_deg, 90.0, step_deg):
        lon = np.linspace(-180.0, 180.0, 2 * samples)
        lines.append(np.stack([lon, np.full_like(lon, lat0)], axis=1))
    offsets = np.concatenate([[0], np.cumsum([len(line) for line in lines])])
    return np.concatenate(lines), offsets


def small_circle(lon: float, lat: float, radius_km: float, samples: int = 64) -> NDArray[np.float64]:
    """Closed ring (samples + 1, 3) on the unit sphere at ground distance ``radius_km`` from (lon, lat)."""
    if not radius_km > 0:
        raise ValueError(f"radius_km must be > 0, got {radius_km}")
    center = lonlat_to_unit(lon, lat)
    # Two unit vectors orthogonal to the centre span the circle's plane.
    helper = np.array([0.0, 0.0, 1.0]) if abs(center[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    east = np.cross(helper, center)
    east /= np.linalg.norm(east)
    north = np.cross(center, east)
    angle = min(radius_km / EARTH_RADIUS_KM, np.pi)
    theta = np.linspace(0.0, 2.0 * np.pi, samples + 1)
    ring = np.cos(angle) * center + np.sin(angle) * (np.cos(theta)[:, None] * east + np.sin(theta)[:, None] * north)
    return ring


def great_circle_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ground distance in km between two points given in degrees."""
    p1, p2 = lonlat_to_unit(lon1, lat1), lonlat_to_unit(lon2, lat2)
    return float(EARTH_RADIUS_KM * np.arctan2(np.linalg.norm(np.cross(p1, p2)), np.dot(p1, p2)))


__all__ = [
    "EARTH_RADIUS_KM",
    "graticule_lines",
    "great_circle_km",
    "polylines_to_segments",
    "small_circle",
    "sphere_mesh",
]
