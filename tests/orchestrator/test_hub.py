"""The fan-out ring: exact resume, keyframe fallback, slow subscribers, subscriber limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from scythe_desktop.orchestrator.hub import FrameHub, HubClosed, HubFull
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def _publish(hub: FrameHub, first: int, last: int, keyframes: set[int]) -> None:
    for seq in range(first, last + 1):
        kind = pb.KEYFRAME if seq in keyframes else pb.DELTA
        hub.publish(seq, kind, f"frame {seq}".encode() * 10)


def _take(frames: Iterator[bytes], n: int) -> list[pb.Frame]:
    return [pb.Frame.FromString(next(frames)) for _ in range(n)]


def _active() -> bool:
    return True


def test_resume_gets_exactly_the_frames_after_the_given_seq() -> None:
    hub = FrameHub()
    _publish(hub, 1, 10, {1})
    got = _take(hub.subscribe(6, (), _active), 4)
    assert [f.seq for f in got] == [7, 8, 9, 10]


def test_resume_from_zero_starts_at_the_latest_keyframe() -> None:
    hub = FrameHub()
    _publish(hub, 1, 10, {1, 5})
    got = _take(hub.subscribe(0, (), _active), 2)
    assert [(f.seq, f.kind) for f in got] == [(5, pb.KEYFRAME), (6, pb.DELTA)]


def test_resume_from_an_evicted_seq_falls_back_to_a_fresh_keyframe() -> None:
    hub = FrameHub(max_bytes=200)  # room for only a few frames
    _publish(hub, 1, 40, {1, 30})
    first = _take(hub.subscribe(3, (), _active), 1)[0]
    assert (first.seq, first.kind) == (30, pb.KEYFRAME)


def test_resume_from_a_seq_this_hub_never_issued_gets_a_keyframe() -> None:
    hub = FrameHub()
    _publish(hub, 1001, 1010, {1001})  # a restarted server: seqs continue after a reserved block
    first = _take(hub.subscribe(57, (), _active), 1)[0]
    assert (first.seq, first.kind) == (1001, pb.KEYFRAME)


def test_a_lagging_subscriber_skips_deltas_to_the_newest_keyframe_and_others_are_unaffected() -> None:
    hub = FrameHub(max_lag=5)
    _publish(hub, 1, 3, {1})
    slow = hub.subscribe(0, (), _active)
    fast = hub.subscribe(0, (), _active)
    assert _take(slow, 1)[0].seq == 1
    assert _take(fast, 1)[0].seq == 1
    fast_seqs = []
    for seq in range(4, 21):  # the fast one keeps up, frame by frame; the slow one reads nothing
        _publish(hub, seq, seq, {15})
        fast_seqs += [f.seq for f in _take(fast, 3 if seq == 4 else 1)]
    assert fast_seqs == list(range(2, 21))
    assert _take(slow, 1)[0].seq == 15  # not 2: the deltas it fell behind on were dropped
    assert hub.skipped_to_keyframe == 1


def test_kinds_filter_only_delivers_wanted_kinds() -> None:
    hub = FrameHub()
    hub.publish(1, pb.KEYFRAME, b"k")
    hub.publish(2, pb.GRID, b"g")
    hub.publish(3, pb.DELTA, b"d")
    hub.publish(4, pb.GRID, b"g2")
    got = _take(hub.subscribe(0, (pb.GRID,), _active), 2)
    assert [f.seq for f in got] == [2, 4]


def test_one_subscriber_over_the_limit_is_refused() -> None:
    hub = FrameHub(max_subscribers=2)
    hub.publish(1, pb.KEYFRAME, b"k")
    a, b = hub.subscribe(0, (), _active), hub.subscribe(0, (), _active)
    next(a), next(b)
    with pytest.raises(HubFull, match="at most 2"):
        hub.subscribe(0, (), _active)
    a.close()  # a subscriber that leaves frees its place
    next(hub.subscribe(0, (), _active))


def test_publishing_out_of_sequence_is_refused() -> None:
    hub = FrameHub()
    hub.publish(1, pb.KEYFRAME, b"k")
    with pytest.raises(ValueError, match="does not follow"):
        hub.publish(3, pb.DELTA, b"d")


def test_close_ends_waiting_subscribers_and_refuses_new_ones() -> None:
    hub = FrameHub()
    hub.publish(1, pb.KEYFRAME, b"k")
    frames = hub.subscribe(1, (), _active)  # caught up: the next read waits
    ended = threading.Event()

    def read() -> None:
        for _ in frames:
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    hub.close()
    assert ended.wait(5)
    with pytest.raises(HubClosed):
        hub.subscribe(0, (), _active)
