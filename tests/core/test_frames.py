"""The frame codec: round trips, zero-copy views, and a clear FrameError for every kind of bad input."""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.core import frames
from scythe_desktop.core.frames import (
    HEADER_SIZE,
    Frame,
    FrameError,
    FrameKind,
    decode,
    encode,
    encode_delta,
    encode_edges,
    encode_field,
    encode_grid,
    encode_keyframe,
    encode_membership,
    encode_stream,
    iter_frames,
)
from scythe_desktop.core.layout import (
    COL_INTENSITY,
    COL_THREAT,
    DELTA_DTYPE,
    EDGE_DTYPE,
    MEMBERSHIP_DTYPE,
    DeltaOp,
    empty_deltas,
    make_node_buffer,
)


def swarm(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_node_buffer(
        rng.uniform(-180, 180, n), rng.uniform(-90, 90, n), rng.uniform(0, 0.1, n),
        rng.uniform(0, 1, n), rng.uniform(0, 2, n), rng.uniform(0, 8, n),
    )


def edges(n: int) -> np.ndarray:
    e = np.zeros(n, dtype=EDGE_DTYPE)
    e["src"] = np.arange(n)
    e["dst"] = (np.arange(n) + 1) % max(n, 1)
    e["confidence"] = np.linspace(0, 1, n)
    return e


def deltas(n: int) -> np.ndarray:
    d = empty_deltas(n)
    d["node"] = np.arange(n)
    d["op"] = DeltaOp.UPDATE
    d["dx"] = 0.25
    return d


def membership(n: int) -> np.ndarray:
    m = np.zeros(n, dtype=MEMBERSHIP_DTYPE)
    m["node"] = np.arange(n) * 3
    m["cluster"] = np.arange(n) % 5 - 1  # -1 (unknown) is a valid cluster
    return m


PAYLOADS = {
    FrameKind.KEYFRAME: lambda n: swarm(n),
    FrameKind.DELTA: deltas,
    FrameKind.EDGES: edges,
    FrameKind.FIELD: lambda n: np.random.default_rng(1).random((n, n, n), dtype=np.float32),
    FrameKind.GRID: lambda n: np.random.default_rng(2).random((n, 2 * n), dtype=np.float32),
    FrameKind.MEMBERSHIP: membership,
}


@pytest.mark.parametrize("kind", list(FrameKind))
@pytest.mark.parametrize("n", [0, 1, 17])
def test_round_trip_every_kind_including_empty(kind: FrameKind, n: int) -> None:
    payload = PAYLOADS[kind](n)
    frame = decode(encode(kind, 41, payload))
    assert frame.kind is kind
    assert frame.seq == 41
    assert frame.data.dtype == payload.dtype
    assert frame.data.shape == payload.shape
    assert frame.data.tobytes() == payload.tobytes()


def test_round_trip_one_million_nodes() -> None:
    nodes = swarm(1_000_000, seed=3)
    buf = encode_keyframe(nodes, seq=2**64 - 1)
    frame = decode(buf)
    assert frame.seq == 2**64 - 1
    assert np.array_equal(frame.data, nodes)
    assert len(buf) == HEADER_SIZE + 24 * 1_000_000


def test_decoded_arrays_are_views_read_only_for_bytes() -> None:
    buf = encode_keyframe(swarm(100), seq=1)
    frame = decode(buf)
    assert np.shares_memory(frame.data, np.frombuffer(buf, dtype=np.uint8))
    assert not frame.data.flags.writeable


def test_decoded_arrays_are_writable_views_of_a_bytearray() -> None:
    buf = bytearray(encode_grid(np.ones((4, 8), np.float32), seq=1))
    frame = decode(buf)
    assert frame.data.flags.writeable
    frame.data[0, 0] = 5.0
    assert np.frombuffer(buf, dtype=np.float32, count=1, offset=HEADER_SIZE)[0] == 5.0


def test_payload_starts_at_an_aligned_offset() -> None:
    assert HEADER_SIZE % 8 == 0
    frame = decode(memoryview(encode_field(np.zeros((3, 3, 3), np.float32), seq=0)))
    assert frame.data.ctypes.data % 4 == 0 or not frame.data.size


def test_stream_of_frames_decodes_in_order() -> None:
    parts = [encode_keyframe(swarm(3), 1), encode_delta(deltas(1), 2), encode_edges(edges(5), 3)]
    decoded = list(iter_frames(encode_stream(parts)))
    assert [f.seq for f in decoded] == [1, 2, 3]
    assert [f.kind for f in decoded] == [FrameKind.KEYFRAME, FrameKind.DELTA, FrameKind.EDGES]


def _header(buf: bytes) -> list[int | bytes]:
    return list(frames.HEADER.unpack_from(buf, 0))


def _with_header(buf: bytes, **changes: int | bytes) -> bytes:
    names = ["magic", "version", "kind", "flags", "dim0", "dim1", "dim2", "seq", "count", "payload_len"]
    values = _header(buf)
    for name, value in changes.items():
        values[names.index(name)] = value
    return frames.HEADER.pack(*values) + buf[HEADER_SIZE:]


GOOD = encode_keyframe(swarm(10), seq=5)


@pytest.mark.parametrize(
    ("buf", "message"),
    [
        (_with_header(GOOD, magic=b"JSON"), "bad magic"),
        (_with_header(GOOD, version=9), "unsupported format version 9"),
        (_with_header(GOOD, kind=77), "unknown frame kind 77"),
        (_with_header(GOOD, flags=1), "reserved flags"),
        (_with_header(GOOD, payload_len=24 * 9), "count/length mismatch"),
        (_with_header(GOOD, dim1=5), "not (N, 6)"),
        (GOOD[:HEADER_SIZE + 100], "truncated at byte 148"),
        (GOOD[:20], "truncated at byte 20"),
        (GOOD + b"\0", "1 trailing bytes"),
        (_with_header(encode_field(np.zeros((2, 2, 2), np.float32), 1), dim2=3), "not a cube"),
    ],
)
def test_bad_envelopes_are_named(buf: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(buf)


def test_non_finite_value_is_located() -> None:
    nodes = swarm(1000)
    nodes[700, 1] = np.nan
    with pytest.raises(FrameError, match=r"non-finite value at index 4201 \(row 700, y\)"):
        decode(encode_keyframe(nodes, 1))


@pytest.mark.parametrize(("col", "value", "name"), [(COL_THREAT, 2.5, "threat"), (COL_INTENSITY, -0.1, "intensity")])
def test_out_of_range_attribute_is_located(col: int, value: float, name: str) -> None:
    nodes = swarm(600)
    nodes[599, col] = value  # the last row: covered only by the overlapping tail block
    with pytest.raises(FrameError, match=f"{name} out of range .* at row 599"):
        decode(encode_keyframe(nodes, 1))


def test_negative_zero_attributes_are_valid() -> None:
    nodes = swarm(300)
    nodes[5, COL_INTENSITY] = -0.0
    nodes[6, COL_THREAT] = -0.0
    assert decode(encode_keyframe(nodes, 1)).data.shape == (300, 6)


def test_huge_finite_values_pass_even_though_their_square_overflows() -> None:
    nodes = swarm(10)
    nodes[3, 0] = 3e38
    assert decode(encode_keyframe(nodes, 1)).data[3, 0] == np.float32(3e38)


def test_unknown_delta_op_and_non_finite_delta() -> None:
    d = deltas(3)
    d["op"][2] = 9
    with pytest.raises(FrameError, match="unknown op 9 at delta 2"):
        decode(encode_delta(d, 1))
    d = deltas(3)
    d["dz"][1] = np.inf
    with pytest.raises(FrameError, match="non-finite value in delta 1"):
        decode(encode_delta(d, 1))


def test_edge_confidence_out_of_range() -> None:
    e = edges(4)
    e["confidence"][3] = 1.5
    with pytest.raises(FrameError, match=r"edge confidence out of range .* at edge 3"):
        decode(encode_edges(e, 1))


def test_membership_round_trip_is_a_zero_copy_view_keyed_by_node_id() -> None:
    pairs = membership(6)
    buf = encode_membership(pairs, 9)
    assert len(buf) == HEADER_SIZE + 6 * 8
    frame = decode(buf)
    assert frame.kind is FrameKind.MEMBERSHIP and frame.seq == 9
    assert frame.data["node"].tolist() == [0, 3, 6, 9, 12, 15]
    assert frame.data["cluster"].tolist() == [-1, 0, 1, 2, 3, -1]
    assert not frame.data.flags.writeable  # a view into the immutable bytes


def test_membership_cluster_below_minus_one_is_located() -> None:
    pairs = membership(4)
    pairs["cluster"][2] = -7
    with pytest.raises(FrameError, match=r"membership cluster must be >= -1, got -7 at pair 2 \(node 6\)"):
        decode(encode_membership(pairs, 1))


def test_membership_bad_shapes_and_payloads_are_named() -> None:
    good = encode_membership(membership(3), 2)
    with pytest.raises(FrameError, match=r"membership shape \(3, 1, 0\) with count 3 is not \(N,\)"):
        decode(_with_header(good, dim1=1))
    with pytest.raises(FrameError, match="count/length mismatch: 3 membership elements need 24 bytes"):
        decode(_with_header(good, payload_len=20))
    with pytest.raises(FrameError, match="membership payload must be 1-D"):
        encode(FrameKind.MEMBERSHIP, 1, np.zeros(3, dtype=[("node", "<u4"), ("cluster", "<u4")]))
    with pytest.raises(FrameError, match="truncated"):
        decode(good[:-8])


def test_non_bytes_input_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="bytes-like"):
        decode("not bytes")  # type: ignore[arg-type]


def test_encoder_refuses_wrong_payloads() -> None:
    with pytest.raises(FrameError, match="keyframe payload"):
        encode_keyframe(np.zeros((3, 5), np.float32), 1)
    with pytest.raises(FrameError, match="sequence number"):
        encode_keyframe(swarm(1), -1)
    with pytest.raises(FrameError, match="delta payload"):
        encode(FrameKind.DELTA, 1, np.zeros(3, DELTA_DTYPE.newbyteorder(">")))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_frame_error(data: bytes) -> None:
    try:
        frame = decode(data)
    except FrameError:
        return
    assert isinstance(frame, Frame)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(
        [GOOD, encode_delta(deltas(4), 3), encode_edges(edges(4), 2), encode_grid(np.ones((2, 3), np.float32), 4),
         encode_membership(membership(4), 5)]
    ),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 400),
)
def test_mutated_frames_decode_or_raise_frame_error(base: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    buf = bytearray(base)
    for pos, value in flips:
        buf[pos % len(buf)] = value
    for candidate in (bytes(buf), bytes(buf[: len(buf) - cut])):
        with contextlib.suppress(FrameError):
            decode(candidate)


def test_header_layout_is_stable() -> None:
    # Tools outside Python read these bytes: pin the exact layout.
    buf = encode_grid(np.zeros((2, 3), np.float32), seq=7)
    assert buf[:4] == b"SCYF"
    assert struct.unpack_from("<HHI", buf, 4) == (1, FrameKind.GRID, 0)
    assert struct.unpack_from("<IIIQQQ", buf, 12) == (2, 3, 0, 7, 6, 24)
