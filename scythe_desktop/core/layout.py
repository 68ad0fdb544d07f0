"""The one binary memory layout shared by simulator, wire, recordings and GPU.

Every buffer here is little endian and C ordered, so the bytes can go to a socket, a file or a vertex
buffer unchanged. This module knows nothing of frames, networks or rendering; it only fixes the dtypes
and converts between lon/lat/altitude and the unit-sphere globe coordinates used by node buffers.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Node buffer element type: rows of (x, y, z, intensity, threat, size), float32.
NODE_DTYPE: Final = np.dtype("<f4")
NODE_COLUMNS: Final = 6
NODE_STRIDE: Final = NODE_COLUMNS * NODE_DTYPE.itemsize  # 24 bytes
NODE_COLUMN_NAMES: Final = ("x", "y", "z", "intensity", "threat", "size")
COL_X, COL_Y, COL_Z, COL_INTENSITY, COL_THREAT, COL_SIZE = range(NODE_COLUMNS)

INTENSITY_RANGE: Final = (0.0, 1.0)
THREAT_RANGE: Final = (0.0, 2.0)

#: The same 24-byte rows seen as records, the shape a GPU vertex buffer wants: attribute offsets
#: 0 (position, 3 floats), 12 (intensity), 16 (threat), 20 (size).
NODE_VERTEX_DTYPE: Final = np.dtype(
    [("position", "<f4", (3,)), ("intensity", "<f4"), ("threat", "<f4"), ("size", "<f4")]
)

#: A link between two node rows of one cluster.
EDGE_DTYPE: Final = np.dtype([("src", "<u4"), ("dst", "<u4"), ("confidence", "<f4")])

#: One change to one node since the previous frame; see :class:`DeltaOp` for the meaning of the values.
DELTA_DTYPE: Final = np.dtype(
    [
        ("node", "<u4"),
        ("op", "<u4"),
        ("dx", "<f4"),
        ("dy", "<f4"),
        ("dz", "<f4"),
        ("dintensity", "<f4"),
    ]
)

#: Which cluster a node belongs to, keyed by stable node id (not row); cluster -1 means "none known".
MEMBERSHIP_DTYPE: Final = np.dtype([("node", "<u4"), ("cluster", "<i4")])

#: Volumetric fields (S, S, S) and lon/lat grids (H, W).
FIELD_DTYPE: Final = np.dtype("<f4")
GRID_DTYPE: Final = np.dtype("<f4")

assert NODE_VERTEX_DTYPE.itemsize == NODE_STRIDE == 24
assert EDGE_DTYPE.itemsize == 12
assert DELTA_DTYPE.itemsize == 24
assert MEMBERSHIP_DTYPE.itemsize == 8


class DeltaOp(IntEnum):
    """What a delta row does to its node.

    UPDATE  x, y, z, intensity += dx, dy, dz, dintensity (a move and a brightness change).
    ADD     a new node at (dx, dy, dz) with intensity dintensity, threat 0 and size 0.
    REMOVE  the node leaves the swarm; the values must be zero.
    THREAT  threat := dx, size := dy (absolute: threat is a level, not a motion); dz and
            dintensity must be zero. The 24-byte row of the design has no threat column,
            so a threat change gets its own op instead of a wider row.
    """

    UPDATE = 0
    ADD = 1
    REMOVE = 2
    THREAT = 3


def empty_nodes(n: int = 0) -> NDArray[np.float32]:
    """A zeroed node buffer of ``n`` rows."""
    return np.zeros((n, NODE_COLUMNS), dtype=NODE_DTYPE)


def empty_deltas(n: int = 0) -> NDArray[np.void]:
    return np.zeros(n, dtype=DELTA_DTYPE)


def as_vertex_records(nodes: NDArray[np.float32]) -> NDArray[np.void]:
    """View an (N, 6) node buffer as N 24-byte records without copying."""
    check_node_buffer(nodes)
    return nodes.view(NODE_VERTEX_DTYPE).reshape(nodes.shape[0])


def check_node_buffer(nodes: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``nodes`` is a C-ordered little-endian float32 (N, 6) array."""
    if nodes.dtype != NODE_DTYPE:
        raise ValueError(f"node buffer must be little-endian float32, got {nodes.dtype}")
    if nodes.ndim != 2 or nodes.shape[1] != NODE_COLUMNS:
        raise ValueError(f"node buffer must have shape (N, {NODE_COLUMNS}), got {nodes.shape}")
    if not nodes.flags.c_contiguous:
        raise ValueError("node buffer must be C-contiguous (stride 24 bytes)")


def lonlat_to_unit(
    lon_deg: ArrayLike, lat_deg: ArrayLike, alt: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Globe coordinates (…, 3) for longitudes/latitudes in degrees; ``alt`` is in Earth radii.

    The z axis points to the north pole, x to (lon 0, lat 0), y to (lon 90°E, lat 0).
    """
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    r = 1.0 + np.asarray(alt, dtype=np.float64)
    cos_lat = np.cos(lat)
    return np.stack(np.broadcast_arrays(r * cos_lat * np.cos(lon), r * cos_lat * np.sin(lon), r * np.sin(lat)), axis=-1)


def unit_to_lonlat(
    xyz: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of :func:`lonlat_to_unit`: (lon in [-180, 180), lat in [-90, 90], alt in radii)."""
    p = np.asarray(xyz, dtype=np.float64)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    r = np.sqrt(x * x + y * y + z * z)
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)
    return lon, lat, r - 1.0


def make_node_buffer(
    lon_deg: ArrayLike,
    lat_deg: ArrayLike,
    alt: ArrayLike = 0.0,
    intensity: ArrayLike = 0.0,
    threat: ArrayLike = 0.0,
    size: ArrayLike = 0.0,
) -> NDArray[np.float32]:
    """Build an (N, 6) node buffer from per-node geographic coordinates and attributes."""
    xyz = lonlat_to_unit(lon_deg, lat_deg, alt).reshape(-1, 3)
    n = xyz.shape[0]
    nodes = empty_nodes(n)
    nodes[:, COL_X : COL_Z + 1] = xyz
    nodes[:, COL_INTENSITY] = np.broadcast_to(np.asarray(intensity, dtype=np.float32), (n,))
    nodes[:, COL_THREAT] = np.broadcast_to(np.asarray(threat, dtype=np.float32), (n,))
    nodes[:, COL_SIZE] = np.broadcast_to(np.asarray(size, dtype=np.float32), (n,))
    return nodes


def node_lonlat(
    nodes: NDArray[np.float32],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Longitude, latitude (degrees) and altitude (Earth radii) of every node row."""
    return unit_to_lonlat(nodes[:, COL_X : COL_Z + 1])
