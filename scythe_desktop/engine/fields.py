"""Fields that make coverage and uncertainty visible: lon/lat grids and volumetric fields.

Grids are ``float32 (H, W)`` in equirectangular layout: row 0 is the *north* edge (lat +90), column 0 is
lon −180, cell centres at ``lon = −180 + (j + ½)·360/W`` and ``lat = 90 − (i + ½)·180/H`` — the layout of
an image of the globe. Volumes are ``float32 (S, S, S)`` indexed ``[z, y, x]`` over the cube
``[−EXTENT, EXTENT]³`` of globe coordinates (Earth radius 1). Two volume models:

* ``gaussian``: scatter-add of node weights into voxels (``index_add_``) then a separable Gaussian blur (one
  banded matrix product per axis);
* ``rf``: an RF propagation picture, Σ power / (d² + d₀²) over nodes, evaluated on the voxel grid as an FFT
  convolution of the splatted power with the 1/(d² + d₀²) kernel, times an interference mask
  (1 − occlusion seen from the voxel's direction).

Two backends compute the volumes (``backend=``, see :mod:`scythe_desktop.engine.backend`): ``torch`` (this
module's tensor helpers ``splat`` … ``blur3d``) and ``numpy`` (numpy + scipy, :mod:`.fields_numpy`, for a
build without torch); ``auto``, the default, is torch when it is installed. Both return float32 in the layout
above and agree to within :data:`BACKEND_RTOL` × the volume's maximum at every voxel (the tests hold them to
it on random swarms and on worlds, both models, sizes 16–96; measured: under 1e-6): the same float32 steps,
summed in different orders by the BLAS and FFT libraries. The grids and bumps are numpy for everyone.

Pure functions over arrays; this module knows nothing of worlds, clusters or observers as objects.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.backend import resolve_backend
from scythe_desktop.engine.geo import EARTH_RADIUS_KM

if TYPE_CHECKING:
    # torch is imported inside the functions that use it: importing it costs seconds, and the embedded
    # orchestrator imports this module on the console's path to its first frame, which needs no volume field.
    import torch

#: Half the side of the volume cube in globe units (a little more than the Earth's radius).
EXTENT: Final = 1.1
#: Gaussian blur width of the volume, in globe units (≈190 km on the surface).
VOLUME_SIGMA: Final = 0.03
#: Softening distance of the RF kernel, in globe units.
RF_SOFTENING: Final = 0.02
#: Point × centre pairs per block of :func:`gaussian_bumps` (2 M float64 = 16 MB a temporary).
BUMP_BLOCK: Final = 2_000_000
#: Bumps are evaluated out to this many σ from their centre (beyond it a term is below e^-32 of its amplitude).
BUMP_CUTOFF_SIGMA: Final = 8.0
#: The torch and numpy volumes differ by at most this times the volume's maximum, voxel by voxel.
BACKEND_RTOL: Final = 1e-5


def cell_centres(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes (W,) and latitudes (H,) of grid cell centres, north row first."""
    if h < 1 or w < 1:
        raise ValueError(f"grid size must be at least 1 x 1, got {h} x {w}")
    lon = -180.0 + (np.arange(w) + 0.5) * (360.0 / w)
    lat = 90.0 - (np.arange(h) + 0.5) * (180.0 / h)
    return lon, lat


def grid_unit_vectors(h: int, w: int) -> NDArray[np.float64]:
    """(H·W, 3) unit vectors of the cell centres, row-major."""
    lon, lat = cell_centres(h, w)
    lo, la = np.radians(lon)[None, :], np.radians(lat)[:, None]
    c = np.cos(la)
    xyz = np.empty((h, w, 3))
    xyz[..., 0] = c * np.cos(lo)
    xyz[..., 1] = c * np.sin(lo)
    xyz[..., 2] = np.sin(la)
    return xyz.reshape(-1, 3)


