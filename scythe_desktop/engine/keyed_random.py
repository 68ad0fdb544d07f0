"""Counter-based random numbers keyed by (world seed, tick, stream, index), vectorised over worlds.

A world's random numbers must not depend on the batch it runs in: world 3,000 of 4,096 draws exactly what it
draws alone. So nothing here has state. Every number is a hash of its key, the idea of JAX's keys and of
Philox/threefry counters:

* :func:`stream_keys` mixes (seed, tick, stream) into one 64-bit key per world with two rounds of the
  splitmix64 finaliser (Steele, Lea & Flood 2014), which passes BigCrush as a counter-based generator;
* :func:`uniform` hashes that key with a per-draw ``index`` (a cluster id, an (observer id, cluster id)
  pair, …) with one more finaliser round and keeps the top 53 bits;
* :func:`uniform16` splits one 64-bit hash into four 16-bit uniforms for the rare per-cluster events (a
  probability then has a resolution of 2⁻¹⁶; the shipped rates are ≥ 0.002, i.e. ≥ 131 steps);
* :func:`normal` is Box–Muller over two uniforms of one index (the second from a derived key).

Integer arithmetic on ``uint64`` arrays wraps modulo 2⁶⁴, which is what the hash wants. This module knows
nothing of worlds; its only promise is that the same key and index give the same number on every call.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

_U64 = np.uint64
_GOLDEN: Final = _U64(0x9E3779B97F4A7C15)
_M1: Final = _U64(0xBF58476D1CE4E5B9)
_M2: Final = _U64(0x94D049BB133111EB)
_TICK: Final = _U64(0xD1B54A32D192ED03)
_STREAM: Final = _U64(0x8CB92BA72F3D8DD7)
_S30, _S27, _S31, _S11, _S16 = (_U64(s) for s in (30, 27, 31, 11, 16))
_TO_UNIT: Final = 2.0**-53
_TO_UNIT16: Final = 2.0**-16


class Stream:
    """Stream numbers: one per kind of draw, so that two kinds never share a number."""

    DYNAMICS = 1  # the four per-cluster event hits of a tick (uniform16)
    CASCADE = 2
    SHIFT = 3  # ASN step and bearing
    RESIZE = 4
    SPAWN = 5  # how many clusters spawn (index 0)
    NEW_CLUSTER = 6  # the attributes of a new cluster (index = id * 16 + attribute)
    SEEN = 7  # whether observer o sees cluster c (index = pair)
    REPORT = 8  # which state a detection reports (index = pair)
    COUNT_NOISE = 9  # the count measurement noise of a cluster (index = id)
    NODE_SEEDS = 10  # per-world seed of the node-motion generator (index 0)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser, in place."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


N_STREAMS: Final = 11


def tick_keys(seeds: ArrayLike, tick: ArrayLike) -> NDArray[np.uint64]:
    """Every stream's key for every world at once: (N_STREAMS, B); row ``Stream.X`` is that stream."""
    s = np.asarray(seeds, dtype=np.int64).astype(_U64)
    z = _mix(s * _GOLDEN + _U64(0x632BE59BD9B4E019))
    z += (np.atleast_1d(np.asarray(tick, dtype=np.int64)).astype(_U64) + _U64(1)) * _TICK
    streams = np.array([(k * int(_STREAM)) % 2**64 for k in range(N_STREAMS)], dtype=_U64)
    return _mix(_mix(z[None, :] + streams[:, None]))


def stream_keys(seeds: ArrayLike, tick: ArrayLike, stream: int) -> NDArray[np.uint64]:
    """One stream's key per world: (B,) from (B,) seeds and a tick (scalar or (B,))."""
    return tick_keys(seeds, tick)[stream]


def _hash(keys: NDArray[np.uint64], index: ArrayLike) -> NDArray[np.uint64]:
    """hash(key, index) for keys (B,) and index broadcasting against (B, ...)."""
    idx = np.asarray(index, dtype=np.int64).astype(_U64)
    k = keys.reshape(keys.shape + (1,) * max(idx.ndim - 1, 0)) if idx.ndim >= 1 else keys
    z = (idx + _U64(1)) * _GOLDEN
    z += k
    return _mix(z)


def uniform(keys: NDArray[np.uint64], index: ArrayLike) -> NDArray[np.float64]:
    """Uniforms in [0, 1): keys (B,), ``index`` (B, ...) (or broadcastable to it)."""
    z = _hash(keys, index)
    z >>= _S11
    return z.astype(np.float64) * _TO_UNIT


def uniform16(keys: NDArray[np.uint64], index: ArrayLike) -> NDArray[np.float64]:
    """Four 16-bit uniforms per index: shape (4, *index.shape), in [0, 1)."""
    z = _hash(keys, index)
    out = np.empty((4, *z.shape), dtype=np.float64)
    for j in range(4):
        out[j] = (z & _U64(0xFFFF)).astype(np.float64)
        z >>= _S16
    out *= _TO_UNIT16
    return out


def bits(keys: NDArray[np.uint64], index: ArrayLike) -> NDArray[np.uint64]:
    """The raw 64-bit hashes (e.g. seeds for another generator)."""
    return _hash(keys, index)


def normal(keys: NDArray[np.uint64], index: ArrayLike) -> NDArray[np.float64]:
    """Standard normals: Box–Muller over the uniform of ``index`` and that of a second key derived from
    ``keys`` (so the indices of one stream stay one number each)."""
    u1 = 1.0 - uniform(keys, index)  # (0, 1]: the log is finite
    u2 = uniform(_mix(keys ^ _U64(0x5851F42D4C957F2D)), index)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def integers(keys: NDArray[np.uint64], index: ArrayLike, low: ArrayLike, high: ArrayLike) -> NDArray[np.int64]:
    """Integers in [low, high) (the uniform scaled and floored; a bias below 2⁻⁴⁰ for small ranges)."""
    lo = np.asarray(low, dtype=np.int64)
    span = np.asarray(high, dtype=np.int64) - lo
    return lo + np.minimum(np.floor(uniform(keys, index) * span).astype(np.int64), span - 1)


__all__ = ["N_STREAMS", "Stream", "bits", "integers", "normal", "stream_keys", "tick_keys", "uniform", "uniform16"]
