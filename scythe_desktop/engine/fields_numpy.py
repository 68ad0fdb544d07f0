"""The numpy/scipy backend of the volume fields (:mod:`.fields`), for a build without torch.

The same computation as the torch backend, step for step and in float32: the voxel index of each node in
float32 (exact, see :func:`~.fields.splat`), the scatter-add in node order in float32 (``np.add.at``, as
torch's ``index_add_`` does on the CPU), the three blur products with the same banded matrix, the RF model's
zero-padded FFT convolution (``scipy.fft``, float32 in, complex64 spectra) and the occlusion lookup by the
indices both backends share (:func:`~.fields.occlusion_cells`). What differs is the order in which the BLAS
and FFT libraries sum, hence the tolerance of :data:`~.fields.BACKEND_RTOL`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.fields import EXTENT, RF_SOFTENING, VOLUME_SIGMA, occlusion_cells


def splat(xyz: NDArray[np.float32], weights: NDArray[np.float32], size: int) -> NDArray[np.float32]:
    """Scatter-add of weights into an (S, S, S) float32 voxel grid ([z, y, x])."""
    if size > 256:
        raise ValueError(f"splat size must be at most 256, got {size}")
    scale = np.float32(size / (2.0 * EXTENT))
    q = np.asarray(xyz, dtype=np.float32) * scale
    q += np.float32(EXTENT * (size / (2.0 * EXTENT)))
    q = np.clip(np.floor(q, out=q), 0.0, size - 1.0).astype(np.int64)
    grid = np.zeros(size**3, dtype=np.float32)
    # In node order and in float32, like torch's index_add_: the sums agree to the last bit or nearly.
    np.add.at(grid, q[:, 0] + size * q[:, 1] + size * size * q[:, 2], np.asarray(weights, dtype=np.float32))
    return grid.reshape(size, size, size)


def gaussian_kernel(sigma_vox: float) -> NDArray[np.float32]:
    radius = max(1, int(np.ceil(3.0 * sigma_vox)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(np.float32(-0.5) * (x / np.float32(max(sigma_vox, 1e-6))) ** 2)
    out: NDArray[np.float32] = k / k.sum()
    return out


def blur_matrix(size: int, sigma_vox: float) -> NDArray[np.float32]:
    """(S, S) banded Toeplitz matrix of the truncated Gaussian (zero padding at the edges)."""
    k = gaussian_kernel(sigma_vox)
    r = (k.size - 1) // 2
    d = np.arange(size)[None, :] - np.arange(size)[:, None]
    return np.where(np.abs(d) <= r, k[np.clip(d + r, 0, 2 * r)], np.float32(0.0))


def blur3d(grid: NDArray[np.float32], sigma_vox: float) -> NDArray[np.float32]:
    """Separable Gaussian blur of an (S, S, S) array: the torch backend's three matrix products."""
    s = grid.shape[0]
    k = blur_matrix(s, sigma_vox)
    out = (grid.reshape(-1, s) @ k.T).reshape(s, s, s)  # x
    out = np.matmul(k, out)  # y: k @ every z-slice
    blurred: NDArray[np.float32] = (k @ out.reshape(s, s * s)).reshape(s, s, s)  # z
    return blurred


def volume_gaussian(xyz: NDArray[np.float32], weights: NDArray[np.float32], size: int) -> NDArray[np.float32]:
    sigma_vox = VOLUME_SIGMA * size / (2.0 * EXTENT)
    return np.maximum(blur3d(splat(xyz, weights, size), sigma_vox), np.float32(0.0))


def rf_kernel(size: int) -> NDArray[np.float32]:
    """1/(d² + d₀²) over the (2S)³ wrap-around offsets of the zero-padded convolution, float32."""
    n = 2 * size
    off = np.arange(n, dtype=np.float32)
    off = np.where(off < size, off, off - n) * np.float32(2.0 * EXTENT / size)
    d2 = off[:, None, None] ** 2 + off[None, :, None] ** 2 + off[None, None, :] ** 2
    kernel: NDArray[np.float32] = np.float32(1.0) / (d2 + np.float32(RF_SOFTENING**2))
    return kernel


def volume_rf(
    xyz: NDArray[np.float32], power: NDArray[np.float32], size: int, occlusion_grid: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Σ power/(d² + d₀²) at every voxel, times (1 − occlusion) looked up by the voxel's direction."""
    from scipy import fft  # scipy keeps float32 transforms in single precision (numpy.fft would go to float64)

    n = 2 * size
    spec = fft.rfftn(splat(xyz, power, size), s=(n, n, n)) * fft.rfftn(rf_kernel(size))
    field = fft.irfftn(spec, s=(n, n, n))[:size, :size, :size]
    row, col = occlusion_cells(size, *occlusion_grid.shape)
    occl = np.ascontiguousarray(occlusion_grid, dtype=np.float32)[row, col]
    return np.ascontiguousarray(np.maximum(field * (np.float32(1.0) - occl), np.float32(0.0)), dtype=np.float32)


__all__ = ["blur3d", "blur_matrix", "gaussian_kernel", "rf_kernel", "splat", "volume_gaussian", "volume_rf"]
