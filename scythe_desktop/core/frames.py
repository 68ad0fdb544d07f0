"""Binary frame envelope: one fixed 48-byte header, then a payload in the core layout.

Header (little endian, every payload starts at byte 48, a multiple of 8)::

    offset size field
         0    4 magic        b"SCYF"
         4    2 version      FORMAT_VERSION
         6    2 kind         FrameKind
         8    4 flags        reserved, must be 0
        12    4 dim0         rows (keyframe, delta, edges, membership), S (field), H (grid)
        16    4 dim1         6 (keyframe), S (field), W (grid), else 0
        20    4 dim2         S (field), else 0
        24    8 seq          sequence number, u64
        32    8 count        number of elements (rows or cells)
        40    8 payload_len  bytes after the header

Decoding validates the header and the values, then returns ``np.frombuffer`` views into the caller's
buffer: no copy, read-only when the input is. Every problem raises :class:`FrameError` naming what was
wrong; decoding raises nothing else, whatever the bytes. Frames in a byte stream are padded to 8 bytes.

A MEMBERSHIP frame is (N,) ``MEMBERSHIP_DTYPE`` pairs (stable node id, cluster id >= -1): the orchestrator
sends the full list after each keyframe (ids equal rows there) and, after a delta, only the ids whose
cluster is new or changed. Ids survive swap-removes, so a receiver keeps one cluster-by-id array and reads
a row's cluster as ``cluster_by_id[swarm.ids[row]]``; the swarm contract itself does not change.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import (
    COL_INTENSITY,
    COL_THREAT,
    DELTA_DTYPE,
    EDGE_DTYPE,
    FIELD_DTYPE,
    GRID_DTYPE,
    INTENSITY_RANGE,
    MEMBERSHIP_DTYPE,
    NODE_COLUMN_NAMES,
    NODE_COLUMNS,
    NODE_DTYPE,
    THREAT_RANGE,
    DeltaOp,
)

MAGIC: Final = b"SCYF"
FORMAT_VERSION: Final = 1
HEADER: Final = struct.Struct("<4sHHIIIIQQQ")
HEADER_SIZE: Final = HEADER.size  # 48
FRAME_ALIGN: Final = 8
MAX_FIELD_SIDE: Final = 1024

assert HEADER_SIZE == 48


class FrameError(ValueError):
    """A frame that cannot be decoded or applied; the message names what was wrong."""


class FrameKind(IntEnum):
    KEYFRAME = 1
    DELTA = 2
    EDGES = 3
    FIELD = 4
    GRID = 5
    MEMBERSHIP = 7  # 6 is the wire's OBSERVERS (a protobuf message, not a core frame)


_ELEMENT_DTYPE: Final[dict[FrameKind, np.dtype]] = {
    FrameKind.KEYFRAME: NODE_DTYPE,
    FrameKind.DELTA: DELTA_DTYPE,
    FrameKind.EDGES: EDGE_DTYPE,
    FrameKind.FIELD: FIELD_DTYPE,
    FrameKind.GRID: GRID_DTYPE,
    FrameKind.MEMBERSHIP: MEMBERSHIP_DTYPE,
}


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame. ``data`` is a view into the bytes it was decoded from.

    Shapes: keyframe (N, 6) float32; delta (N,) DELTA_DTYPE; edges (N,) EDGE_DTYPE;
    field (S, S, S) float32; grid (H, W) float32; membership (N,) MEMBERSHIP_DTYPE.
    """

    kind: FrameKind
    seq: int
    data: np.ndarray

    @property
    def nbytes(self) -> int:
        return HEADER_SIZE + self.data.nbytes


_ROW_KINDS: Final = (FrameKind.DELTA, FrameKind.EDGES, FrameKind.MEMBERSHIP)

# --------------------------------------------------------------------------------------------- encoding


