"""Great-circle geometry on the unit sphere, vectorised over numpy arrays.

Distances are in kilometres on a spherical Earth of radius :data:`EARTH_RADIUS_KM`; angles in degrees
at the interface, radians inside. The globe frame is the one of :mod:`scythe_desktop.core.layout`
(z to the north pole, x to lon 0 / lat 0). This module knows nothing of clusters or observers.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM: Final = 6371.0088


def wrap_lon(lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Longitudes folded into [-180, 180)."""
    lon = np.asarray(lon_deg, dtype=np.float64)
    return np.mod(lon + 180.0, 360.0) - 180.0


def great_circle_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance (haversine, stable for small and antipodal separations), broadcasting."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi * 0.5) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lon_deg: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.float64]:
    """(…, 3) unit vectors for lon/lat in degrees (same frame as ``core.layout.lonlat_to_unit``)."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    c = np.cos(lat)
    # Written component by component into one buffer (np.stack's temporaries cost more than the maths
    # on the few dozen points of a tick).
    out = np.empty((*np.broadcast_shapes(lon.shape, lat.shape), 3))
    np.multiply(c, np.cos(lon), out=out[..., 0])
    np.multiply(c, np.sin(lon), out=out[..., 1])
    np.sin(lat, out=out[..., 2])
    return out


def chord_to_km(cos_angle: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle distance from the dot product of two unit vectors."""
    return EARTH_RADIUS_KM * np.arccos(np.clip(cos_angle, -1.0, 1.0))


def destination(
    lon_deg: ArrayLike, lat_deg: ArrayLike, bearing_deg: ArrayLike, distance_km: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point reached from (lon, lat) after ``distance_km`` along the initial ``bearing_deg``."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    brg = np.radians(np.asarray(bearing_deg, dtype=np.float64))
    delta = np.asarray(distance_km, dtype=np.float64) / EARTH_RADIUS_KM
    sin_lat2 = np.sin(lat) * np.cos(delta) + np.cos(lat) * np.sin(delta) * np.cos(brg)
    lat2 = np.arcsin(np.clip(sin_lat2, -1.0, 1.0))
    lon2 = lon + np.arctan2(np.sin(brg) * np.sin(delta) * np.cos(lat), np.cos(delta) - np.sin(lat) * sin_lat2)
    return wrap_lon(np.degrees(lon2)), np.degrees(lat2)


def initial_bearing(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Initial great-circle bearing (degrees clockwise from north, in [0, 360)) from point 1 towards point 2."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    y = np.sin(dlmb) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlmb)
    return np.mod(np.degrees(np.arctan2(y, x)), 360.0)


def tangent_frames(lon_deg: ArrayLike, lat_deg: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """(centre, east, north) unit vectors, each (…, 3), of the local tangent plane at lon/lat."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    cl, sl, co, so = np.cos(lat), np.sin(lat), np.cos(lon), np.sin(lon)
    centre = np.stack((cl * co, cl * so, sl), axis=-1)
    east = np.stack((-so, co, np.zeros_like(co)), axis=-1)
    north = np.stack((-sl * co, -sl * so, cl), axis=-1)
    return centre, east, north


__all__ = [
    "EARTH_RADIUS_KM",
    "chord_to_km",
    "destination",
    "great_circle_km",
    "initial_bearing",
    "tangent_frames",
    "unit_vectors",
    "wrap_lon",
]
