"""``Recorder``: write a crash-safe SCYTHE recording (MCAP, zstd chunks, indexed) from stream frames and decisions.

Crash safety comes from the layout, not from luck. Messages go into small zstd chunks; the recorder
closes the open chunk and flushes it to the operating system at least every ``flush_interval_s``
seconds of wall time (and whenever a chunk passes ``chunk_size`` uncompressed bytes). Schemas and
channels are written inside the chunks that first use them, so every complete chunk on disk is
self-describing. **Worst-case loss window**: after ``kill -9`` a file keeps every message written up
to the last flush, so it loses at most the last ``flush_interval_s`` (default 0.5 s) of *wall* time
of messages (in a faster-than-real-time run that is more log time: 0.5 s wall at 60x is 30 s of
simulated time); after a power cut, add what the OS had not yet written unless ``fsync=True``. The
summary and indexes are written by :meth:`Recorder.close`; a file without them is "not cleanly closed"
and ``scythe recording repair`` rebuilds them from the complete chunks.

Seeking never replays from the start: besides the stream's own keyframes, whenever no keyframe came
for ``keyframe_interval_s`` of log time the recorder writes a ``Checkpoint`` (the node buffer after
the latest delta plus the stream's node ids, kept by a :class:`~scythe_desktop.core.swarm.NodeSwarm`)
on the checkpoint topic. Frames themselves are stored unchanged. With ``pointcloud_interval_s`` (None, the
default: never; ``scythe recording export-foxglove`` sets it) the swarm is also written, at a keyframe or
checkpoint at most that often, as a ``foxglove.PointCloud`` (our 24-byte rows, unchanged) for Foxglove's 3-D
panel, which shows the latest one. The largest topics (deltas, edges, keyframes, world states) are stored as
``scythe.recording.v1.Packed`` messages (:mod:`~scythe_desktop.recording.packing`, recording format 2), which
the reader turns back into the very bytes written here.

:class:`Recorder` is used from one thread; :class:`RecordingWorker` puts it on its own thread so the
stream never waits for the disk (and a stalled stream's last messages still reach it within the
flush interval). This module knows frames, messages and the engine's proposals, not Qt or gRPC.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol, cast

import numpy as np
from google.protobuf.message import Message
from mcap.writer import CompressionType, Writer

from scythe_desktop import __version__
from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.frames import HEADER_SIZE
from scythe_desktop.core.layout import NODE_COLUMN_NAMES, NODE_STRIDE
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.proposals import Proposal as EngineProposal
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.protocol.world_wire import WorldInfo, world_info_message
from scythe_desktop.recording import defaults, schemas
from scythe_desktop.recording.packing import Packer

_NS: Final = 1_000_000_000
_FLOAT32: Final = 7  # foxglove.PackedElementField.NumericType.FLOAT32


class SwarmState(Protocol):
    """What a checkpoint stores: a :class:`NodeSwarm`, or a :class:`SwarmSnapshot` of one."""

    @property
    def nodes(self) -> np.ndarray: ...

    @property
    def ids(self) -> np.ndarray: ...

    @property
    def next_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SwarmSnapshot:
    nodes: np.ndarray
    ids: np.ndarray
    next_id: int


class RecorderClosed(RuntimeError):
    """A write after :meth:`Recorder.close`."""


def proposal_message(p: EngineProposal) -> Message:
    """An engine proposal as a ``scythe.recording.v1.Proposal`` (the action's own parameters filled in)."""
    msg = schemas.Proposal(
        kind=p.kind, target=p.target, predicted_information_gain=p.predicted_information_gain,
        cost_per_hour=p.cost_per_hour, confidence=p.confidence, explanation=p.explanation, policy=p.policy,
        observer_id=-1, cluster_id=-1,
    )
    action: Any = p.action
    for name in ("lon", "lat", "observer_id", "cluster_id"):
        if hasattr(action, name):
            setattr(msg, name, getattr(action, name))
    if getattr(action, "observer_type", None):
        msg.observer_type = action.observer_type
    return msg


def decision_message(
    proposal: EngineProposal, *, who: str, outcome: str, reason: str = "", ok: bool = True, request_id: str = "",
    tick: int = 0, observer_id: int | None = None, cost_per_hour: float = 0.0, decided_unix: float | None = None,
) -> Message:
    """A ``scythe.recording.v1.Decision``: ``who`` ("operator:alice", "policy:greedy", "automate") decided
    ``outcome`` ("confirmed", "rejected", "automated", "refused", …) on ``proposal``, when (Unix time,
    now by default) and what came of it."""
    return schemas.Decision(
        request_id=request_id, who=who, decided_unix=time.time() if decided_unix is None else decided_unix,
        tick=tick, outcome=outcome, reason=reason, ok=ok, proposal=proposal_message(proposal),
        observer_id=-1 if observer_id is None else observer_id, cost_per_hour=cost_per_hour,
    )


def pointcloud_message(nodes: np.ndarray, log_time_ns: int) -> Message:
    """The (N, 6) node buffer as a ``foxglove.PointCloud``: the same bytes, described as six float32 fields."""
    cloud = schemas.PointCloud(frame_id="globe", point_stride=NODE_STRIDE, data=nodes.tobytes())
    cloud.timestamp.FromNanoseconds(log_time_ns)
    cloud.pose.orientation.w = 1.0
    for i, name in enumerate(NODE_COLUMN_NAMES):
        cloud.fields.add(name=name, offset=4 * i, type=_FLOAT32)
    return cloud


class Recorder:
    """Writes one recording file. Use from one thread, or through :class:`RecordingWorker`.

    ``path`` must not exist unless ``overwrite`` (a recording is never clobbered by accident).
    ``keyframe_interval_s`` is the most log time between seek points. ``metadata`` (string → string,
    e.g. scenario, seed, policy, source) is stored at the start of the file, where a truncated file
    still has it. ``clock`` gives wall time for the flush policy.
    ``on_flush(message_count, last_log_time_ns)`` runs after each flush: everything counted is then
    on disk and survives a kill.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        metadata: Mapping[str, str] | None = None,
        keyframe_interval_s: float = defaults.KEYFRAME_INTERVAL_S,
        flush_interval_s: float = defaults.FLUSH_INTERVAL_S,
        chunk_size: int = defaults.CHUNK_SIZE,
        pointcloud_interval_s: float | None = None,
        fsync: bool = False,
        overwrite: bool = False,
        clock: Callable[[], float] = time.monotonic,
        on_flush: Callable[[int, int], None] | None = None,
    ) -> None:
        if not keyframe_interval_s > 0:
            raise ValueError(f"keyframe_interval_s must be > 0, got {keyframe_interval_s!r}")
        if not flush_interval_s >= 0:
            raise ValueError(f"flush_interval_s must be >= 0, got {flush_interval_s!r}")
        self.path = Path(path)
        self._file: BinaryIO = open(self.path, "wb" if overwrite else "xb")  # noqa: SIM115 - closed in close()
        self._writer = Writer(self._file, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        self._writer.start(profile=schemas.PROFILE, library=f"scythe-desktop {__version__}")
        meta = {"format": str(schemas.RECORDING_FORMAT), **(metadata or {})}
        self._writer.add_metadata(schemas.METADATA_NAME, meta)
        self._keyframe_interval_ns = int(keyframe_interval_s * _NS)
        self.flush_interval_s = flush_interval_s
        self._pointcloud_interval_ns = None if pointcloud_interval_s is None else int(pointcloud_interval_s * _NS)
        self._last_pointcloud_ns: int | None = None
        self.pointclouds_written = 0
        self._fsync = fsync
        self._clock = clock
        self._on_flush = on_flush
        self._last_flush = clock()
        self._packer = Packer()
        self._schema_ids: dict[str, int] = {}
        self._channel_ids: dict[str, int] = {}
        self._swarm = NodeSwarm()
        self._swarm_valid = False  # False until a keyframe arrives, and after a delta that did not apply
        self._last_anchor_ns: int | None = None
        self._last_log_time = 0
        self._unflushed = 0
        self.message_count = 0
        self.closed = False

    # ----------------------------------------------------------------------------------------- writing

    def write_frame(self, frame: WireFrame, log_time_ns: int) -> None:
        """One stream frame exactly as the client yielded it; keyframes and checkpoints also feed seeking."""
        topic = schemas.FRAME_TOPIC_BY_KIND.get(frame.kind)
        if topic is None:
            raise ValueError(f"frame seq {frame.seq} has unknown kind {frame.kind}")
        msg = pb.Frame(seq=frame.seq, kind=cast("pb.FrameKind", frame.kind), base_seq=frame.base_seq,
                       tick=frame.tick, chunk_index=0, chunk_count=1, total_size=len(frame.payload),
                       payload=frame.payload)
        data = msg.SerializeToString()
        # payload is the Frame's last field, so its rows (after the 48-byte frame header) end the bytes.
        rows = len(frame.payload) - HEADER_SIZE
        self._add(topic, data, log_time_ns, frame.seq, rows_at=len(data) - rows if rows > 0 else len(data))
        if frame.kind == pb.KEYFRAME:
            self._on_keyframe(frame, log_time_ns)
        elif frame.kind == pb.DELTA:
            self._on_delta(frame, log_time_ns)
        self.flush_if_due()

    def write_world_info(self, info: WorldInfo | pb.WorldInfo, log_time_ns: int) -> None:
        """The world's facts as the orchestrator gave them (the message itself, or the client's value of it)."""
        message = info if isinstance(info, pb.WorldInfo) else world_info_message(info)
        self._add(schemas.TOPIC_WORLD_INFO, message.SerializeToString(), log_time_ns, 0)
        self.flush_if_due()

    def write_proposals(self, proposals: Iterable[EngineProposal], tick: int, log_time_ns: int,
                        policy: str = "") -> None:
        msg = schemas.ProposalSet(tick=tick, policy=policy, proposals=[proposal_message(p) for p in proposals])
        self._add(schemas.TOPIC_PROPOSALS, msg.SerializeToString(), log_time_ns, tick)
        self.flush_if_due()

    def write_decision(self, decision: Message, log_time_ns: int) -> None:
        """A ``schemas.Decision``: who decided what and when, and what came of it (a replay bookmark)."""
        self._add(schemas.TOPIC_DECISIONS, decision.SerializeToString(), log_time_ns, 0)
        self.flush_if_due()

    def write_metrics(self, tick: int, values: Mapping[str, float], log_time_ns: int) -> None:
        msg = schemas.Metrics(tick=tick)
        for name, value in values.items():
            msg.values.add(name=name, value=float(value))
        self._add(schemas.TOPIC_METRICS, msg.SerializeToString(), log_time_ns, tick)
        self.flush_if_due()

    def write_evader_moves(self, tick: int, evader: str, moves: Iterable[tuple[str, int, float, float]],
                           log_time_ns: int) -> None:
        """What an adversarial world's evader did in ``tick``: (kind, cluster id, lon, lat) per move."""
        msg = schemas.EvaderMoves(tick=tick, evader=evader)
        for kind, cluster_id, lon, lat in moves:
            msg.moves.add(kind=kind, cluster_id=int(cluster_id), lon=float(lon), lat=float(lat))
        self._add(schemas.TOPIC_EVADER, msg.SerializeToString(), log_time_ns, tick)
        self.flush_if_due()

    def copy_message(self, topic: str, data: bytes, log_time_ns: int, sequence: int) -> None:
        """A non-frame message of another recording, byte for byte (a what-if branch's shared past, an export).
        Frames go through :meth:`write_frame`, which also keeps this recorder's seek checkpoints and point
        clouds; copying a point cloud is refused (it is derived from frames). A copied checkpoint is kept as
        it is: the one a mid-stream recording starts from cannot be derived."""
        if topic in schemas.FRAME_TOPICS or topic == schemas.TOPIC_SWARM_POINTCLOUD or topic not in schemas.TOPICS:
            raise ValueError(f"cannot copy a {topic} message (frames and point clouds are rewritten, not copied)")
        self._add(topic, data, log_time_ns, sequence)
        self.flush_if_due()

    def write_world_state(self, state: Message, log_time_ns: int) -> None:
        """A ``schemas.WorldState``: the simulated world to resume a branch from."""
        self._add(schemas.TOPIC_WORLD_STATE, state.SerializeToString(), log_time_ns, int(state.tick))
        self.flush_if_due()

    def flush(self) -> None:
        """Close the open chunk and hand everything to the OS (and the disk, with ``fsync``)."""
        self._check_open()
        self._writer.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._last_flush = self._clock()
        self._unflushed = 0
        if self._on_flush is not None:
            self._on_flush(self.message_count, self._last_log_time)

    def close(self) -> None:
        """Write the summary and indexes: the file is then cleanly closed. Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            self._writer.finish()
            self._file.flush()
            if self._fsync:
                os.fsync(self._file.fileno())
        finally:
            self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------------------- internals

    def _check_open(self) -> None:
        if self.closed:
            raise RecorderClosed(f"recording {self.path} is closed")

    def _channel(self, topic: str) -> int:
        channel_id = self._channel_ids.get(topic)
        if channel_id is None:
            t = schemas.PACKED_TOPIC if topic in schemas.PACKING else schemas.TOPICS[topic]
            schema_id = self._schema_ids.get(t.schema_name)
            if schema_id is None:
                schema_id = self._writer.register_schema(t.schema_name, "protobuf", t.schema_data)
                self._schema_ids[t.schema_name] = schema_id
            channel_id = self._writer.register_channel(topic, "protobuf", schema_id)
            self._channel_ids[topic] = channel_id
        return channel_id

    def _add(self, topic: str, data: bytes, log_time_ns: int, sequence: int, rows_at: int = 0) -> None:
        """``rows_at``: where a frame's rows begin in ``data`` (packed topics transpose them)."""
        self._check_open()
        if log_time_ns < 0:
            raise ValueError(f"log time must be >= 0 ns, got {log_time_ns}")
        # Message.sequence is u32 in MCAP; the full u64 seq is in the Frame message itself.
        sequence &= 0xFFFFFFFF
        if topic in schemas.PACKING:
            data = self._packer.pack(topic, data, log_time_ns, sequence, rows_at)
        self._writer.add_message(self._channel(topic), log_time=log_time_ns, data=data, publish_time=log_time_ns,
                                 sequence=sequence)
        self._last_log_time = max(self._last_log_time, log_time_ns)
        self.message_count += 1
        self._unflushed += 1

    def flush_if_due(self) -> None:
        """Flush when messages have waited ``flush_interval_s``; the worker also calls this when idle, so a
        stalled stream does not leave its last messages in memory."""
        if self._unflushed and self._clock() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def _on_keyframe(self, frame: WireFrame, log_time_ns: int) -> None:
        try:
            nodes = core_frames.decode(frame.payload).data
            self._swarm.load_keyframe(nodes)
        except (core_frames.FrameError, ValueError):
            self._swarm_valid = False  # stored as received; it just cannot anchor a checkpoint
            return
        self._swarm_valid = True
        self._last_anchor_ns = log_time_ns
        self._write_pointcloud(nodes, log_time_ns)

    def _on_delta(self, frame: WireFrame, log_time_ns: int) -> None:
        if not self._swarm_valid:
            return
        try:
            self._swarm.apply_delta(core_frames.decode(frame.payload).data)
        except core_frames.FrameError:
            self._swarm_valid = False  # until the next keyframe: a checkpoint must never be wrong
            return
        if self._last_anchor_ns is not None and log_time_ns - self._last_anchor_ns >= self._keyframe_interval_ns:
            self._checkpoint(self._swarm, frame.seq, frame.tick, log_time_ns)
            self._last_anchor_ns = log_time_ns

    def write_checkpoint(self, swarm: SwarmState, seq: int, tick: int, log_time_ns: int) -> None:
        """The state a recording starts from when it starts mid-stream: ``swarm`` after the node frame
        ``seq`` (the console's own swarm when Record is switched on). Replay and seeks before the
        stream's next keyframe anchor on it; later seek points come from that keyframe on."""
        self._checkpoint(swarm, seq, tick, log_time_ns)
        self.flush_if_due()

    def _checkpoint(self, swarm: SwarmState, seq: int, tick: int, log_time_ns: int) -> None:
        nodes = swarm.nodes
        msg = schemas.Checkpoint(
            seq=seq, tick=tick, nodes=core_frames.encode_keyframe(nodes, seq),
            ids=swarm.ids.astype("<u4").tobytes(), next_id=swarm.next_id,
        )
        self._add(schemas.TOPIC_CHECKPOINTS, msg.SerializeToString(), log_time_ns, seq)
        self._write_pointcloud(nodes, log_time_ns)

    def _write_pointcloud(self, nodes: np.ndarray, log_time_ns: int) -> None:
        interval = self._pointcloud_interval_ns
        if interval is None:
            return
        if self._last_pointcloud_ns is None or log_time_ns - self._last_pointcloud_ns >= interval:
            self._last_pointcloud_ns = log_time_ns
            self.pointclouds_written += 1
            self._add(schemas.TOPIC_SWARM_POINTCLOUD, pointcloud_message(nodes, log_time_ns).SerializeToString(),
                      log_time_ns, 0)