def _shape_for(kind: FrameKind, data: np.ndarray) -> tuple[int, int, int]:
    if kind is FrameKind.KEYFRAME:
        if data.dtype != NODE_DTYPE or data.ndim != 2 or data.shape[1] != NODE_COLUMNS:
            raise FrameError(f"keyframe payload must be float32 (N, 6), got {data.dtype} {data.shape}")
        return data.shape[0], NODE_COLUMNS, 0
    if kind in _ROW_KINDS:
        if data.dtype != _ELEMENT_DTYPE[kind] or data.ndim != 1:
            raise FrameError(f"{kind.name.lower()} payload must be 1-D {_ELEMENT_DTYPE[kind]}, got {data.dtype}")
        return data.shape[0], 0, 0
    if kind is FrameKind.FIELD:
        if data.dtype != FIELD_DTYPE or data.ndim != 3 or len(set(data.shape)) != 1:
            raise FrameError(f"field payload must be float32 (S, S, S), got {data.dtype} {data.shape}")
        return data.shape[0], data.shape[1], data.shape[2]
    if data.dtype != GRID_DTYPE or data.ndim != 2:
        raise FrameError(f"grid payload must be float32 (H, W), got {data.dtype} {data.shape}")
    return data.shape[0], data.shape[1], 0


def encode_header(kind: FrameKind, seq: int, data: np.ndarray) -> bytes:
    """The 48-byte header for ``data``; send it followed by ``data``'s bytes (see :func:`encode`)."""
    kind = FrameKind(kind)
    if not 0 <= seq < 2**64:
        raise FrameError(f"sequence number must fit in u64, got {seq}")
    dim0, dim1, dim2 = _shape_for(kind, data)
    return HEADER.pack(MAGIC, FORMAT_VERSION, kind, 0, dim0, dim1, dim2, seq, data.size, data.nbytes)


def encode(kind: FrameKind, seq: int, data: np.ndarray) -> bytes:
    """One frame as bytes: header plus the C-ordered payload (one copy of the payload)."""
    header = encode_header(kind, seq, data)
    return header + np.ascontiguousarray(data).tobytes()


def encode_keyframe(nodes: NDArray[np.float32], seq: int) -> bytes:
    return encode(FrameKind.KEYFRAME, seq, nodes)


def encode_delta(deltas: np.ndarray, seq: int) -> bytes:
    return encode(FrameKind.DELTA, seq, deltas)


def encode_edges(edges: np.ndarray, seq: int) -> bytes:
    return encode(FrameKind.EDGES, seq, edges)


def encode_field(field: NDArray[np.float32], seq: int) -> bytes:
    return encode(FrameKind.FIELD, seq, field)


def encode_grid(grid: NDArray[np.float32], seq: int) -> bytes:
    return encode(FrameKind.GRID, seq, grid)


def encode_membership(pairs: np.ndarray, seq: int) -> bytes:
    return encode(FrameKind.MEMBERSHIP, seq, pairs)


def encode_stream(frames: list[bytes]) -> bytes:
    """Concatenate encoded frames, padding each to 8 bytes, for :func:`iter_frames`."""
    parts: list[bytes] = []
    for f in frames:
        parts.append(f)
        pad = -len(f) % FRAME_ALIGN
        if pad:
            parts.append(b"\0" * pad)
    return b"".join(parts)


# --------------------------------------------------------------------------------------------- decoding

_Buffer = bytes | bytearray | memoryview


def decode(buf: _Buffer, offset: int = 0) -> Frame:
    """Decode and validate the frame at ``offset``; trailing bytes after the payload are an error."""
    frame, end = _decode_at(buf, offset)
    if end != len(_as_memoryview(buf)):
        raise FrameError(f"{len(_as_memoryview(buf)) - end} trailing bytes after the frame ending at byte {end}")
    return frame


def iter_frames(buf: _Buffer) -> Iterator[Frame]:
    """Decode every frame of an 8-byte padded stream made by :func:`encode_stream`."""
    mv = _as_memoryview(buf)
    offset = 0
    while offset < len(mv):
        frame, end = _decode_at(buf, offset)
        yield frame
        offset = end + (-end % FRAME_ALIGN)


def _as_memoryview(buf: _Buffer) -> memoryview:
    try:
        mv = memoryview(buf)
    except TypeError as exc:
        raise FrameError(f"frame must be a bytes-like object, got {type(buf).__name__}") from exc
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    return mv


