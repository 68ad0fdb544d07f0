"""The stream → GUI hand-over: latest wins, deltas stay in order, the queue is bounded, gaps never pass."""

from __future__ import annotations

import threading

import numpy as np

from scythe_desktop.console.model.mailbox import OBSERVERS_KIND, FrameMailbox
from scythe_desktop.core.frames import FrameKind
from scythe_desktop.core.layout import MEMBERSHIP_DTYPE, empty_deltas, empty_nodes


def test_only_the_first_put_into_an_empty_mailbox_notifies() -> None:
    box = FrameMailbox()
    assert box.put(FrameKind.KEYFRAME, 1, empty_nodes(3))
    assert not box.put(FrameKind.DELTA, 2, empty_deltas(1), base_seq=1)
    assert box.take() is not None
    assert box.take() is None
    assert box.put(FrameKind.DELTA, 3, empty_deltas(1), base_seq=2)


def test_a_keyframe_makes_pending_node_frames_stale() -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(3))
    box.put(FrameKind.DELTA, 2, empty_deltas(1), base_seq=1)
    box.put(FrameKind.KEYFRAME, 3, empty_nodes(5))
    box.put(FrameKind.DELTA, 4, empty_deltas(2), base_seq=3)
    batch = box.take()
    assert batch is not None and batch.keyframe is not None
    assert batch.keyframe[0] == 3 and batch.keyframe[1].shape == (5, 6)
    assert [d.seq for d in batch.deltas] == [4]
    assert batch.dropped == 2 and batch.last_seq == 4


def test_other_kinds_keep_only_the_newest() -> None:
    box = FrameMailbox()
    for seq in (1, 2, 3):
        box.put(FrameKind.GRID, seq, np.full((2, 2), seq, np.float32))
    box.put(OBSERVERS_KIND, 4, "list")
    batch = box.take()
    assert batch is not None
    assert batch.latest[FrameKind.GRID][0] == 3 and batch.latest[OBSERVERS_KIND] == (4, "list")
    assert batch.dropped == 2


def test_deltas_are_bounded_and_overflow_waits_for_a_keyframe() -> None:
    box = FrameMailbox(max_deltas=4)
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(3))
    box.take()
    for seq in range(2, 8):
        box.put(FrameKind.DELTA, seq, empty_deltas(1), base_seq=seq - 1)
    assert box.waiting_for_keyframe
    box.put(FrameKind.DELTA, 8, empty_deltas(1), base_seq=7)  # still no keyframe: dropped
    batch = box.take()
    assert batch is not None and batch.deltas == () and batch.dropped == 7
    box.put(FrameKind.KEYFRAME, 9, empty_nodes(3))
    box.put(FrameKind.DELTA, 10, empty_deltas(1), base_seq=9)
    batch = box.take()
    assert batch is not None and batch.keyframe is not None and [d.seq for d in batch.deltas] == [10]


def test_a_delta_on_the_wrong_base_breaks_the_chain() -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(3))
    box.put(FrameKind.DELTA, 3, empty_deltas(1), base_seq=2)  # frame 2 never arrived
    batch = box.take()
    assert batch is not None and batch.keyframe is None and batch.deltas == ()
    assert box.waiting_for_keyframe


def test_concurrent_producer_and_consumer_see_every_delta_once_in_order() -> None:
    box = FrameMailbox(max_deltas=10_000)
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(1))
    done = threading.Event()

    def produce() -> None:
        for seq in range(2, 3002):
            box.put(FrameKind.DELTA, seq, empty_deltas(1), base_seq=seq - 1)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    seen: list[int] = []
    while True:
        finished = done.is_set()  # read before taking, so nothing put before it is missed
        batch = box.take()
        if batch is not None:
            seen.extend(d.seq for d in batch.deltas)
        elif finished:
            break
    thread.join()
    assert seen == list(range(2, 3002))


def test_a_keyframe_drops_pending_edges_of_the_previous_keyframe() -> None:
    from scythe_desktop.core.layout import EDGE_DTYPE

    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(3))
    box.put(FrameKind.EDGES, 2, np.zeros(2, EDGE_DTYPE))
    box.put(FrameKind.KEYFRAME, 3, empty_nodes(4))
    batch = box.take()
    assert batch is not None and FrameKind.EDGES not in batch.latest
    box.put(FrameKind.EDGES, 4, np.zeros(1, EDGE_DTYPE))
    batch = box.take()
    assert batch is not None and batch.latest[FrameKind.EDGES][0] == 4


def _pairs(*items: tuple[int, int]) -> np.ndarray:
    m = np.zeros(len(items), dtype=MEMBERSHIP_DTYPE)
    for i, (node, cluster) in enumerate(items):
        m[i] = (node, cluster)
    return m


def test_membership_rides_the_node_chain_and_a_keyframe_drops_the_older_one() -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(2))
    box.put(FrameKind.MEMBERSHIP, 2, _pairs((0, 4), (1, 5)), base_seq=1)
    box.put(FrameKind.DELTA, 3, empty_deltas(1), base_seq=1)
    box.put(FrameKind.MEMBERSHIP, 4, _pairs((2, 4)), base_seq=3)
    batch = box.take()
    assert batch is not None
    assert [m["node"].tolist() for m in batch.membership] == [[0, 1], [2]]

    box.put(FrameKind.DELTA, 5, empty_deltas(1), base_seq=3)
    box.put(FrameKind.MEMBERSHIP, 6, _pairs((3, 1)), base_seq=5)
    box.put(FrameKind.KEYFRAME, 7, empty_nodes(1))  # ids reset: the pending membership is stale
    box.put(FrameKind.MEMBERSHIP, 8, _pairs((0, 9)), base_seq=7)
    batch = box.take()
    assert batch is not None and batch.keyframe is not None
    assert [m["cluster"].tolist() for m in batch.membership] == [[9]]
    assert batch.dropped == 2  # the delta and its membership


def test_membership_for_a_dropped_node_frame_is_dropped() -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, empty_nodes(2))
    box.put(FrameKind.DELTA, 2, empty_deltas(1), base_seq=9)  # gap: the chain breaks
    box.put(FrameKind.MEMBERSHIP, 3, _pairs((2, 1)), base_seq=2)
    batch = box.take()
    assert batch is not None and batch.membership == () and batch.keyframe is None
    assert box.waiting_for_keyframe