def gaussian_bumps(
    points: NDArray[np.float64],
    centres: NDArray[np.float64],
    sigma_km: NDArray[np.float64],
    amplitude: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Σ_c amplitude_c · exp(−d²/2σ_c²) at each point, d the great-circle distance; (P,).

    Only pairs within :data:`BUMP_CUTOFF_SIGMA` σ of their centre are evaluated (the rest contribute less than
    e^-32 ≈ 1e-14 of the amplitude each): on a world grid a cluster's bump covers a few percent of the cells, so
    the arccos and exp run on those alone. Points go in blocks of at most :data:`BUMP_BLOCK` point × centre
    pairs, so a large grid over many clusters needs a few 16 MB temporaries instead of P × C × 8 bytes each (a
    1024² grid over 260 clusters: 2 GB)."""
    if centres.shape[0] == 0:
        return np.zeros(points.shape[0])
    sigma = np.broadcast_to(np.asarray(sigma_km, dtype=np.float64), (centres.shape[0],))
    amp = np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (centres.shape[0],))
    cos_cut = np.cos(np.minimum(BUMP_CUTOFF_SIGMA * sigma / EARTH_RADIUS_KM, np.pi))
    out = np.empty(points.shape[0])
    step = max(1, BUMP_BLOCK // centres.shape[0])
    for i in range(0, points.shape[0], step):
        dots = points[i:i + step] @ centres.T
        row, col = np.nonzero(dots >= cos_cut)
        d = EARTH_RADIUS_KM * np.arccos(np.clip(dots[row, col], -1.0, 1.0))
        terms = np.exp(-0.5 * (d / sigma[col]) ** 2) * amp[col]
        out[i:i + step] = np.bincount(row, weights=terms, minlength=dots.shape[0])
    return out


def _voxel_index(xyz: torch.Tensor, size: int) -> torch.Tensor:
    """Linear voxel index (z-major) of each point. Computed in float32, which is exact here: voxel
    coordinates are integers below 2^24 for any size up to 256."""
    import torch

    scale = size / (2.0 * EXTENT)
    q = xyz.mul(scale).add_(EXTENT * scale).floor_().clamp_(0.0, size - 1.0)
    strides = torch.tensor([1.0, size, size * size], dtype=torch.float32)
    return (q @ strides).to(torch.int64)


def splat(xyz: NDArray[np.float32], weights: NDArray[np.float32], size: int) -> torch.Tensor:
    """Scatter-add of weights into an (S, S, S) voxel grid ([z, y, x]); ``xyz`` may be a strided view
    such as ``nodes[:, :3]`` (no copy is made)."""
    import torch

    if size > 256:
        raise ValueError(f"splat size must be at most 256, got {size}")
    with warnings.catch_warnings():
        # Read-only node views are fine: nothing here writes to them.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        pts = torch.from_numpy(np.asarray(xyz, dtype=np.float32))
        w = torch.from_numpy(np.asarray(weights, dtype=np.float32))
    grid = torch.zeros(size**3, dtype=torch.float32).index_add_(0, _voxel_index(pts, size), w)
    return grid.reshape(size, size, size)


def gaussian_kernel(sigma_vox: float) -> torch.Tensor:
    import torch

    radius = max(1, int(np.ceil(3.0 * sigma_vox)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / max(sigma_vox, 1e-6)) ** 2)
    return k / k.sum()


def blur_matrix(size: int, sigma_vox: float) -> torch.Tensor:
    """(S, S) banded Toeplitz matrix of the truncated Gaussian (zero padding at the edges)."""
    import torch

    k = gaussian_kernel(sigma_vox)
    r = (k.numel() - 1) // 2
    d = torch.arange(size)[None, :] - torch.arange(size)[:, None]
    return torch.where(d.abs() <= r, k[(d + r).clamp(0, 2 * r)], torch.zeros(()))


def blur3d(grid: torch.Tensor, sigma_vox: float) -> torch.Tensor:
    """Separable Gaussian blur of an (S, S, S) tensor, one pass per axis.

    Each pass is a matrix product with the banded blur matrix: it does ~S/(2r+1) times the arithmetic of
    a direct convolution but runs as one BLAS call, which measured several times faster here than
    ``conv1d`` over S² rows (that needs a transposed copy per axis as well).
    """
    import torch

    s = grid.shape[0]
    k = blur_matrix(s, sigma_vox)
    out = (grid.reshape(-1, s) @ k.T).reshape(s, s, s)  # x, the last axis
    out = torch.matmul(k, out)  # y: k @ every z-slice
    return (k @ out.reshape(s, s * s)).reshape(s, s, s)  # z


def volume_gaussian(
    xyz: NDArray[np.float32], weights: NDArray[np.float32], size: int, backend: str = "auto"
) -> NDArray[np.float32]:
    """The splatted weights blurred by :data:`VOLUME_SIGMA`, clamped at 0 (module docstring: backends)."""
    if resolve_backend(backend) == "numpy":
        from scythe_desktop.engine import fields_numpy

        return fields_numpy.volume_gaussian(xyz, weights, size)
    import torch

    sigma_vox = VOLUME_SIGMA * size / (2.0 * EXTENT)
    with torch.no_grad():
        field = blur3d(splat(xyz, weights, size), sigma_vox)
        return field.clamp_(min=0.0).numpy()


@lru_cache(maxsize=8)
def occlusion_cells(size: int, h: int, w: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column of the (H, W) grid cell in the direction of every voxel centre, each (S, S, S) [z, y, x]
    (read-only, cached). Both backends look occlusion up by these: computed once in float64, a voxel whose
    direction lies on a cell edge cannot read one cell in torch and its neighbour in numpy."""
    c = (np.arange(size) + 0.5) * (2.0 * EXTENT / size) - EXTENT
    z, y, x = np.meshgrid(c, c, c, indexing="ij")
    r = np.sqrt(x * x + y * y + z * z)
    lon = np.degrees(np.arctan2(y, x))
    lat = np.degrees(np.arcsin(np.clip(z / np.maximum(r, 1e-6), -1.0, 1.0)))
    col = np.clip(((lon + 180.0) * (w / 360.0)).astype(np.intp), 0, w - 1)
    row = np.clip(((90.0 - lat) * (h / 180.0)).astype(np.intp), 0, h - 1)
    row.flags.writeable = col.flags.writeable = False
    return row, col


def volume_rf(
    xyz: NDArray[np.float32],
    power: NDArray[np.float32],
    size: int,
    occlusion_grid: NDArray[np.float32],
    backend: str = "auto",
) -> NDArray[np.float32]:
    """Σ power/(d² + d₀²) at every voxel, times (1 − occlusion) looked up by the voxel's direction
    (:func:`occlusion_cells`), clamped at 0 (module docstring: backends)."""
    if resolve_backend(backend) == "numpy":
        from scythe_desktop.engine import fields_numpy

        return fields_numpy.volume_rf(xyz, power, size, occlusion_grid)
    import torch

    with torch.no_grad():
        p = splat(xyz, power, size)
        n = 2 * size  # zero padding: a linear, not circular, convolution
        vox = 2.0 * EXTENT / size
        off = torch.arange(n, dtype=torch.float32)
        off = torch.where(off < size, off, off - n) * vox
        d2 = off[:, None, None] ** 2 + off[None, :, None] ** 2 + off[None, None, :] ** 2
        kernel = 1.0 / (d2 + RF_SOFTENING**2)
        spec = torch.fft.rfftn(p, s=(n, n, n)) * torch.fft.rfftn(kernel)
        field = torch.fft.irfftn(spec, s=(n, n, n))[:size, :size, :size]
        row, col = occlusion_cells(size, *occlusion_grid.shape)
        occl = torch.from_numpy(np.ascontiguousarray(occlusion_grid, dtype=np.float32)[row, col])
        return (field * (1.0 - occl)).clamp_(min=0.0).contiguous().numpy()


__all__ = [
    "BACKEND_RTOL",
    "EXTENT",
    "RF_SOFTENING",
    "VOLUME_SIGMA",
    "blur3d",
    "cell_centres",
    "gaussian_bumps",
    "gaussian_kernel",
    "grid_unit_vectors",
    "occlusion_cells",
    "splat",
    "volume_gaussian",
    "volume_rf",
]
