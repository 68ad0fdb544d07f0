"""Packed topics (recording format 2): lossless round trips, bad input, and format-1 files still read.

``data/format1-tutorial.mcap`` was written by the recorder before packing (commit 83fd308: ``scythe simulate
--scenario tutorial --seed 3 --policy greedy --duration 20s --keyframe-every 25 --keyframe-interval 2
--world-state-interval 10s``): 20 s, 5 keyframes, 8 of the recorder's own checkpoints, 3 world states.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcap.reader import make_reader

from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.chunks import CHUNK_SIZE_LIMIT
from scythe_desktop.recording.packing import MAX_CHAIN, Packer, PackError, Unpacker
from scythe_desktop.recording.reader import Recording, RecordingError, Recovery, repair
from scythe_desktop.recording.timeline import Timeline
from scythe_desktop.recording.writer import Recorder

FORMAT1 = Path(__file__).parent / "data" / "format1-tutorial.mcap"


def _no_fetch(_topic: str, _t: int, _seq: int) -> bytes | None:
    return None


def _round_trip(topic: str, messages: list[bytes], offsets: list[int]) -> list[bytes]:
    """Pack ``messages`` in order, then unpack them in order with a fresh reader."""
    packer = Packer()
    packed = [packer.pack(topic, m, 1000 * i, i, off) for i, (m, off) in enumerate(zip(messages, offsets,
                                                                                          strict=True))]
    unpacker = Unpacker(_no_fetch)
    return [unpacker.unpack(topic, p, 1000 * i, i) for i, p in enumerate(packed)]


@settings(max_examples=60, deadline=None)
@given(topic=st.sampled_from(sorted(schemas.PACKING)),
       messages=st.lists(st.binary(max_size=700), min_size=1, max_size=8), data=st.data())
def test_any_bytes_round_trip_exactly_on_every_packed_topic(topic: str, messages: list[bytes],
                                                           data: st.DataObject) -> None:
    offsets = [data.draw(st.integers(0, len(m))) for m in messages]
    assert _round_trip(topic, messages, offsets) == messages


def test_real_frames_round_trip_and_keyframes_shrink_against_the_previous_one(tmp_path: Path) -> None:
    """A recording written now replays the same Frame bytes as the format-1 file it was copied from, and its
    keyframes (after the first) take less room than standalone ones."""
    with Recording(FORMAT1) as old:
        frames = [(m.log_time_ns, pb.Frame.FromString(m.data)) for m in old.messages(list(schemas.FRAME_TOPICS))]
    path = tmp_path / "new.mcap"
    with Recorder(path) as rec:
        for t, f in frames:
            rec.write_frame(WireFrame(f.seq, f.kind, f.base_seq, f.tick, f.payload), t)
    with Recording(path) as new:
        again = [(m.log_time_ns, pb.Frame.FromString(m.data)) for m in new.messages(list(schemas.FRAME_TOPICS))]
        assert new.metadata["format"] == str(schemas.RECORDING_FORMAT) == "2"
    assert [(t, f.SerializeToString()) for t, f in again] == [(t, f.SerializeToString()) for t, f in frames]
    with open(path, "rb") as fh:
        stored = [schemas.Packed.FromString(m.data)
                  for _s, c, m in make_reader(fh).iter_messages(topics=[schemas.TOPIC_KEYFRAMES])]
    assert [p.has_ref for p in stored] == [i % schemas.PACKING[schemas.TOPIC_KEYFRAMES].full_every != 0
                                           for i in range(len(stored))]
    standalone = np.mean([len(p.data) for p in stored if not p.has_ref])
    assert np.mean([len(p.data) for p in stored if p.has_ref]) < 0.9 * standalone


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_unpacking_arbitrary_bytes_raises_only_pack_error(blob: bytes) -> None:
    with contextlib.suppress(PackError):
        Unpacker(_no_fetch).unpack(schemas.TOPIC_KEYFRAMES, blob, 5, 5)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(0, 1 << 40), offset=st.integers(0, (1 << 32) - 1), stride=st.integers(0, (1 << 32) - 1),
       width=st.integers(0, 64), compression=st.sampled_from(["", "zstd", "lz4"]), has_ref=st.booleans(),
       data=st.binary(max_size=64))
def test_mutated_fields_are_refused_by_name_or_read(size: int, offset: int, stride: int, width: int,
                                                    compression: str, has_ref: bool, data: bytes) -> None:
    msg = schemas.Packed(size=size, offset=offset, stride=stride, width=width, compression=compression,
                         has_ref=has_ref, ref_log_time=1, ref_sequence=1, data=data)
    try:
        out = Unpacker(_no_fetch).unpack(schemas.TOPIC_WORLD_STATE, msg.SerializeToString(), 5, 5)
    except PackError:
        return
    assert len(out) == size


def test_bad_packed_messages_say_what_is_wrong() -> None:
    unpack = Unpacker(_no_fetch).unpack
    with pytest.raises(PackError, match=r"over the .*-byte limit"):
        unpack(schemas.TOPIC_DELTAS, schemas.Packed(size=CHUNK_SIZE_LIMIT + 1).SerializeToString(), 0, 0)
    with pytest.raises(PackError, match="declares 10 bytes but holds 3"):
        unpack(schemas.TOPIC_DELTAS, schemas.Packed(size=10, data=b"abc").SerializeToString(), 0, 0)
    with pytest.raises(PackError, match="compression 'lz4'"):
        unpack(schemas.TOPIC_DELTAS, schemas.Packed(size=1, compression="lz4").SerializeToString(), 0, 0)
    with pytest.raises(PackError, match="rows of 7 bytes in 2-byte columns"):
        unpack(schemas.TOPIC_DELTAS, schemas.Packed(size=14, stride=7, width=2, data=b"x" * 14).SerializeToString(),
               0, 0)
    packer = Packer()
    first = packer.pack(schemas.TOPIC_KEYFRAMES, b"k" * 100, 10, 1)
    second = packer.pack(schemas.TOPIC_KEYFRAMES, b"k" * 99 + b"j", 20, 2)
    with pytest.raises(PackError, match=r"refers to a message at 10 ns \(sequence 1\) that the file lacks"):
        unpack(schemas.TOPIC_KEYFRAMES, second, 20, 2)
    assert Unpacker(lambda *ref: first if ref == (schemas.TOPIC_KEYFRAMES, 10, 1) else None).unpack(
        schemas.TOPIC_KEYFRAMES, second, 20, 2) == b"k" * 99 + b"j"
    looped = schemas.Packed.FromString(second)
    looped.ref_log_time, looped.ref_sequence = 20, 2
    with pytest.raises(PackError, match="not before it"):
        unpack(schemas.TOPIC_KEYFRAMES, looped.SerializeToString(), 20, 2)
    def endless(_topic: str, t: int, _seq: int) -> bytes:  # each message refers to the one 1 ns before it
        msg = schemas.Packed.FromString(second)
        msg.ref_log_time, msg.ref_sequence = t - 1, 2
        return bytes(msg.SerializeToString())

    with pytest.raises(PackError, match=f"more than {MAX_CHAIN} messages"):
        Unpacker(endless).unpack(schemas.TOPIC_KEYFRAMES, endless("", 1000, 2), 1000, 2)


def test_a_recording_with_a_broken_reference_names_the_message(tmp_path: Path) -> None:
    path = tmp_path / "r.mcap"
    with Recording(FORMAT1) as old:
        keyframes = [(m.log_time_ns, pb.Frame.FromString(m.data)) for m in old.messages([schemas.TOPIC_KEYFRAMES])]
    with Recorder(path) as rec:
        for t, f in keyframes:
            rec.write_frame(WireFrame(f.seq, f.kind, f.base_seq, f.tick, f.payload), t)
    with Recording(path) as rec:
        rec._unpacker = Unpacker(_no_fetch)  # as if the referenced keyframe's chunk were gone
        second = keyframes[1][0]
        with pytest.raises(RecordingError, match=f"{schemas.TOPIC_KEYFRAMES} message at {second} ns refers to"):
            rec.latest([schemas.TOPIC_KEYFRAMES], second)


# --------------------------------------------------------------------------------------- format 1 files


def _nodes(events: object) -> np.ndarray:
    swarm = NodeSwarm()
    for e in events:  # type: ignore[attr-defined]
        if e.frame is None or e.frame.kind not in (pb.KEYFRAME, pb.DELTA):
            continue
        data = core_frames.decode(e.frame.payload).data
        swarm.load_keyframe(data) if e.frame.kind == pb.KEYFRAME else swarm.apply_delta(data)
    return swarm.nodes.copy()


def test_a_format_1_recording_still_opens_seeks_and_replays(tmp_path: Path) -> None:
    with Recording(FORMAT1) as rec:
        assert rec.metadata["format"] == "1" and not rec._packed
        assert rec.message_counts[schemas.TOPIC_CHECKPOINTS] == 8 and rec.message_counts[schemas.TOPIC_WORLD_STATE]
        events = list(Timeline(rec).play())
        frames = [e.frame for e in events if e.frame is not None]
        assert len(frames) == sum(rec.message_counts.get(t, 0) for t in schemas.FRAME_TOPICS)
        for t_s in (3.3, 7.0, 12.1, 19.9):  # after checkpoints and after keyframes
            t = rec.start_ns + int(t_s * 1e9)
            seek = [e for e in Timeline(rec).play(t) if e.catch_up]
            assert seek and all(e.log_time_ns <= t for e in seek)
            from_start = [e for e in events if e.log_time_ns <= t]
            assert np.array_equal(_nodes(seek), _nodes(from_start))
        copy = tmp_path / "fixture.mcap"
    # A killed format-1 file still recovers and repairs (its messages as they were).
    shutil.copy(FORMAT1, copy)
    with open(copy, "r+b") as fh:
        fh.truncate(copy.stat().st_size // 2)
    found = list(Recovery(copy))
    assert found and all(c.topic in schemas.TOPICS for c, _ in found)
    report = repair(copy, tmp_path / "repaired.mcap")
    assert report.cleanly_closed and report.message_count == len(found)
    with Recording(tmp_path / "repaired.mcap") as rec, Recording(FORMAT1) as orig:
        assert [m.data for m in rec.messages()] == [m.data for m in orig.messages(end_ns=rec.end_ns)][:len(found)]
