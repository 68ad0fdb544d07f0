"""Recordings: every channel round-trips, a killed recorder leaves every complete chunk readable, repair
rebuilds a clean indexed file with the same messages, and bad files give one clear error."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import descriptor_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcap.reader import NonSeekingReader, make_reader

from scythe_desktop.cli import main
from scythe_desktop.core import frames as core_frames
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.recording import schemas
from scythe_desktop.recording.durations import format_duration, parse_duration, parse_time
from scythe_desktop.recording.reader import (
    Recording,
    RecordingError,
    Recovery,
    TruncatedRecording,
    inspect,
    repair,
)
from scythe_desktop.recording.replay import ReplaySource
from scythe_desktop.recording.simulate import Simulation, record_event
from scythe_desktop.recording.writer import Recorder, RecorderClosed, RecordingWorker

NS = 1_000_000_000


def _frames(ticks: int, seed: int = 3) -> list:
    """The frames a live stream of the tutorial world carries, with their log times."""
    sim = Simulation("tutorial", seed, None, keyframe_every=25)
    return [ev for ev in sim.run(ticks) if ev.frame is not None]


def _write_all_channels(path: Path) -> dict[str, list[bytes]]:
    """A recording with every channel; returns what was written per topic (serialized messages)."""
    events = _frames(40)
    proposal = Proposal(Deploy(10.0, 20.0, "probe"), "lon 10.0, lat 20.0", 0.5, 3.0, 0.8, "biggest gain", "greedy")
    decision = schemas.Decision(request_id="r1", who="operator:alice", decided_unix=1.7e9, tick=7,
                                outcome="confirmed", ok=True, observer_id=4, cost_per_hour=12.5)
    info = pb.WorldInfo(scenario="tutorial", seed=3, tick_rate_hz=5.0)
    field = np.arange(8, dtype=np.float32).reshape(2, 2, 2) / 8
    field_frame = pb.Frame(seq=10_000, kind=pb.FIELD, tick=5, payload=core_frames.encode_field(field, 10_000))
    written: dict[str, list[bytes]] = {}
    with Recorder(path, metadata={"scenario": "tutorial"}, keyframe_interval_s=1.0, pointcloud_interval_s=0.0) as rec:
        rec.write_world_info(info, 0)
        for ev in events:
            rec.write_frame(ev.frame, ev.log_time_ns)
        from scythe_desktop.protocol.wire import WireFrame

        rec.write_frame(WireFrame(field_frame.seq, pb.FIELD, 0, 5, field_frame.payload), events[-1].log_time_ns)
        rec.write_proposals([proposal], 7, events[-1].log_time_ns, "greedy")
        rec.write_decision(decision, events[-1].log_time_ns)
        rec.write_metrics(7, {"entropy": 1.5, "cost_per_hour": 12.5}, events[-1].log_time_ns)
    for ev in events:
        topic = schemas.FRAME_TOPIC_BY_KIND[ev.frame.kind]
        written.setdefault(topic, []).append(ev.frame.payload)
    written[schemas.TOPIC_FIELDS] = [field_frame.payload]
    return written


def test_every_channel_round_trips_with_its_embedded_schema(tmp_path: Path) -> None:
    path = tmp_path / "all.mcap"
    written = _write_all_channels(path)
    assert written[schemas.TOPIC_MEMBERSHIP]  # node-to-cluster frames are recorded on their own topic
    with Recording(path) as rec:
        assert rec.metadata["scenario"] == "tutorial"
        for topic, payloads in written.items():
            frames = [pb.Frame.FromString(m.data) for m in rec.messages([topic])]
            assert [f.payload for f in frames] == payloads, topic
            assert all(f.chunk_count == 1 and f.total_size == len(f.payload) for f in frames)
        (info,) = [pb.WorldInfo.FromString(m.data) for m in rec.messages([schemas.TOPIC_WORLD_INFO])]
        assert (info.scenario, info.seed) == ("tutorial", 3)
        (pset,) = [schemas.ProposalSet.FromString(m.data) for m in rec.messages([schemas.TOPIC_PROPOSALS])]
        p = pset.proposals[0]
        assert (p.kind, p.lon, p.lat, p.observer_type, p.policy, p.confidence) == (
            "deploy", 10.0, 20.0, "probe", "greedy", pytest.approx(0.8))
        (dec,) = [schemas.Decision.FromString(m.data) for m in rec.messages([schemas.TOPIC_DECISIONS])]
        assert (dec.who, dec.outcome, dec.observer_id) == ("operator:alice", "confirmed", 4)
        (met,) = [schemas.Metrics.FromString(m.data) for m in rec.messages([schemas.TOPIC_METRICS])]
        assert {v.name: v.value for v in met.values} == {"entropy": 1.5, "cost_per_hour": 12.5}
        # Every keyframe is mirrored as a foxglove.PointCloud carrying the node bytes unchanged.
        clouds = [schemas.PointCloud.FromString(m.data) for m in rec.messages([schemas.TOPIC_SWARM_POINTCLOUD])]
        keyframes = [core_frames.decode(p).data for p in written[schemas.TOPIC_KEYFRAMES]]
        assert len(clouds) >= len(keyframes) >= 2
        assert clouds[0].point_stride == 24 and [f.offset for f in clouds[0].fields] == [0, 4, 8, 12, 16, 20]
        assert clouds[0].data == keyframes[0].tobytes()
        assert rec.message_counts[schemas.TOPIC_CHECKPOINTS] > 0  # keyframes every 5 s, checkpoints every 1 s
    # Schemas are FileDescriptorSets naming the full message name, as Foxglove expects.
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
        assert summary is not None
        for channel in summary.channels.values():
            schema = summary.schemas[channel.schema_id]
            fds = descriptor_pb2.FileDescriptorSet.FromString(schema.data)
            names = {f"{f.package}.{m.name}" for f in fds.file for m in f.message_type}
            # The largest topics are stored packed (format 2); the reader hands back the Frame bytes above.
            expected = schemas.PACKED_TOPIC if channel.topic in schemas.PACKING else schemas.TOPICS[channel.topic]
            assert schema.name == expected.schema_name and schema.name in names


def test_recorder_refuses_to_clobber_and_to_write_after_close(tmp_path: Path) -> None:
    path = tmp_path / "r.mcap"
    rec = Recorder(path)
    rec.close()
    with pytest.raises(FileExistsError):
        Recorder(path)
    with pytest.raises(RecorderClosed, match="is closed"):
        rec.write_metrics(1, {"x": 1.0}, 0)


# ------------------------------------------------------------------------------------ crash safety


def _read_progress(proc: subprocess.Popen[str], flushes: int, errors: Path) -> int:
    """Wait for ``flushes`` progress lines on the child's stdout; the message count of the last one."""
    assert proc.stdout is not None
    count = 0
    for _ in range(flushes):
        line = proc.stdout.readline()
        assert line.startswith("flushed messages="), f"{line!r}; stderr: {errors.read_text()[-2000:]}"
        count = int(line.split()[1].split("=")[1])
    return count


