"""A bounded, latest-wins hand-over of decoded frames from the stream thread to the GUI thread.

The stream thread :meth:`FrameMailbox.put` s every decoded frame; the GUI thread :meth:`FrameMailbox.take` s
everything pending as one :class:`FrameBatch` when it gets round to it. Nothing piles up without bound:

* a keyframe replaces everything pending for the node swarm (older keyframes and deltas are stale);
* deltas accumulate after it — they must all be applied, in order, or the swarm goes wrong — but at most
  ``max_deltas`` of them; past that the pending deltas are dropped and node frames wait for the next
  keyframe (the orchestrator sends one regularly, and on resume);
* for every other kind (edges, fields, grids, observers) only the newest frame is kept, and a keyframe
  drops pending edges (they index the rows of the keyframe before it);
* a delta whose ``base_seq`` is not the node frame before it breaks the chain: it is dropped and node
  frames wait for a keyframe, so a gap can never pass silently;
* membership frames (node id -> cluster) belong to the node chain: kept in order while their ``base_seq``
  is the latest accepted node frame, dropped with it. They are keyed by stable node id, so the consumer
  applies them after the batch's keyframe and deltas.

:meth:`put` returns ``True`` when the mailbox went from empty to non-empty: that is when the producer
emits its one queued "frames ready" signal, so at most one notification is ever in flight. Pure Python and
thread-safe; it knows frames and seqs, not Qt, gRPC or GL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scythe_desktop.core.frames import FrameKind

#: Kind used for the observer list (a protobuf message, not a core-codec frame).
OBSERVERS_KIND = "observers"


@dataclass(frozen=True, slots=True)
class NodeDelta:
    seq: int
    base_seq: int
    deltas: np.ndarray


@dataclass(frozen=True, slots=True)
class FrameBatch:
    """Everything that was pending, in the order it must be applied.

    ``keyframe`` (if any) comes first, then ``deltas`` in seq order, then ``membership`` (MEMBERSHIP_DTYPE
    arrays in seq order, keyed by node id, valid for the swarm after those deltas); ``latest`` maps every other kind to
    its newest ``(seq, data)``; ``dropped`` counts frames discarded as stale since the previous batch;
    ``received_at`` is the ``time.monotonic()`` at which the oldest frame of the batch was put.
    """

    keyframe: tuple[int, np.ndarray] | None
    deltas: tuple[NodeDelta, ...]
    latest: dict[Any, tuple[int, Any]]
    dropped: int
    last_seq: int
    received_at: float
    membership: tuple[np.ndarray, ...] = ()


@dataclass
class FrameMailbox:
    max_deltas: int = 64
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _keyframe: tuple[int, np.ndarray] | None = None
    _deltas: list[NodeDelta] = field(default_factory=list)
    _membership: list[np.ndarray] = field(default_factory=list)
    _latest: dict[Any, tuple[int, Any]] = field(default_factory=dict)
    _dropped: int = 0
    _last_seq: int = 0
    _node_seq: int | None = None  # seq of the last node frame accepted (None: waiting for a keyframe)
    _empty: bool = True
    _first_at: float = 0.0

    def put(self, kind: Any, seq: int, data: Any, base_seq: int = 0) -> bool:
        """Offer one frame; returns ``True`` when the consumer must be told that frames are ready."""
        with self._lock:
            if self._empty:
                self._first_at = time.monotonic()
            self._last_seq = max(self._last_seq, seq)
            if kind == FrameKind.KEYFRAME:
                self._dropped += len(self._deltas) + (self._keyframe is not None)
                self._keyframe = (seq, data)
                self._deltas = []
                self._dropped += len(self._membership)
                self._membership = []  # keyed by the ids before this keyframe reset them
                self._node_seq = seq
                # Edges index the rows of the keyframe before them: pending ones are stale now.
                self._dropped += self._latest.pop(FrameKind.EDGES, None) is not None
            elif kind == FrameKind.DELTA:
                if self._node_seq is None or base_seq != self._node_seq:
                    self._drop_node_frames(extra=1)
                    return self._notify()
                if len(self._deltas) >= self.max_deltas:
                    self._drop_node_frames(extra=1)
                    return self._notify()
                self._deltas.append(NodeDelta(seq, base_seq, data))
                self._node_seq = seq
            elif kind == FrameKind.MEMBERSHIP:
                if self._node_seq is None or base_seq != self._node_seq:
                    self._dropped += 1  # for a node frame that was dropped or superseded
                    return self._notify()
                self._membership.append(data)  # at most one per node frame, so bounded like the deltas
            else:
                self._dropped += kind in self._latest
                self._latest[kind] = (seq, data)
            return self._notify()

    def reset_chain(self) -> None:
        """Forget the node chain (e.g. the consumer could not apply a delta): wait for the next keyframe."""
        with self._lock:
            self._drop_node_frames(extra=0)

    def take(self) -> FrameBatch | None:
        """Everything pending, or ``None`` when nothing is."""
        with self._lock:
            if self._empty:
                return None
            batch = FrameBatch(self._keyframe, tuple(self._deltas), self._latest, self._dropped, self._last_seq,
                               self._first_at, tuple(self._membership))
            self._keyframe, self._deltas, self._latest, self._dropped = None, [], {}, 0
            self._membership = []
            self._empty = True
            return batch

    @property
    def waiting_for_keyframe(self) -> bool:
        with self._lock:
            return self._node_seq is None

    def _drop_node_frames(self, extra: int) -> None:
        self._dropped += len(self._deltas) + (self._keyframe is not None) + len(self._membership) + extra
        self._keyframe = None
        self._deltas = []
        self._membership = []
        self._node_seq = None

    def _notify(self) -> bool:
        pending = (self._keyframe is not None or bool(self._deltas) or bool(self._membership) or bool(self._latest)
                   or self._dropped > 0)
        was_empty = self._empty
        self._empty = not pending
        return was_empty and pending


__all__ = ["OBSERVERS_KIND", "FrameBatch", "FrameMailbox", "NodeDelta"]
