"""Keeps the console's C heap from ratcheting up while it streams large frames for hours.

glibc serves a ``malloc`` above its mmap threshold with a private mapping that goes back to the system
on ``free``. By default that threshold is dynamic: each time such a block is freed it rises to the
block's size (up to 32 MiB). A console that decodes multi-megabyte keyframes, fields and gRPC messages
pushes it up within seconds, and from then on those buffers come from the arenas, where long-lived small
objects allocated in between pin freed space. RSS then grows without any Python object being kept: the
R7 soak on ``regional`` gained 240 MB in 135 s after warm-up this way, and 63 MB (of which ~47 MB the
embedded hub's ring filling to its bound) with a fixed threshold. :func:`limit_heap_growth` fixes the
threshold (which turns the dynamic rule off) and the trim threshold. It knows glibc's ``mallopt``
parameters and nothing about frames; on other C libraries it does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

#: Blocks of at least this many bytes are mapped and returned to the system when freed.
MMAP_THRESHOLD_BYTES: Final = 4 * 1024 * 1024
#: Free memory above this at the top of an arena is returned to the system.
TRIM_THRESHOLD_BYTES: Final = 8 * 1024 * 1024

# glibc <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD: Final = -1
_M_MMAP_THRESHOLD: Final = -3


def limit_heap_growth() -> bool:
    """Fix glibc's mmap and trim thresholds for this process; ``False`` where ``mallopt`` is unavailable."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (macOS, Windows, musl): their allocators have no such ratchet to turn off
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


__all__ = ["MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "limit_heap_growth"]
