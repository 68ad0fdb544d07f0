"""Turn core-codec frames into ``scythe.v1.Frame`` messages once, and back into whole frames.

The server serializes every chunk of a published frame exactly once (:func:`serialize_chunks`) and
hands the same ``bytes`` to every subscriber through a method registered with an identity response
serializer, so fan-out costs no protobuf work per client. Payloads larger than ``chunk_size`` are
split into several messages with the same seq, well under gRPC's 4 MiB receive limit, instead of
raising that limit. :class:`Reassembler` joins them on the client and rejects anything out of order.
This module knows protobuf messages and byte strings; it knows nothing of worlds, servers or channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

#: gRPC's default receive limit; we never raise it.
MESSAGE_LIMIT: Final = 4 * 1024 * 1024
#: Default chunk payload size. Measured on loopback: 1 MiB chunks stream a 2.4 MB keyframe faster
#: than one 2.4 MB message (HTTP/2 flow control windows fill earlier) and far faster than 64 KiB.
DEFAULT_CHUNK_SIZE: Final = 1024 * 1024
#: Room left for the Frame message's other fields and gRPC framing.
_MAX_CHUNK_SIZE: Final = MESSAGE_LIMIT - 64 * 1024


class WireError(ValueError):
    """A chunk sequence that cannot be reassembled; the message names what was wrong."""


@dataclass(frozen=True, slots=True)
class WireFrame:
    """One whole frame as received: its stream metadata and the reassembled payload bytes."""

    seq: int
    kind: int  # pb.FrameKind value
    base_seq: int
    tick: int
    payload: bytes

    @property
    def carries_nodes(self) -> bool:
        """A keyframe or a delta: part of the node chain (observer lists are not)."""
        return self.kind in (pb.KEYFRAME, pb.DELTA)


def serialize_chunks(
    seq: int, kind: int, payload: bytes, *, base_seq: int = 0, tick: int = 0, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[bytes]:
    """The serialized ``Frame`` messages carrying ``payload``, each chunk at most ``chunk_size`` bytes."""
    if not 0 < chunk_size <= _MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be in 1..{_MAX_CHUNK_SIZE}, got {chunk_size}")
    total = len(payload)
    count = max(1, -(-total // chunk_size))
    view = memoryview(payload)
    out = []
    for index in range(count):
        # protobuf ``bytes`` fields refuse memoryviews; a single chunk reuses the caller's bytes object.
        part = payload if count == 1 else bytes(view[index * chunk_size : (index + 1) * chunk_size])
        msg = pb.Frame(
            seq=seq,
            kind=cast(pb.FrameKind, kind),
            base_seq=base_seq,
            tick=tick,
            chunk_index=index,
            chunk_count=count,
            total_size=total,
            payload=part,
        )
        out.append(msg.SerializeToString())
    return out


class Reassembler:
    """Feed ``Frame`` messages in stream order; :meth:`feed` returns a :class:`WireFrame` when one completes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._head: pb.Frame | None = None

    def reset(self) -> None:
        """Forget a partial frame (after the stream it came on broke)."""
        self._parts = []
        self._head = None

    def feed(self, msg: pb.Frame) -> WireFrame | None:
        if msg.chunk_count < 1 or msg.chunk_index >= msg.chunk_count:
            raise WireError(f"chunk_index {msg.chunk_index} out of range for chunk_count {msg.chunk_count}")
        head = self._head
        if head is None:
            if msg.chunk_index != 0:
                raise WireError(f"frame seq {msg.seq} starts at chunk_index {msg.chunk_index}, expected 0")
            head = self._head = msg
        elif (msg.seq, msg.chunk_count, msg.total_size) != (head.seq, head.chunk_count, head.total_size):
            raise WireError(f"chunk of seq {msg.seq} interleaved into frame seq {head.seq}")
        elif msg.chunk_index != len(self._parts):
            raise WireError(f"frame seq {msg.seq}: chunk_index {msg.chunk_index}, expected {len(self._parts)}")
        self._parts.append(msg.payload)
        if len(self._parts) < msg.chunk_count:
            return None
        payload = self._parts[0] if msg.chunk_count == 1 else b"".join(self._parts)
        self.reset()
        if len(payload) != head.total_size:
            raise WireError(
                f"frame seq {head.seq}: reassembled {len(payload)} bytes, total_size says {head.total_size}"
            )
        return WireFrame(head.seq, head.kind, head.base_seq, head.tick, payload)
