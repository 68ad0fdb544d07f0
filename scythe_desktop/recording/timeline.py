"""The events of a recording from any point in time, restoring the exact state there first.

:meth:`Timeline.play` at time ``t`` finds the last keyframe or checkpoint at or before ``t`` through
the index (reading backwards, never from the start), emits the latest world info, observers, edges,
grids, fields, metrics and proposals logged before it, then the node frame it anchors on, then every
event after it in log-time order. Events up to ``t`` are flagged ``catch_up`` (apply them at once);
applying the node frames of that sequence to a fresh :class:`~scythe_desktop.core.swarm.NodeSwarm`
gives the very buffer that applying every node frame from the start up to ``t`` gives.

Stream frames come out as the :class:`~scythe_desktop.protocol.wire.WireFrame` the live client yields,
byte for byte. A checkpoint becomes a KEYFRAME; a keyframe resets node ids to rows, so the deltas
after it (until the stream's next keyframe) have their node ids rewritten into that id space by
:class:`IdTranslator` — rows, and so the buffer, are the same either way. MEMBERSHIP frames in that
stretch are left out (the checkpoint holds no clusters; a receiver draws unknown clusters in full until the
next keyframe's membership). This module knows our
topics and frames, not threads or Qt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from google.protobuf.message import DecodeError, Message

from scythe_desktop.core import frames as core_frames
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import RecordedMessage, Recording, RecordingError

#: What playback delivers; checkpoints and the point cloud serve seeking and other tools only.
PLAY_TOPICS: Final = (
    *schemas.FRAME_TOPICS, schemas.TOPIC_WORLD_INFO, schemas.TOPIC_PROPOSALS, schemas.TOPIC_DECISIONS,
    schemas.TOPIC_METRICS, schemas.TOPIC_EVADER,
)
#: Topics whose latest message is part of the state at a time (decisions are bookmarks, not state).
STATE_TOPICS: Final = (
    schemas.TOPIC_WORLD_INFO, schemas.TOPIC_OBSERVERS, schemas.TOPIC_EDGES, schemas.TOPIC_GRIDS,
    schemas.TOPIC_FIELDS, schemas.TOPIC_METRICS, schemas.TOPIC_PROPOSALS,
)
ANCHOR_TOPICS: Final = (schemas.TOPIC_KEYFRAMES, schemas.TOPIC_CHECKPOINTS)
NODE_KINDS: Final = frozenset({pb.KEYFRAME, pb.DELTA})


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """One recorded event. ``frame`` for stream frames (what the live client yields), ``message`` (decoded
    protobuf) for world info, proposals, decisions and metrics. ``catch_up``: part of restoring the state
    at a seek target; apply it at once. ``generation`` grows with every seek (see ReplaySource)."""

    log_time_ns: int
    topic: str
    frame: WireFrame | None = None
    message: Message | None = None
    catch_up: bool = False
    generation: int = 0

    @property
    def is_node_frame(self) -> bool:
        return self.frame is not None and self.frame.kind in NODE_KINDS


class IdTranslator:
    """Maps the stream's node ids onto the id space of a checkpoint loaded as a keyframe (ids = rows).

    An id the checkpoint held becomes its row; an id added after it (``>= next_id``) becomes
    ``id - next_id + N``, as ADD assigns them; anything else maps past every valid id, so applying the
    delta fails with NodeSwarm's own "unknown node id" error. Memory is O(N), whatever the ids.
    """

    _UNKNOWN: Final = int(np.iinfo(np.uint32).max)

    def __init__(self, ids: np.ndarray, next_id: int) -> None:
        self._n = ids.shape[0]
        self._next_id = next_id
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    @classmethod
    def from_checkpoint(cls, cp: Any, path: object) -> IdTranslator:
        ids = np.frombuffer(cp.ids, dtype="<u4").astype(np.int64)
        if ids.size and int(ids.max()) >= cp.next_id:
            raise RecordingError(f"{path}: checkpoint seq {cp.seq} has a node id beyond its next_id {cp.next_id}")
        return cls(ids, int(cp.next_id))

    def translate(self, frame: WireFrame) -> WireFrame:
        """The delta frame with node ids in the checkpoint's id space (same seq, base_seq and tick)."""
        deltas = core_frames.decode(frame.payload).data.copy()
        ids = deltas["node"].astype(np.int64)
        local = np.where(ids >= self._next_id, ids - self._next_id + self._n, -1)
        old = np.flatnonzero(ids < self._next_id)
        if self._n:
            pos = np.minimum(np.searchsorted(self._sorted, ids[old]), self._n - 1)
            held = self._sorted[pos] == ids[old]
            local[old[held]] = self._order[pos[held]]
        local[(local < 0) | (local > self._UNKNOWN)] = self._UNKNOWN
        deltas["node"] = local.astype(np.uint32)
        payload = core_frames.encode_delta(deltas, frame.seq)
        return WireFrame(frame.seq, frame.kind, frame.base_seq, frame.tick, payload)


