"""Seeded synthetic node swarms and a best-of timer shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import make_node_buffer


def random_swarm(n: int, seed: int) -> NDArray[np.float32]:
    """``n`` nodes spread evenly over the globe, a little above it, with random intensity and threat."""
    rng = np.random.default_rng(seed)
    return make_node_buffer(
        rng.uniform(-180, 180, n),
        np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
        alt=rng.uniform(0.0, 0.02, n),
        intensity=rng.uniform(0, 1, n),
        threat=rng.uniform(0, 2, n),
    )


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Minimum wall time of ``repeats`` calls: the least disturbed measurement on a shared machine."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