def test_kill_9_during_simulate_keeps_every_flushed_message_and_repair_makes_a_clean_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.mcap"
    cmd = [sys.executable, "-m", "scythe_desktop.cli", "simulate", "--scenario", "tutorial", "--seed", "5",
           "--duration", "10h", "--out", str(path), "--progress-lines", "--no-progress", "--flush-interval", "0",
           "--keyframe-every", "25"]
    errors = tmp_path / "stderr.txt"
    with open(errors, "w") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        flushed = _read_progress(proc, 200, errors)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with pytest.raises(TruncatedRecording, match=r"not cleanly closed.*scythe recording repair"):
        Recording(path)
    recovery = Recovery(path)
    found = list(recovery)
    assert len(found) >= flushed > 0 and "truncated" in recovery.problem

    # The mcap package's own non-seeking reader, in file order, reads the same complete chunks (as stored:
    # packed topics packed).
    independent = []
    with open(path, "rb") as f:
        try:
            for _s, _c, m in NonSeekingReader(f).iter_messages(log_time_order=False):
                independent.append(m.data)
        except Exception as exc:  # the cut: EndOfFile, or a partial record's own complaint
            assert type(exc).__module__.startswith("mcap"), exc
    assert independent == [m.data for _, m in Recovery(path, unpack=False)]

    # What survived is exactly what the same deterministic simulation produces.
    sim = Simulation("tutorial", 5, None, keyframe_every=25)
    live = (ev.frame.payload for ev in sim.run(10**6) if ev.frame is not None)
    recovered_frames = [pb.Frame.FromString(m.data).payload for c, m in found if c.topic in schemas.FRAME_TOPICS]
    assert recovered_frames and all(p == next(live) for p in recovered_frames)

    report = inspect(path)
    assert not report.cleanly_closed and report.message_count == len(found)
    assert main(["recording", "check", str(path)]) == 1
    out = tmp_path / "repaired.mcap"
    assert main(["recording", "repair", str(path), "--out", str(out)]) == 0
    assert main(["recording", "check", str(out)]) == 0
    with Recording(out) as rec:
        assert rec.message_counts == report.message_counts
        # The stream's log times never decrease, so log-time order (file order on ties) is file order.
        clean = [(m.topic, m.log_time_ns, m.sequence, m.data) for m in rec.messages()]
    assert clean == [(c.topic, m.log_time, m.sequence, m.data) for c, m in found]