def _wire_frame(msg: RecordedMessage, path: object) -> WireFrame:
    try:
        f = pb.Frame.FromString(msg.data)
    except DecodeError as exc:
        raise RecordingError(f"{path}: {msg.topic} message at {msg.log_time_ns} ns is not a Frame ({exc})") from None
    return WireFrame(f.seq, f.kind, f.base_seq, f.tick, f.payload)


def decode_event(msg: RecordedMessage, path: object, *, catch_up: bool = False) -> ReplayEvent:
    """A recorded message as a replay event; a message that does not parse is a RecordingError."""
    if msg.topic in schemas.FRAME_TOPICS:
        return ReplayEvent(msg.log_time_ns, msg.topic, frame=_wire_frame(msg, path), catch_up=catch_up)
    try:
        message = schemas.TOPIC_MESSAGE[msg.topic].FromString(msg.data)
    except DecodeError as exc:
        raise RecordingError(f"{path}: {msg.topic} message at {msg.log_time_ns} ns does not parse ({exc})") from None
    return ReplayEvent(msg.log_time_ns, msg.topic, message=message, catch_up=catch_up)


class Timeline:
    """Plays one open :class:`Recording` from any time (see the module docstring)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def play(self, at_ns: int | None = None) -> Iterator[ReplayEvent]:
        rec = self.recording
        path = rec.path
        t = rec.start_ns if at_ns is None else min(max(at_ns, rec.start_ns), rec.end_ns)
        seeking = at_ns is not None
        # Also at the start: a recording begun mid-stream opens with a checkpoint, not a keyframe.
        anchor = rec.latest(ANCHOR_TOPICS, t)
        translator: IdTranslator | None = None
        if anchor is None:
            start, anchor_seq = rec.start_ns, -1
        else:
            start = anchor.log_time_ns
            before = [m for topic in STATE_TOPICS if start > rec.start_ns
                      and (m := rec.latest([topic], start - 1)) is not None]
            for m in sorted(before, key=lambda m: m.log_time_ns):
                yield decode_event(m, path, catch_up=True)
            if anchor.topic == schemas.TOPIC_CHECKPOINTS:
                cp: Any = decode_event(anchor, path).message
                anchor_seq = int(cp.seq)
                translator = IdTranslator.from_checkpoint(cp, path)
                keyframe = WireFrame(anchor_seq, pb.KEYFRAME, 0, int(cp.tick), cp.nodes)
            else:
                keyframe = _wire_frame(anchor, path)
                anchor_seq = keyframe.seq
            yield ReplayEvent(start, schemas.TOPIC_KEYFRAMES, frame=keyframe, catch_up=seeking)
        for m in rec.messages(PLAY_TOPICS, start_ns=start):
            event = decode_event(m, path, catch_up=seeking and m.log_time_ns <= t)
            frame = event.frame
            if frame is not None and frame.kind in NODE_KINDS:
                if frame.seq <= anchor_seq:
                    continue  # already in the anchor
                if frame.kind == pb.KEYFRAME:
                    translator = None
                elif translator is not None:
                    try:
                        frame = translator.translate(frame)
                    except core_frames.FrameError as exc:
                        raise RecordingError(f"{path}: delta seq {frame.seq} is corrupt ({exc})") from None
                    event = ReplayEvent(event.log_time_ns, event.topic, frame=frame, catch_up=event.catch_up)
            elif frame is not None and frame.kind == pb.MEMBERSHIP and translator is not None:
                continue  # names stream ids the checkpoint's id space lacks: clusters stay unknown until a keyframe
            yield event
