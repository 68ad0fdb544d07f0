"""Chunking: every payload reassembles byte-exactly, every message stays under the limit, and
anything out of order is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.protocol import wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def _messages(chunks: list[bytes]) -> list[pb.Frame]:
    return [pb.Frame.FromString(c) for c in chunks]


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(max_size=5000), chunk_size=st.integers(1, 700), seq=st.integers(1, 2**63))
def test_chunked_frames_reassemble_exactly(payload: bytes, chunk_size: int, seq: int) -> None:
    chunks = wire.serialize_chunks(seq, pb.KEYFRAME, payload, base_seq=7, tick=9, chunk_size=chunk_size)
    assert len(chunks) == max(1, -(-len(payload) // chunk_size))
    r = wire.Reassembler()
    out = [r.feed(m) for m in _messages(chunks)]
    assert all(f is None for f in out[:-1])
    done = out[-1]
    assert done is not None
    assert (done.seq, done.kind, done.base_seq, done.tick, done.payload) == (seq, pb.KEYFRAME, 7, 9, payload)


def test_a_keyframe_above_the_message_limit_travels_in_chunks_below_it() -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MiB: one message would be refused
    chunks = wire.serialize_chunks(1, pb.KEYFRAME, payload)
    assert len(chunks) == 5
    assert max(map(len, chunks)) < wire.MESSAGE_LIMIT
    r = wire.Reassembler()
    frames = [r.feed(m) for m in _messages(chunks)]
    assert frames[-1] is not None and frames[-1].payload == payload


def test_a_chunk_out_of_order_is_refused() -> None:
    chunks = _messages(wire.serialize_chunks(5, pb.KEYFRAME, b"x" * 30, chunk_size=10))
    r = wire.Reassembler()
    r.feed(chunks[0])
    with pytest.raises(wire.WireError, match="chunk_index 2, expected 1"):
        r.feed(chunks[2])


def test_a_frame_starting_mid_way_is_refused() -> None:
    chunks = _messages(wire.serialize_chunks(5, pb.KEYFRAME, b"x" * 30, chunk_size=10))
    with pytest.raises(wire.WireError, match="starts at chunk_index 1"):
        wire.Reassembler().feed(chunks[1])


def test_interleaved_frames_are_refused() -> None:
    a = _messages(wire.serialize_chunks(5, pb.KEYFRAME, b"x" * 30, chunk_size=10))
    b = _messages(wire.serialize_chunks(6, pb.DELTA, b"y" * 30, chunk_size=10))
    r = wire.Reassembler()
    r.feed(a[0])
    with pytest.raises(wire.WireError, match="interleaved"):
        r.feed(b[1])


def test_chunk_size_over_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        wire.serialize_chunks(1, pb.KEYFRAME, b"", chunk_size=wire.MESSAGE_LIMIT)