# --------------------------------------------------------------------------------------- bad input


def test_bad_files_each_get_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    not_mcap = tmp_path / "notes.txt"
    not_mcap.write_text("hello, not a recording\n" * 10)
    with pytest.raises(RecordingError, match=rf"{not_mcap}: not an MCAP recording"):
        Recording(not_mcap)
    with pytest.raises(RecordingError, match="cannot open"):
        Recording(tmp_path / "missing.mcap")

    good = tmp_path / "good.mcap"
    _write_all_channels(good)
    data = good.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(TruncatedRecording, match=rf"{cut}: recording was not cleanly closed"):
        ReplaySource(cut)

    # An MCAP file from some other tool: no SCYTHE metadata.
    from mcap.writer import Writer

    foreign = tmp_path / "foreign.mcap"
    with open(foreign, "wb") as f:
        w = Writer(f)
        w.start()
        sid = w.register_schema("other.Thing", "protobuf", b"")
        w.add_message(w.register_channel("/other", "protobuf", sid), 1, b"x", 1)
        w.finish()
    with pytest.raises(RecordingError, match="not a SCYTHE recording"):
        Recording(foreign)

    future = tmp_path / "future.mcap"
    with Recorder(future, metadata={"format": "99"}):
        pass
    with pytest.raises(RecordingError, match="recording format 99 is newer than this build reads"):
        Recording(future)

    unknown_schema = tmp_path / "schema.mcap"
    with open(unknown_schema, "wb") as f:
        w = Writer(f)
        w.start()
        w.add_metadata(schemas.METADATA_NAME, {"format": "1"})
        sid = w.register_schema("scythe.v9.Frame", "protobuf", b"")
        w.add_message(w.register_channel(schemas.TOPIC_DELTAS, "protobuf", sid), 1, b"x", 1)
        w.finish()
    with pytest.raises(RecordingError, match=r"topic /scythe/frames/deltas has unknown schema scythe\.v9\.Frame"):
        Recording(unknown_schema)
    assert main(["recording", "check", str(not_mcap)]) == 2


@pytest.fixture(scope="module")
def small_recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "small.mcap"
    sim = Simulation("tutorial", 1, None, keyframe_every=5)
    with Recorder(path, chunk_size=4096, keyframe_interval_s=0.4) as rec:
        for ev in sim.run(12):
            record_event(rec, ev)
    return path.read_bytes()