class RecordingWorker:
    """A :class:`Recorder` on its own thread: ``submit`` never waits for the disk.

    The queue is unbounded on purpose: dropping a delta would corrupt every frame after it, and a
    recording falls behind only when the disk does.
    An error in the worker stops recording; :meth:`close` re-raises it.
    """

    _STOP: Final = object()

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._idle_flush_s = max(recorder.flush_interval_s, 0.01)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"recorder {recorder.path.name}", daemon=True)
        self._thread.start()

    def submit(self, method: Callable[..., None], *args: Any) -> None:
        """Queue ``method(*args)`` (a bound ``Recorder.write_*``) for the worker thread."""
        if self._error is None:
            self._queue.put((method, args))

    def write_frame(self, frame: WireFrame, log_time_ns: int) -> None:
        self.submit(self.recorder.write_frame, frame, log_time_ns)

    def write_checkpoint(self, swarm: SwarmState, seq: int, tick: int, log_time_ns: int) -> None:
        """Copy ``swarm`` now (the caller's thread goes on changing it) and queue it as the start state."""
        snapshot = SwarmSnapshot(swarm.nodes.copy(), swarm.ids.copy(), swarm.next_id)
        self.submit(self.recorder.write_checkpoint, snapshot, seq, tick, log_time_ns)

    def write_decision(self, decision: Message, log_time_ns: int) -> None:
        self.submit(self.recorder.write_decision, decision, log_time_ns)

    def close(self) -> None:
        """Write everything queued, close the file cleanly, and re-raise a worker error if there was one."""
        self._queue.put(self._STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self._idle_flush_s)
                except queue.Empty:
                    self.recorder.flush_if_due()  # nothing came for a while: put what did on disk
                    continue
                if item is self._STOP:
                    break
                method, args = item
                method(*args)
        except BaseException as exc:  # handed to close(); the stream must not die of it
            self._error = exc
        finally:
            self.recorder.close()
