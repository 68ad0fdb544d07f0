"""Fan-out of published frames to many subscribers: serialize once, a shared bounded ring, cursors.

The publisher (the world host's tick thread) appends each frame, already serialized into chunk
messages, to one ring shared by every subscriber, and never waits for any of them. A subscriber is a
cursor into that ring: it reads frames in seq order at its own pace. When it falls too far behind
(its next frame was evicted, or it lags more than ``max_lag`` frames while a newer keyframe exists)
it skips the deltas and jumps to the latest keyframe, so a slow client neither stalls the others nor
holds memory: the ring is bounded by ``max_bytes`` plus the frames since the newest keyframe, and
that is all the buffering there is. This module knows chunked bytes and seqs, not worlds or gRPC.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Final

from scythe_desktop.protocol import wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
DEFAULT_MAX_LAG: Final = 64
#: How often a waiting subscriber re-checks ``is_active`` when no frame or cancellation wakes it.
_WAIT_S: Final = 0.5


class HubFull(RuntimeError):
    """More subscribers than the hub was sized for."""


class HubClosed(RuntimeError):
    """The hub is shutting down."""


@dataclass(frozen=True, slots=True)
class Published:
    seq: int
    kind: int
    chunks: tuple[bytes, ...]
    nbytes: int


class FrameHub:
    """Publish frames once; let up to ``max_subscribers`` read them concurrently from a bounded ring."""

    def __init__(
        self,
        *,
        max_subscribers: int = 64,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_lag: int = DEFAULT_MAX_LAG,
        chunk_size: int = wire.DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.max_subscribers = max_subscribers
        self._max_bytes = max_bytes
        self._max_lag = max_lag
        self._chunk_size = chunk_size
        self._ring: deque[Published] = deque()
        self._bytes = 0
        self._keyframe_seq: int | None = None
        self._cond = threading.Condition()
        self._subscribers = 0
        self._closed = False
        self.skipped_to_keyframe = 0  # how many times a lagging subscriber jumped ahead
        # Separate from _cond so that a subscriber taking a frame never wakes the other subscribers.
        self._taken_cond = threading.Condition()
        self._taken = 0

    # ------------------------------------------------------------------------------------ publishing

    def publish(self, seq: int, kind: int, payload: bytes, *, base_seq: int = 0, tick: int = 0) -> None:
        """Append one frame; ``seq`` must be one more than the previous frame's."""
        chunks = tuple(
            wire.serialize_chunks(seq, kind, payload, base_seq=base_seq, tick=tick, chunk_size=self._chunk_size)
        )
        item = Published(seq, kind, chunks, sum(map(len, chunks)))
        with self._cond:
            if self._ring and seq != self._ring[-1].seq + 1:
                raise ValueError(f"seq {seq} does not follow the last published seq {self._ring[-1].seq}")
            self._ring.append(item)
            self._bytes += item.nbytes
            if kind == pb.KEYFRAME:
                self._keyframe_seq = seq
            # Never evict the newest keyframe or anything after it: a resync needs them.
            while len(self._ring) > 1 and self._ring[0].seq != self._keyframe_seq and self._bytes > self._max_bytes:
                self._bytes -= self._ring.popleft().nbytes
            self._cond.notify_all()

    @property
    def latest_seq(self) -> int:
        with self._cond:
            return self._ring[-1].seq if self._ring else 0

    @property
    def subscriber_count(self) -> int:
        with self._cond:
            return self._subscribers

    def wait_taken(self, seq: int, timeout: float) -> bool:
        """Block until some subscriber has taken frame ``seq`` (for producers that pace themselves)."""
        with self._taken_cond:
            return self._taken_cond.wait_for(lambda: self._taken >= seq, timeout)

    def wake(self) -> None:
        """Make waiting subscribers re-check whether they are still wanted (e.g. on RPC cancellation)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------- subscribing

    def subscribe(self, resume_from_seq: int, kinds: Collection[int], is_active: Callable[[], bool]) -> Iterator[bytes]:
        """Serialized ``Frame`` messages after ``resume_from_seq`` (or from the latest keyframe).

        Raises :class:`HubFull` at once when the hub already serves ``max_subscribers``.
        """
        with self._cond:
            if self._closed:
                raise HubClosed("the orchestrator is shutting down")
            if self._subscribers >= self.max_subscribers:
                raise HubFull(f"this orchestrator serves at most {self.max_subscribers} streams")
            self._subscribers += 1
        return self._frames(resume_from_seq, frozenset(kinds), is_active)

    def _frames(self, resume_from_seq: int, kinds: frozenset[int], is_active: Callable[[], bool]) -> Iterator[bytes]:
        try:
            next_seq: int | None = None
            while True:
                with self._cond:
                    item = None
                    while item is None:
                        if self._closed or not is_active():
                            return
                        if self._keyframe_seq is not None:
                            if next_seq is None:
                                next_seq = self._start_seq(resume_from_seq)
                            next_seq = self._catch_up(next_seq)
                            if next_seq <= self._ring[-1].seq:
                                item = self._ring[next_seq - self._ring[0].seq]
                                break
                        self._cond.wait(_WAIT_S)
                assert next_seq is not None
                next_seq += 1
                with self._taken_cond:
                    if item.seq > self._taken:
                        self._taken = item.seq
                        self._taken_cond.notify_all()
                if not kinds or item.kind in kinds:
                    yield from item.chunks  # may block on flow control: outside the lock
        finally:
            with self._cond:
                self._subscribers -= 1

    def _start_seq(self, resume_from_seq: int) -> int:
        oldest, latest = self._ring[0].seq, self._ring[-1].seq
        if resume_from_seq and oldest <= resume_from_seq + 1 <= latest + 1:
            return resume_from_seq + 1
        assert self._keyframe_seq is not None
        return self._keyframe_seq

    def _catch_up(self, next_seq: int) -> int:
        keyframe = self._keyframe_seq
        assert keyframe is not None
        evicted = next_seq < self._ring[0].seq
        lagging = self._ring[-1].seq - next_seq > self._max_lag and keyframe > next_seq
        if evicted or lagging:
            self.skipped_to_keyframe += 1
            return keyframe
        return next_seq
