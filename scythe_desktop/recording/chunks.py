"""MCAP chunks decompressed by us, with a cap, instead of by the ``mcap`` package.

``mcap`` decompresses a chunk to whatever size its header declares (zstd) or to whatever the data expands
to (lz4), so a 15 KB file can make a reader allocate gigabytes. Here a chunk whose declared
``uncompressed_size`` is over :data:`CHUNK_SIZE_LIMIT` is refused before any byte is decompressed, and the
decompression itself writes into a buffer of the declared size plus one byte, so a chunk that lies about its
size costs at most its declared size in memory (and is refused). Problems are :class:`ChunkError` saying what
the chunk claimed; the caller names the file and where the chunk is. Knows MCAP records, not our topics.
"""

from __future__ import annotations

import zlib
from io import BytesIO
from typing import IO, Final, cast

import lz4.frame
import zstandard
from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.records import Channel, Chunk, McapRecord, Message, Schema

#: Larger records are corrupt or hostile (stops a mutated length from making a reader allocate gigabytes).
RECORD_SIZE_LIMIT: Final = 256 * 1024 * 1024
#: Larger decompressed chunks are refused. The writer's chunks are ~0.5 MiB plus at most one message; the
#: largest message is the swarm's point cloud, 24 bytes a node: 128 MiB holds 5 M nodes, four times ``global``.
CHUNK_SIZE_LIMIT: Final = 128 * 1024 * 1024


class ChunkError(ValueError):
    """A chunk that cannot be decompressed within its declared size and our limit."""


def check_declared(size: int, limit: int = CHUNK_SIZE_LIMIT, *, what: str = "uncompressed bytes") -> None:
    """Refuse a chunk whose header asks for more than ``limit`` bytes, before anything is read or allocated."""
    if size > limit:
        raise ChunkError(f"declares {size:,} {what}, over the {limit:,}-byte limit; refused before decompressing")


def decompress(chunk: Chunk, limit: int = CHUNK_SIZE_LIMIT) -> bytes | bytearray:
    """The chunk's records section: at most ``chunk.uncompressed_size`` bytes, which must be ≤ ``limit``."""
    declared = chunk.uncompressed_size
    check_declared(declared, limit)
    data: bytes | bytearray
    if chunk.compression == "":
        data = chunk.data
    elif chunk.compression == "zstd":
        data = _zstd(chunk.data, declared)
    elif chunk.compression == "lz4":
        data = _lz4(chunk.data, declared)
    else:
        raise ChunkError(f"uses compression {chunk.compression[:32]!r}, which this build does not read")
    if len(data) > declared:
        raise ChunkError(f"declares {declared:,} uncompressed bytes but holds more (decompression stopped there)")
    if len(data) < declared:
        raise ChunkError(f"declares {declared:,} uncompressed bytes but holds {len(data):,}")
    if chunk.uncompressed_crc != 0 and zlib.crc32(data) != chunk.uncompressed_crc:
        raise ChunkError("fails its CRC check")
    return data


def zstd_capped(data: bytes, declared: int, prefix: bytes | None = None,
                limit: int = CHUNK_SIZE_LIMIT) -> bytearray:
    """zstd ``data`` (compressed against the raw bytes ``prefix``, if given) to at most ``declared`` bytes,
    which must be <= ``limit``; more or fewer is a :class:`ChunkError`. Used for packed messages too."""
    check_declared(declared, limit)
    out = _zstd(data, declared, prefix)
    if len(out) != declared:
        raise ChunkError(f"declares {declared:,} uncompressed bytes but holds "
                         f"{'more' if len(out) > declared else f'{len(out):,}'}")
    return out


def _zstd(data: bytes, declared: int, prefix: bytes | None = None) -> bytearray:
    out = bytearray(declared + 1)  # one byte more than declared tells a lying chunk
    view, filled = memoryview(out), 0
    dictionary = None if prefix is None else zstandard.ZstdCompressionDict(
        prefix, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    try:
        with zstandard.ZstdDecompressor(dict_data=dictionary).stream_reader(BytesIO(data)) as reader:
            while filled <= declared:
                got = reader.readinto(view[filled:])
                if not got:
                    break
                filled += got
    except zstandard.ZstdError as exc:
        raise ChunkError(f"is not valid zstd ({exc})") from None
    view.release()
    del out[filled:]
    return out


def _lz4(data: bytes, declared: int) -> bytes:
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        out = decompressor.decompress(data, max_length=declared + 1)
    except RuntimeError as exc:  # lz4.frame reports corrupt frames as RuntimeError
        raise ChunkError(f"is not a valid lz4 frame ({exc})") from None
    return bytes(out)


class _View:
    """A read-only stream over a buffer (``BytesIO`` would copy a bytearray)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, n: int) -> bytes:
        piece = self._view[self._pos:self._pos + n].tobytes()
        self._pos += len(piece)
        return piece


def chunk_records(chunk: Chunk, limit: int = CHUNK_SIZE_LIMIT) -> list[McapRecord]:
    """The schema, channel and message records of a chunk (``mcap.stream_reader.breakup_chunk``, capped)."""
    data = decompress(chunk, limit)
    stream = ReadDataStream(cast(IO[bytes], _View(data)))  # reads slices, never a second copy of the chunk
    records: list[McapRecord] = []
    try:
        while stream.count < len(data):
            opcode = stream.read1()
            length = stream.read8()
            if length > len(data) - stream.count:
                raise ChunkError(f"holds a record of {length:,} bytes past the chunk's end")
            if opcode == Opcode.CHANNEL:
                records.append(Channel.read(stream))
            elif opcode == Opcode.MESSAGE:
                records.append(Message.read(stream, length))
            elif opcode == Opcode.SCHEMA:
                records.append(Schema.read(stream))
            else:
                stream.read(length)  # a record type chunks may carry that we do not use
    except ChunkError:
        raise
    except Exception as exc:  # mcap's record parsers raise many types on corrupt bytes
        raise ChunkError(f"holds a malformed record after {len(records)} good ones ({type(exc).__name__})") from None
    return records


__all__ = ["CHUNK_SIZE_LIMIT", "RECORD_SIZE_LIMIT", "ChunkError", "check_declared", "chunk_records", "decompress",
           "zstd_capped"]
