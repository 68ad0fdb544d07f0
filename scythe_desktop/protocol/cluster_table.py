"""The cluster table on the wire: one fixed, packed, little-endian row layout for ``scythe.v1.ClusterTable``.

:data:`CLUSTER_WIRE_DTYPE` is the contract (its offsets are written out in the ``.proto``); it is decoupled
from the engine's in-memory ``CLUSTER_DTYPE`` on purpose, so the engine may add or reorder columns without
breaking clients. :func:`encode_rows` copies an engine table into it; :func:`decode_rows` checks the sizes
and the values a client relies on (finite coordinates in range, a known state) and raises
:class:`ClusterTableError` naming the field and value otherwise. Knows numpy and the engine's table column
names, not gRPC.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

#: Number of belief states (ACTIVE, QUIET, ACTIVATING, GONE), fixed by the contract.
WIRE_STATES: Final = 4

CLUSTER_WIRE_DTYPE: Final = np.dtype(
    [
        ("id", "<i8"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("node_count", "<i8"),
        ("asn", "<i8"),
        ("state", "<i4"),
        ("flags", "<u4"),
        ("silence_pressure", "<f8"),
        ("coherence", "<f8"),
        ("entropy", "<f8"),
        ("agreement", "<f8"),
        ("ambiguity", "<f8"),
        ("volatility", "<f8"),
        ("coverage_deficit", "<f8"),
        ("confidence", "<f8"),
        ("believed_count", "<f8"),
        ("spread_km", "<f8"),
        ("threat", "<f8"),
        ("belief", "<f8", (WIRE_STATES,)),
    ]
)
assert CLUSTER_WIRE_DTYPE.itemsize == 168  # the proto comment documents these offsets

#: ``flags`` bit 0: some observer has detected the cluster.
FLAG_DETECTED: Final = 1


class ClusterTableError(ValueError):
    """Bytes that are not a valid cluster table; the message names what is wrong."""


def encode_rows(table: NDArray[np.void]) -> bytes:
    """The engine's cluster table (``engine.clusters.CLUSTER_DTYPE`` columns) as wire rows."""
    rows = np.zeros(len(table), dtype=CLUSTER_WIRE_DTYPE)
    for name in CLUSTER_WIRE_DTYPE.names or ():
        if name != "flags":
            rows[name] = table[name]
    rows["flags"] = np.where(table["detected"], FLAG_DETECTED, 0)
    return rows.tobytes()


def decode_rows(data: bytes, row_count: int, row_size: int) -> NDArray[np.void]:
    """A read-only :data:`CLUSTER_WIRE_DTYPE` array from ``ClusterTable`` fields, checked."""
    if row_size != CLUSTER_WIRE_DTYPE.itemsize:
        raise ClusterTableError(
            f"row_size {row_size} is not the scythe.v1 cluster row layout ({CLUSTER_WIRE_DTYPE.itemsize} bytes)"
        )
    if len(data) != row_count * row_size:
        raise ClusterTableError(f"rows holds {len(data)} bytes, but row_count {row_count} × row_size {row_size} "
                                f"= {row_count * row_size}")
    rows = np.frombuffer(data, dtype=CLUSTER_WIRE_DTYPE)
    _check_range(rows, "lon", -180.0, 180.0)
    _check_range(rows, "lat", -90.0, 90.0)
    _check_range(rows, "state", 0, WIRE_STATES - 1)
    _check_range(rows, "coverage_deficit", 0.0, 1.0)
    if (rows["node_count"] < 0).any():
        i = int(np.flatnonzero(rows["node_count"] < 0)[0])
        raise ClusterTableError(f"row {i}: node_count must be >= 0, got {int(rows['node_count'][i])}")
    return rows


def _check_range(rows: NDArray[np.void], name: str, lo: float, hi: float) -> None:
    values = rows[name]
    bad = ~((values >= lo) & (values <= hi))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ClusterTableError(f"row {i}: {name} must be in [{lo}, {hi}], got {values[i]}")


__all__ = ["CLUSTER_WIRE_DTYPE", "FLAG_DETECTED", "WIRE_STATES", "ClusterTableError", "decode_rows", "encode_rows"]
