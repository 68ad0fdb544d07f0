"""Packed messages: the recorder's smaller, lossless storage of its largest topics (recording format 2).

A packed message (``scythe.recording.v1.Packed``) holds the bytes another schema's message serializes to
(a ``scythe.v1.Frame``, a ``WorldState``) as :func:`unpack` gives them back, bit for bit:

1. the bytes after ``offset`` are rows of ``stride`` bytes (a frame's node, delta or edge rows), transposed
   so that each ``width``-byte column of every row comes together: zstd finds runs in a column of small
   floats or ids that it cannot find across interleaved rows (what a shuffle filter does); the head (the
   Frame fields and the 48-byte frame header) and any tail are kept as they are;
2. with ``compression`` "zstd" that is compressed by zstd itself, and with ``has_ref`` against the
   previous message of the same topic (its transposed bytes as a raw prefix dictionary): a keyframe shares
   half its bytes with the one 10 s before; without, the MCAP chunk's zstd compresses it with its neighbours.

A message with a reference needs that one first; :class:`Packer` makes every ``full_every``-th message of a
topic stand alone, so reading any message decodes at most ``full_every - 1`` others. Sizes are checked
before anything is allocated or decompressed (:func:`~scythe_desktop.recording.chunks.zstd_capped`); every
problem is a :class:`PackError` naming what was wrong. Knows bytes and zstd, not frames or files.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import zstandard
from google.protobuf.message import DecodeError

from scythe_desktop.recording import schemas
from scythe_desktop.recording.chunks import CHUNK_SIZE_LIMIT, ChunkError, zstd_capped

#: zstd's default level: higher ones bought < 3 % here at several times the recorder's time.
LEVEL: Final = 3
#: Wider rows are not frame rows (ours are 24 bytes at most); refusing them bounds the reshapes.
MAX_STRIDE: Final = 4096
#: References followed at most, whatever a (corrupt) file claims; the writer's chains are <= full_every - 1.
MAX_CHAIN: Final = 64

Key = tuple[str, int, int]  # topic, log time, MCAP sequence


class PackError(ValueError):
    """A packed message that cannot be unpacked; the message says why."""


def _columns(data: bytes | bytearray, offset: int, stride: int, width: int, *, inverse: bool) -> bytes:
    """``data`` with its rows after ``offset`` transposed into columns (or back, with ``inverse``)."""
    if stride == 0:
        return bytes(data)
    rows = (len(data) - offset) // stride
    region = np.frombuffer(data, np.uint8, count=rows * stride, offset=offset)
    shape = (stride // width, rows, width) if inverse else (rows, stride // width, width)
    moved = region.reshape(shape).transpose(1, 0, 2).tobytes()
    return bytes(data[:offset]) + moved + bytes(data[offset + rows * stride:])


def _check_layout(size: int, offset: int, stride: int, width: int) -> None:
    if size > CHUNK_SIZE_LIMIT:
        raise PackError(f"declares {size:,} bytes, over the {CHUNK_SIZE_LIMIT:,}-byte limit")
    if offset > size:
        raise PackError(f"rows start at byte {offset:,}, past its {size:,} bytes")
    if stride and (stride > MAX_STRIDE or width < 1 or stride % width):
        raise PackError(f"rows of {stride} bytes in {width}-byte columns are not a layout this build writes")


class Packer:
    """The writer's side: packs each message of a topic of :data:`~scythe_desktop.recording.schemas.PACKING`."""

    def __init__(self, level: int = LEVEL) -> None:
        self._level = level
        self._count: dict[str, int] = {}
        self._last: dict[str, tuple[int, int, bytes]] = {}  # topic -> (log time, sequence, transposed bytes)

    def pack(self, topic: str, data: bytes, log_time_ns: int, sequence: int, offset: int = 0) -> bytes:
        """The serialized ``Packed`` message for ``data``; ``offset``: where its rows begin (0: no head)."""
        how = schemas.PACKING[topic]
        stride = how.stride if len(data) - offset >= how.stride else 0
        moved = _columns(data, offset, stride, how.width, inverse=False)
        n = self._count.get(topic, 0)
        self._count[topic] = n + 1
        last = self._last.get(topic)
        ref = last if how.compress and last is not None and n % how.full_every else None
        msg = schemas.Packed(size=len(data), offset=offset, stride=stride, width=how.width if stride else 1)
        if how.compress:
            msg.compression = "zstd"
            msg.data = self._compressor(ref).compress(moved)
            if ref is not None:
                msg.has_ref, msg.ref_log_time, msg.ref_sequence = True, ref[0], ref[1]
        else:
            msg.data = moved
        if how.compress and how.full_every > 1:
            self._last[topic] = (log_time_ns, sequence, moved)
        return bytes(msg.SerializeToString())

    def _compressor(self, ref: tuple[int, int, bytes] | None) -> zstandard.ZstdCompressor:
        if ref is None:
            return zstandard.ZstdCompressor(level=self._level)
        prefix = zstandard.ZstdCompressionDict(ref[2], dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdCompressor(level=self._level, dict_data=prefix)


class Unpacker:
    """The reader's side. ``fetch(topic, log_time_ns, sequence)`` returns the packed bytes of an earlier
    message (a reference not among the few remembered here), or None when the file has no such message."""

    CACHE: Final = 8

    def __init__(self, fetch: Callable[[str, int, int], bytes | None]) -> None:
        self._fetch = fetch
        self._last: dict[str, tuple[Key, bytes]] = {}  # read forwards, the reference is the topic's last one
        self._cache: OrderedDict[Key, bytes] = OrderedDict()

    def unpack(self, topic: str, packed: bytes, log_time_ns: int, sequence: int) -> bytes:
        """The original message bytes of a packed message."""
        msg = _parse(packed)
        moved = self._moved(msg, (topic, log_time_ns, sequence), 0)
        return _columns(moved, msg.offset, msg.stride, msg.width, inverse=True)

    def _moved(self, msg: Any, key: Key, depth: int) -> bytes:
        """The transposed bytes of ``msg`` (what its successor's reference means)."""
        _check_layout(msg.size, msg.offset, msg.stride, msg.width)
        if msg.compression == "":
            if msg.has_ref:
                raise PackError("has a reference but no compression")
            if len(msg.data) != msg.size:
                raise PackError(f"declares {msg.size:,} bytes but holds {len(msg.data):,}")
            return bytes(msg.data)
        if key in self._cache:  # a seek reads its anchor twice: to find it, then to play from it
            self._cache.move_to_end(key)
            return self._cache[key]
        if msg.compression != "zstd":
            raise PackError(f"uses compression {msg.compression[:32]!r}, which this build does not read")
        prefix = self._reference(msg, key, depth) if msg.has_ref else None
        try:
            moved = bytes(zstd_capped(msg.data, msg.size, prefix))
        except ChunkError as exc:
            raise PackError(str(exc)) from None
        self._remember(key, moved)
        return moved

    def _reference(self, msg: Any, key: Key, depth: int) -> bytes:
        ref: Key = (key[0], int(msg.ref_log_time), int(msg.ref_sequence))
        if ref[1:] == key[1:] or ref[1] > key[1]:
            raise PackError(f"refers to the message at {ref[1]} ns, which is not before it")
        if depth >= MAX_CHAIN:
            raise PackError(f"refers through more than {MAX_CHAIN} messages")
        last = self._last.get(ref[0])
        if last is not None and last[0] == ref:
            return last[1]
        if ref in self._cache:
            self._cache.move_to_end(ref)
            return self._cache[ref]
        packed = self._fetch(*ref)
        if packed is None:
            raise PackError(f"refers to a message at {ref[1]} ns (sequence {ref[2]}) that the file lacks")
        return self._moved(_parse(packed), ref, depth + 1)

    def _remember(self, key: Key, moved: bytes) -> None:
        last = self._last.get(key[0])
        if last is None or last[0][1] <= key[1]:
            self._last[key[0]] = (key, moved)
        self._cache[key] = moved
        self._cache.move_to_end(key)
        if len(self._cache) > self.CACHE:
            self._cache.popitem(last=False)


def _parse(packed: bytes) -> Any:
    try:
        return schemas.Packed.FromString(packed)
    except DecodeError as exc:
        raise PackError(f"is not a Packed message ({exc})") from None


__all__ = ["LEVEL", "MAX_CHAIN", "MAX_STRIDE", "PackError", "Packer", "Unpacker"]
