"""Messages of an indexed recording, read chunk by chunk through its summary's chunk indexes.

Chunks are decompressed by :mod:`scythe_desktop.recording.chunks` (capped), never by the ``mcap`` package.
Our writer's chunks follow each other in log time (a chunk ends no later than the next begins), so the
chunks holding a topic, in file order, give its messages in log-time order; a seek then costs a binary
search and the one or two chunks it lands in, and the anchor, the state topics and the deltas after them
mostly share the few decoded chunks kept here. Files whose chunks overlap in time (or lack message indexes)
are merged instead: a heap of chunks keyed by their start (or, backwards, end) time and of the messages of
the chunks already opened, so a chunk is decoded only once the merge reaches it. A chunk that cannot be
read raises :class:`ChunkReadError` naming it; the other chunks stay readable. Knows MCAP, not our topics.
"""

from __future__ import annotations

import bisect
import heapq
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from mcap.data_stream import ReadDataStream
from mcap.records import Chunk, ChunkIndex, Message
from mcap.summary import Summary

from scythe_desktop.recording.chunks import ChunkError, check_declared, chunk_records


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    topic: str
    log_time_ns: int
    sequence: int
    data: bytes


class ChunkReadError(ValueError):
    """One chunk of an indexed file could not be read; the message says which and why."""


class ChunkTable:
    """See the module docstring. Not thread-safe."""

    CACHE_CHUNKS: Final = 16

    def __init__(self, stream: BinaryIO, summary: Summary) -> None:
        self._stream = stream
        self._summary = summary
        self._chunks = sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset)
        self.ordered = all(a.message_end_time <= b.message_start_time
                           for a, b in zip(self._chunks, self._chunks[1:], strict=False))
        self._by_topic: dict[str, list[int]] = {}
        self._unindexed: list[int] = []  # chunks whose topics are only known by reading them
        for i, chunk in enumerate(self._chunks):
            if not chunk.message_index_offsets:
                self.ordered = False
                self._unindexed.append(i)
            for channel_id in chunk.message_index_offsets:
                channel = summary.channels.get(channel_id)
                if channel is not None:
                    self._by_topic.setdefault(channel.topic, []).append(i)
        self._cache: OrderedDict[int, list[RecordedMessage]] = OrderedDict()

    def messages(self, topics: list[str], start_ns: int | None, end_ns: int | None,
                 reverse: bool) -> Iterator[RecordedMessage]:
        positions = sorted({*self._unindexed, *(i for t in topics for i in self._by_topic.get(t, ()))})
        wanted = frozenset(topics)

        def keep(m: RecordedMessage) -> bool:
            return m.topic in wanted and (start_ns is None or m.log_time_ns >= start_ns) and (
                end_ns is None or m.log_time_ns <= end_ns)

        if not self.ordered:
            yield from self._merged(positions, keep, start_ns, end_ns, reverse)
            return
        lo = 0 if start_ns is None else bisect.bisect_left(
            positions, start_ns, key=lambda i: self._chunks[i].message_end_time)
        hi = len(positions) if end_ns is None else bisect.bisect_right(
            positions, end_ns, key=lambda i: self._chunks[i].message_start_time)
        for i in reversed(positions[lo:hi]) if reverse else positions[lo:hi]:
            chunk = self._decoded(i)
            yield from filter(keep, reversed(chunk) if reverse else chunk)

    def _merged(self, positions: list[int], keep: Any, start_ns: int | None, end_ns: int | None,
                reverse: bool) -> Iterator[RecordedMessage]:
        """Log-time order (file order on ties; both reversed backwards) across chunks that overlap in time."""
        sign = -1 if reverse else 1
        # (time, 0 = a chunk to open | 1 = a message, chunk position, index in chunk, message or None)
        heap: list[tuple[int, int, int, int, RecordedMessage | None]] = []
        for i in positions:
            c = self._chunks[i]
            if (start_ns is None or c.message_end_time >= start_ns) and (end_ns is None or c.message_start_time
                                                                          <= end_ns):
                heap.append((sign * (c.message_end_time if reverse else c.message_start_time), 0, sign * i, 0, None))
        heapq.heapify(heap)
        while heap:
            _, kind, i, _, message = heapq.heappop(heap)
            if kind == 1:
                assert message is not None
                yield message
                continue
            for n, m in enumerate(self._decoded(sign * i)):
                if keep(m):
                    heapq.heappush(heap, (sign * m.log_time_ns, 1, i, sign * n, m))

    def _decoded(self, i: int) -> list[RecordedMessage]:
        """Chunk ``i``'s messages in log-time order (file order on ties), CRC-checked."""
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        index: ChunkIndex = self._chunks[i]
        where = f"chunk {i} (at byte {index.chunk_start_offset})"
        try:
            check_declared(index.chunk_length, what="bytes of chunk record")
            check_declared(index.uncompressed_size)
            self._stream.seek(index.chunk_start_offset + 1 + 8)  # past the opcode and the record length
            records = chunk_records(Chunk.read(ReadDataStream(self._stream)))
        except ChunkError as exc:
            raise ChunkReadError(f"{where} {exc}") from None
        channels = self._summary.channels
        messages = sorted(((r.log_time, n, r) for n, r in enumerate(records) if isinstance(r, Message)),
                          key=lambda item: (item[0], item[1]))
        decoded = [RecordedMessage(channels[r.channel_id].topic, r.log_time, r.sequence, r.data)
                   for _, _, r in messages]
        self._cache[i] = decoded
        if len(self._cache) > self.CACHE_CHUNKS:
            self._cache.popitem(last=False)
        return decoded


__all__ = ["ChunkReadError", "ChunkTable", "RecordedMessage"]
