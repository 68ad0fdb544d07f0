"""The topics of a SCYTHE recording and the protobuf schemas embedded for each, as MCAP wants them.

Every stream frame is stored as the ``scythe.v1.Frame`` message the orchestrator sends (one chunk,
``payload`` = the core-codec frame bytes), on a topic per kind, so replay yields byte-for-byte what the
live client yields. World info is ``scythe.v1.WorldInfo``. What the contract has no message for
(proposals, decisions, metrics, seek checkpoints) lives in ``scythe.recording.v1``, built here from
descriptors so no generated code is needed; the swarm is also written as Foxglove's well-known
``foxglove.PointCloud`` so Foxglove/Lichtblick's 3-D panel shows it. Each schema is stored as a
binary ``FileDescriptorSet`` holding every file it needs, named by the message's full name: that is
what other MCAP tools expect. This module knows message layouts and topic names, not files or worlds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.descriptor import Descriptor, FileDescriptor

from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

#: MCAP header profile: empty means "no ROS", which is what a protobuf-only file is.
PROFILE: Final = ""
#: Bumped when a topic's meaning changes; a reader refuses a newer one by name. 2: the topics of
#: :data:`PACKING` carry ``scythe.recording.v1.Packed`` (recording/packing.py); 1 is read as before.
RECORDING_FORMAT: Final = 2
#: Metadata record name holding ``{"format": …, "source": …, …}``.
METADATA_NAME: Final = "scythe.recording"

# Stream frames, one topic per kind. Keyframes sit on their own topic so a seek finds the one at or
# before a time by reading backwards through one small index, never from the start.
TOPIC_KEYFRAMES: Final = "/scythe/frames/keyframes"
TOPIC_DELTAS: Final = "/scythe/frames/deltas"
TOPIC_EDGES: Final = "/scythe/frames/edges"
TOPIC_FIELDS: Final = "/scythe/frames/fields"
TOPIC_GRIDS: Final = "/scythe/frames/grids"
#: Node-to-cluster pairs; replayed in seq order with the node frames they annotate.
TOPIC_MEMBERSHIP: Final = "/scythe/frames/membership"
TOPIC_OBSERVERS: Final = "/scythe/observers"
#: Node state written by the recorder when the stream sent no keyframe for a while (see Checkpoint).
TOPIC_CHECKPOINTS: Final = "/scythe/frames/checkpoints"
TOPIC_WORLD_INFO: Final = "/scythe/world_info"
TOPIC_PROPOSALS: Final = "/scythe/proposals"
TOPIC_DECISIONS: Final = "/scythe/decisions"
TOPIC_METRICS: Final = "/scythe/metrics"
TOPIC_EVADER: Final = "/scythe/evader"
#: The whole simulated world now and then (``scythe simulate``), so a branch can resume it exactly.
TOPIC_WORLD_STATE: Final = "/scythe/world_state"
TOPIC_SWARM_POINTCLOUD: Final = "/scythe/swarm"

FRAME_TOPIC_BY_KIND: Final[dict[int, str]] = {
    pb.KEYFRAME: TOPIC_KEYFRAMES,
    pb.DELTA: TOPIC_DELTAS,
    pb.EDGES: TOPIC_EDGES,
    pb.FIELD: TOPIC_FIELDS,
    pb.GRID: TOPIC_GRIDS,
    pb.OBSERVERS: TOPIC_OBSERVERS,
    pb.MEMBERSHIP: TOPIC_MEMBERSHIP,
}
FRAME_TOPICS: Final = frozenset(FRAME_TOPIC_BY_KIND.values())

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS: Final = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "double": _F.TYPE_DOUBLE,
    "float": _F.TYPE_FLOAT,
    "uint64": _F.TYPE_UINT64,
    "uint32": _F.TYPE_UINT32,
    "int64": _F.TYPE_INT64,
    "bool": _F.TYPE_BOOL,
    "fixed32": _F.TYPE_FIXED32,
}


def _message(name: str, *fields: tuple[str, str, int] | tuple[str, str, int, str]) -> descriptor_pb2.DescriptorProto:
    """A message from (name, type, number[, "repeated"]); a type not in _SCALARS is a message or enum name."""
    msg = descriptor_pb2.DescriptorProto(name=name)
    for spec in fields:
        fname, ftype, number = spec[0], spec[1], spec[2]
        field = msg.field.add(name=fname, number=number, json_name=fname)
        field.label = _F.LABEL_REPEATED if len(spec) == 4 and spec[3] == "repeated" else _F.LABEL_OPTIONAL
        if ftype in _SCALARS:
            field.type = _SCALARS[ftype]
        else:
            field.type = _F.TYPE_ENUM if ftype.endswith("NumericType") else _F.TYPE_MESSAGE
            field.type_name = ftype
    return msg


def _recording_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(
        name="scythe/recording/v1/recording.proto", package="scythe.recording.v1", syntax="proto3"
    )
    f.message_type.extend(
        [
            # One ranked proposal of a policy; the action's parameters that apply to its kind are set.
            _message(
                "Proposal",
                ("kind", "string", 1),
                ("target", "string", 2),
                ("predicted_information_gain", "double", 3),
                ("cost_per_hour", "double", 4),
                ("confidence", "double", 5),
                ("explanation", "string", 6),
                ("policy", "string", 7),
                ("lon", "double", 8),
                ("lat", "double", 9),
                ("observer_id", "int64", 10),
                ("cluster_id", "int64", 11),
                ("observer_type", "string", 12),
            ),
            _message(
                "ProposalSet",
                ("tick", "uint64", 1),
                ("policy", "string", 2),
                ("proposals", ".scythe.recording.v1.Proposal", 3, "repeated"),
            ),
            # What became of a proposal or a manual action: who decided, when, and the outcome.
            _message(
                "Decision",
                ("request_id", "string", 1),
                ("who", "string", 2),
                ("decided_unix", "double", 3),
                ("tick", "uint64", 4),
                ("outcome", "string", 5),
                ("reason", "string", 6),
                ("proposal", ".scythe.recording.v1.Proposal", 7),
                ("ok", "bool", 8),
                ("observer_id", "int64", 9),
                ("cost_per_hour", "double", 10),
            ),
            _message("Metric", ("name", "string", 1), ("value", "double", 2)),
            _message("Metrics", ("tick", "uint64", 1), ("values", ".scythe.recording.v1.Metric", 2, "repeated")),
            # The node state after the node frame ``seq``, for seeking where the stream sent no keyframe:
            # ``nodes`` is a core KEYFRAME frame, ``ids`` the stream's node id of each row (little-endian
            # u32), ``next_id`` the id the stream's next ADD will use.
            _message(
                "Checkpoint",
                ("seq", "uint64", 1),
                ("tick", "uint64", 2),
                ("nodes", "bytes", 3),
                ("ids", "bytes", 4),
                ("next_id", "uint64", 5),
            ),
            # What the evader of an adversarial world did in one tick: each move's kind (quiet, activate,
            # shift, decoy), the cluster it acted on and where that cluster is after the tick.
            _message("EvaderMove", ("kind", "string", 1), ("cluster_id", "int64", 2), ("lon", "double", 3),
                     ("lat", "double", 4)),
            _message("EvaderMoves", ("tick", "uint64", 1), ("evader", "string", 2),
                     ("moves", ".scythe.recording.v1.EvaderMove", 3, "repeated")),
            # The simulated world right after the host published the keyframe ``keyframe_seq`` of tick
            # ``tick``: ``world`` is ``World.to_bytes()``, ``next_seq`` the next seq the stream uses, ``meter``
            # the running episode totals (JSON, EpisodeMeter.state()), ``fingerprint`` the scenario's. A
            # what-if branch resumes from it bit for bit (recording/branch.py).
            _message(
                "WorldState",
                ("tick", "uint64", 1),
                ("keyframe_seq", "uint64", 2),
                ("next_seq", "uint64", 3),
                ("world", "bytes", 4),
                ("meter", "string", 5),
                ("fingerprint", "string", 6),
            ),
            # A message of another schema stored smaller (recording/packing.py): its ``size`` bytes, the
            # region after ``offset`` transposed as rows of ``stride`` bytes in ``width``-byte columns, then
            # zstd-compressed when ``compression`` is "zstd", against the previous message of the topic
            # (``ref_log_time``/``ref_sequence``, same transposition) when ``has_ref``.
            _message(
                "Packed",
                ("size", "uint64", 1),
                ("offset", "uint32", 2),
                ("stride", "uint32", 3),
                ("width", "uint32", 4),
                ("compression", "string", 5),
                ("has_ref", "bool", 6),
                ("ref_log_time", "uint64", 7),
                ("ref_sequence", "uint32", 8),
                ("data", "bytes", 9),
            ),
        ]
    )
    return f


def _foxglove_file() -> descriptor_pb2.FileDescriptorProto:
    """Foxglove's PointCloud and the messages it uses, field for field as github.com/foxglove/schemas has them."""
    f = descriptor_pb2.FileDescriptorProto(
        name="foxglove/PointCloud.proto",
        package="foxglove",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    packed = _message(
        "PackedElementField",
        ("name", "string", 1),
        ("offset", "fixed32", 2),
        ("type", ".foxglove.PackedElementField.NumericType", 3),
    )
    packed.enum_type.add(name="NumericType").value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=n, number=i)
        for i, n in enumerate(("UNKNOWN", "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "FLOAT64"))
    )
    f.message_type.extend(
        [
            packed,
            _message("Vector3", ("x", "double", 1), ("y", "double", 2), ("z", "double", 3)),
            _message("Quaternion", ("x", "double", 1), ("y", "double", 2), ("z", "double", 3), ("w", "double", 4)),
            _message("Pose", ("position", ".foxglove.Vector3", 1), ("orientation", ".foxglove.Quaternion", 2)),
            _message(
                "PointCloud",
                ("timestamp", ".google.protobuf.Timestamp", 1),
                ("frame_id", "string", 2),
                ("pose", ".foxglove.Pose", 3),
                ("point_stride", "fixed32", 4),
                ("fields", ".foxglove.PackedElementField", 5, "repeated"),
                ("data", "bytes", 6),
            ),
        ]
    )
    return f


def _file_proto(fd: FileDescriptor) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    fd.CopyToProto(proto)
    return proto


_POOL: Final = descriptor_pool.DescriptorPool()
_FILES: Final[dict[str, descriptor_pb2.FileDescriptorProto]] = {}
for _proto in (_file_proto(timestamp_pb2.DESCRIPTOR), _file_proto(pb.DESCRIPTOR), _recording_file(), _foxglove_file()):
    _POOL.Add(_proto)
    _FILES[_proto.name] = _proto


def _descriptor_set(descriptor: Descriptor) -> bytes:
    """A FileDescriptorSet with the message's file and all files it depends on, dependencies first."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in _FILES[name].dependency:
            visit(dep)
        ordered.append(name)

    visit(descriptor.file.name)
    return descriptor_pb2.FileDescriptorSet(file=[_FILES[n] for n in ordered]).SerializeToString()


def message_class(full_name: str) -> Any:
    """The Python class of a message in this module's pool (``scythe.recording.v1.Decision`` …).

    Typed ``Any``: these classes are built at run time, so there are no stubs to check fields against.
    """
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


Proposal: Final = message_class("scythe.recording.v1.Proposal")
ProposalSet: Final = message_class("scythe.recording.v1.ProposalSet")
Decision: Final = message_class("scythe.recording.v1.Decision")
Metrics: Final = message_class("scythe.recording.v1.Metrics")
Checkpoint: Final = message_class("scythe.recording.v1.Checkpoint")
EvaderMoves: Final = message_class("scythe.recording.v1.EvaderMoves")
WorldState: Final = message_class("scythe.recording.v1.WorldState")
Packed: Final = message_class("scythe.recording.v1.Packed")
PointCloud: Final = message_class("foxglove.PointCloud")


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    schema_name: str  # the message's full name
    schema_data: bytes  # binary FileDescriptorSet


def _topic(name: str, full_name: str) -> Topic:
    return Topic(name, full_name, _descriptor_set(_POOL.FindMessageTypeByName(full_name)))


#: Every topic a recording may hold, with its schema. A reader ignores topics it does not know.
TOPICS: Final[dict[str, Topic]] = {
    t.name: t
    for t in (
        *(_topic(name, "scythe.v1.Frame") for name in FRAME_TOPIC_BY_KIND.values()),
        _topic(TOPIC_CHECKPOINTS, "scythe.recording.v1.Checkpoint"),
        _topic(TOPIC_WORLD_INFO, "scythe.v1.WorldInfo"),
        _topic(TOPIC_PROPOSALS, "scythe.recording.v1.ProposalSet"),
        _topic(TOPIC_DECISIONS, "scythe.recording.v1.Decision"),
        _topic(TOPIC_METRICS, "scythe.recording.v1.Metrics"),
        _topic(TOPIC_EVADER, "scythe.recording.v1.EvaderMoves"),
        _topic(TOPIC_WORLD_STATE, "scythe.recording.v1.WorldState"),
        _topic(TOPIC_SWARM_POINTCLOUD, "foxglove.PointCloud"),
    )
}

#: The schema of a topic of :data:`PACKING` in a format-2 recording (its messages unpack to ``TOPICS``' schema).
PACKED_TOPIC: Final = _topic("(packed)", "scythe.recording.v1.Packed")


@dataclass(frozen=True, slots=True)
class Packing:
    """How the recorder stores a topic's messages (see recording/packing.py). ``stride``/``width``: the frame
    rows' bytes, transposed so that zstd sees each column together (0: no rows); ``compress``: zstd the
    message itself (else the chunk's zstd does it); ``full_every``: every n-th message stands alone, the
    others are compressed against the one before them (1: all stand alone)."""

    stride: int
    width: int
    compress: bool
    full_every: int


#: Measured on ``regional`` (docs/architecture.md, "Recording size"): byte columns for deltas and
#: edges; keyframes in 4-byte columns against the previous keyframe (half the nodes do not move in 10 s),
#: standalone every 3rd so a seek decodes at most two before it; world states against the previous one.
PACKING: Final[dict[str, Packing]] = {
    TOPIC_DELTAS: Packing(stride=24, width=1, compress=False, full_every=1),
    TOPIC_EDGES: Packing(stride=12, width=1, compress=False, full_every=1),
    TOPIC_KEYFRAMES: Packing(stride=24, width=4, compress=True, full_every=3),
    TOPIC_WORLD_STATE: Packing(stride=0, width=1, compress=True, full_every=6),
}

#: The message class to decode each non-frame topic with.
TOPIC_MESSAGE: Final[dict[str, Any]] = {
    TOPIC_CHECKPOINTS: Checkpoint,
    TOPIC_WORLD_INFO: pb.WorldInfo,
    TOPIC_PROPOSALS: ProposalSet,
    TOPIC_DECISIONS: Decision,
    TOPIC_METRICS: Metrics,
    TOPIC_EVADER: EvaderMoves,
    TOPIC_WORLD_STATE: WorldState,
    TOPIC_SWARM_POINTCLOUD: PointCloud,
}