def _read_everything(path: Path) -> None:
    """Every way the app reads a file; only RecordingError may come out."""
    with contextlib.suppress(RecordingError):
        inspect(path)
        with Recording(path) as rec:
            for _ in rec.messages():
                pass
        source = ReplaySource(path, paced=False)
        for _ in source.events():
            pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_random_bytes_give_only_recording_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.mcap"
    path.write_bytes(data)
    _read_everything(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_recordings_give_only_recording_errors(tmp_path: Path, small_recording: bytes, data: st.DataObject
                                                       ) -> None:
    buf = bytearray(small_recording)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        i = data.draw(st.integers(0, len(buf) - 1), label="offset")
        buf[i] = data.draw(st.integers(0, 255), label="byte")
    cut = data.draw(st.integers(len(buf) // 2, len(buf)), label="length")
    path = tmp_path / "mutated.mcap"
    path.write_bytes(bytes(buf[:cut]))
    _read_everything(path)
    with contextlib.suppress(RecordingError):
        repair(path, tmp_path / "out.mcap", overwrite=True)


def test_a_stalled_stream_still_reaches_the_disk_within_the_flush_interval(tmp_path: Path) -> None:
    path = tmp_path / "stalled.mcap"
    flushed = threading.Event()
    now = [0.0]  # the recorder's wall clock, moved by hand: no flush can be due when the frame is written
    worker = RecordingWorker(Recorder(path, flush_interval_s=0.05, clock=lambda: now[0],
                                      on_flush=lambda _n, _t: flushed.set()))
    first = _frames(1)[0]
    worker.write_frame(first.frame, first.log_time_ns)  # and then nothing more arrives
    written = threading.Event()
    worker.submit(written.set)  # runs on the worker right after the write
    try:
        assert written.wait(timeout=30) and not flushed.is_set()
        now[0] = 1.0
        assert flushed.wait(timeout=30)  # only the idle worker can have flushed
        on_disk = list(Recovery(path))  # the recorder is still open, as if it were about to be killed
        frames = [pb.Frame.FromString(m.data).payload for c, m in on_disk if c.topic in schemas.FRAME_TOPICS]
        assert frames == [first.frame.payload]
    finally:
        worker.close()


def test_durations_take_s_m_h_or_plain_seconds_and_refuse_the_rest() -> None:
    assert [parse_duration(t) for t in ("90s", "30m", "1h", "2.5h", "45", " 2M ")] == [
        90.0, 1800.0, 3600.0, 9000.0, 45.0, 120.0]
    for bad in ("", "h", "5x", "-1m", "0", "nan", "inf", "1s2m", "10m42"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert [parse_duration(t) for t in ("10m42s", "1h2m3.5s", "2h", ".5s")] == [642.0, 3723.5, 7200.0, 0.5]
    assert parse_time("0") == 0.0
    assert [format_duration(s) for s in (642.0, 12.5, 3601.0, 0.0)] == ["10m42s", "12.5s", "1h0m1s", "0s"]
    assert all(parse_duration(format_duration(s)) == s for s in (642.0, 12.5, 3601.0, 0.2))


def test_the_evaders_moves_round_trip_through_a_recording_and_its_replay(tmp_path: Path) -> None:
    from scythe_desktop.engine.evaders import with_evader
    from scythe_desktop.engine.scenario import load_scenario
    from scythe_desktop.recording.timeline import Timeline

    scenario = with_evader(load_scenario("adversarial"), "decoy")
    sim = Simulation(scenario, 4, None, keyframe_every=25)
    path = tmp_path / "adv.mcap"
    sent = []
    with Recorder(path, metadata={"scenario": "adversarial", "evader": "decoy"}) as rec:
        for ev in sim.run(30):
            record_event(rec, ev)
            if ev.evader_moves is not None:
                sent.append((ev.tick, ev.evader_moves))
    assert sent and any(kind == "decoy" for _, moves in sent for kind, *_ in moves)
    with Recording(path) as rec:
        got = [schemas.EvaderMoves.FromString(m.data) for m in rec.messages([schemas.TOPIC_EVADER])]
        played = [e.message for e in Timeline(rec).play() if e.topic == schemas.TOPIC_EVADER]
    assert [(m.tick, tuple((v.kind, v.cluster_id, v.lon, v.lat) for v in m.moves)) for m in got] == sent
    assert all(m.evader == "decoy" for m in got)
    assert [m.SerializeToString() for m in played] == [m.SerializeToString() for m in got]