def _decode_at(buf: _Buffer, offset: int) -> tuple[Frame, int]:
    mv = _as_memoryview(buf)
    if len(mv) - offset < HEADER_SIZE:
        raise FrameError(f"truncated at byte {len(mv)}: header needs {HEADER_SIZE} bytes from byte {offset}")
    magic, version, kind_raw, flags, dim0, dim1, dim2, seq, count, payload_len = HEADER.unpack_from(mv, offset)
    if magic != MAGIC:
        raise FrameError(f"bad magic {magic!r} at byte {offset}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise FrameError(f"unsupported format version {version}, this build reads {FORMAT_VERSION}")
    try:
        kind = FrameKind(kind_raw)
    except ValueError:
        raise FrameError(f"unknown frame kind {kind_raw}") from None
    if flags != 0:
        raise FrameError(f"reserved flags must be 0, got {flags:#x}")
    shape = _check_shape(kind, dim0, dim1, dim2, count)
    dtype = _ELEMENT_DTYPE[kind]
    if payload_len != count * dtype.itemsize:
        raise FrameError(
            f"count/length mismatch: {count} {kind.name.lower()} elements need "
            f"{count * dtype.itemsize} bytes, header says {payload_len}"
        )
    start = offset + HEADER_SIZE
    end = start + payload_len
    if end > len(mv):
        raise FrameError(f"truncated at byte {len(mv)}: payload needs bytes {start}..{end}")
    data = np.frombuffer(mv, dtype=dtype, count=count, offset=start).reshape(shape)
    _validate_values(kind, data)
    return Frame(kind, seq, data), end


def _check_shape(kind: FrameKind, dim0: int, dim1: int, dim2: int, count: int) -> tuple[int, ...]:
    if kind is FrameKind.KEYFRAME:
        if dim1 != NODE_COLUMNS or dim2 != 0 or count != dim0 * NODE_COLUMNS:
            raise FrameError(f"keyframe shape ({dim0}, {dim1}, {dim2}) with count {count} is not (N, 6)")
        return (dim0, NODE_COLUMNS)
    if kind in _ROW_KINDS:
        if dim1 != 0 or dim2 != 0 or count != dim0:
            raise FrameError(f"{kind.name.lower()} shape ({dim0}, {dim1}, {dim2}) with count {count} is not (N,)")
        return (dim0,)
    if kind is FrameKind.FIELD:
        if not (dim0 == dim1 == dim2) or dim0 > MAX_FIELD_SIDE or count != dim0**3:
            raise FrameError(f"field shape ({dim0}, {dim1}, {dim2}) with count {count} is not a cube (S, S, S)")
        return (dim0, dim1, dim2)
    if dim2 != 0 or count != dim0 * dim1:
        raise FrameError(f"grid shape ({dim0}, {dim1}, {dim2}) with count {count} is not (H, W)")
    return (dim0, dim1)


def _validate_values(kind: FrameKind, data: np.ndarray) -> None:
    if kind is FrameKind.KEYFRAME:
        validate_nodes(data)
    elif kind is FrameKind.DELTA:
        validate_deltas(data)
    elif kind is FrameKind.EDGES:
        conf = data["confidence"]
        _require_finite(conf, "edge confidence")
        if conf.size and (conf.min() < 0.0 or conf.max() > 1.0):
            i = int(np.flatnonzero((conf < 0.0) | (conf > 1.0))[0])
            raise FrameError(f"edge confidence out of range [0, 1] at edge {i}: {conf[i]!r}")
    elif kind is FrameKind.MEMBERSHIP:
        cluster = data["cluster"]
        if cluster.size and cluster.min() < -1:
            i = int(np.flatnonzero(cluster < -1)[0])
            node = int(data["node"][i])
            raise FrameError(f"membership cluster must be >= -1, got {int(cluster[i])} at pair {i} (node {node})")
    else:
        _require_finite(data, f"{kind.name.lower()} value")


def _require_finite(values: np.ndarray, what: str) -> None:
    # A sum is one fast SIMD pass; NaN and inf propagate through it. Only when it is not finite (a
    # real non-finite value, or an overflow of huge finite ones) do we pay for locating the culprit.
    if values.size == 0 or np.isfinite(np.add.reduce(values, axis=None, dtype=np.float64)):
        return
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise FrameError(f"non-finite {what} at index {int(bad[0])}: {values.reshape(-1)[bad[0]]!r}")


_BLOCK_ROWS: Final = 256  # rows per reduction row: wide rows let numpy vectorise the reduction
# Upper bounds of the intensity and threat columns as raw float32 bits. For a float32 v, its bits read as
# uint32 are <= bits(b) exactly when +0.0 <= v <= b: negatives (sign bit), NaN and inf all read larger.
_ATTR_BITS_MAX: Final = np.array([INTENSITY_RANGE[1], THREAT_RANGE[1]], dtype="<f4").view("<u4")


def _column_bits_max(nodes: np.ndarray) -> np.ndarray:
    """Per-column max of the rows' raw uint32 bits, in one pass at memory speed.

    ``max(axis=0)`` on (N, 6) iterates six values at a time and is ~50x slower; blocks of 256 rows
    (1,536 values) make it one long vectorised loop. The last block overlaps the others when N is not
    a multiple of 256, which a max does not mind.
    """
    bits = nodes.view("<u4")
    n = bits.shape[0]
    if n < _BLOCK_ROWS:
        return np.maximum.reduce(bits, axis=0)
    full = n - n % _BLOCK_ROWS
    width = _BLOCK_ROWS * NODE_COLUMNS
    wide = np.maximum.reduce(bits[:full].reshape(-1, width), axis=0)
    if full < n:
        np.maximum(wide, bits[n - _BLOCK_ROWS :].reshape(width), out=wide)
    return np.maximum.reduce(wide.reshape(_BLOCK_ROWS, NODE_COLUMNS), axis=0)


def validate_nodes(nodes: np.ndarray) -> None:
    """Reject non-finite values and intensity/threat outside their ranges, naming row and column.

    The fast path is two passes: a BLAS dot product, which is finite only if every value is finite
    (NaN and inf propagate; a huge finite value may overflow, which only sends us to the slow path),
    and the bit-pattern max above. Anything it cannot vouch for (including an exact -0.0) is checked
    exactly by the slow path, which alone raises.
    """
    if nodes.shape[0] == 0:
        return
    flat = nodes.reshape(-1)
    with np.errstate(over="ignore"):  # an overflow only means "take the slow path"
        square_sum = np.dot(flat, flat)
    if np.isfinite(square_sum) and (
        _column_bits_max(nodes)[COL_INTENSITY : COL_THREAT + 1] <= _ATTR_BITS_MAX
    ).all():
        return
    bad = np.flatnonzero(~np.isfinite(flat))
    if bad.size:
        i = int(bad[0])
        row, col = divmod(i, NODE_COLUMNS)
        raise FrameError(f"non-finite value at index {i} (row {row}, {NODE_COLUMN_NAMES[col]}): {flat[i]!r}")
    for col, (rmin, rmax) in ((COL_INTENSITY, INTENSITY_RANGE), (COL_THREAT, THREAT_RANGE)):
        column = nodes[:, col]
        outside = np.flatnonzero((column < rmin) | (column > rmax))
        if outside.size:
            row = int(outside[0])
            raise FrameError(
                f"{NODE_COLUMN_NAMES[col]} out of range [{rmin:g}, {rmax:g}] at row {row}: {column[row]!r}"
            )


def validate_deltas(deltas: np.ndarray) -> None:
    """Reject unknown ops and non-finite values; node ids are checked when the delta is applied."""
    if deltas.shape[0] == 0:
        return
    ops = deltas["op"]
    if ops.max() > max(DeltaOp):
        i = int(np.flatnonzero(ops > max(DeltaOp))[0])
        raise FrameError(f"unknown op {int(ops[i])} at delta {i}")
    values = deltas.view(np.float32).reshape(-1, 6)[:, 2:]
    if not np.isfinite(np.add.reduce(values, axis=None, dtype=np.float64)):
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if bad.size:
            i = int(bad[0])
            raise FrameError(f"non-finite value in delta {i} (node {int(deltas['node'][i])})")
