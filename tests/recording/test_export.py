"""Recording size by default (no own checkpoints under the orchestrator's 10 s keyframes, no point cloud) and
``scythe recording export-foxglove``: the same messages plus the swarm as Foxglove's point cloud."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scythe_desktop.cli import main
from scythe_desktop.core import frames as core_frames
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording
from scythe_desktop.recording.simulate import Simulation, record_event
from scythe_desktop.recording.timeline import Timeline
from scythe_desktop.recording.writer import Recorder


def _simulate(path: Path, keyframe_every: int, ticks: int = 150, **recorder: object) -> Path:
    sim = Simulation("tutorial", 2, None, keyframe_every=keyframe_every)
    with Recorder(path, metadata=sim.metadata("none"), **recorder) as rec:  # type: ignore[arg-type]
        for ev in sim.run(ticks):
            record_event(rec, ev)
    return path


def test_by_default_the_streams_keyframes_are_the_seek_points_and_there_is_no_point_cloud(tmp_path: Path) -> None:
    with Recording(_simulate(tmp_path / "10s.mcap", keyframe_every=50)) as rec:
        assert schemas.TOPIC_CHECKPOINTS not in rec.topics and schemas.TOPIC_SWARM_POINTCLOUD not in rec.topics
        assert rec.message_counts[schemas.TOPIC_KEYFRAMES] == 4  # ticks 0, 50, 100, 150
    # A stream whose keyframes are rarer than 11 s still gets checkpoints to seek on.
    with Recording(_simulate(tmp_path / "30s.mcap", keyframe_every=150)) as rec:
        ticks = [schemas.Checkpoint.FromString(m.data).tick for m in rec.messages([schemas.TOPIC_CHECKPOINTS])]
    assert ticks == [55, 110]


def _frames(path: Path) -> list[tuple[int, bytes]]:
    with Recording(path) as rec:
        return [(e.log_time_ns, e.frame.payload) for e in Timeline(rec).play() if e.frame is not None]


def test_export_foxglove_adds_point_clouds_and_keeps_every_other_message(tmp_path: Path) -> None:
    src = _simulate(tmp_path / "run.mcap", keyframe_every=25, keyframe_interval_s=2.0)  # with checkpoints
    out = tmp_path / "fox.mcap"
    assert main(["recording", "export-foxglove", str(src), str(out)]) == 0
    with Recording(src) as a, Recording(out) as b:
        theirs = [(m.topic, m.log_time_ns, m.data) for m in a.messages(list(a.topics))]
        mine = [(m.topic, m.log_time_ns, m.data) for m in b.messages(list(b.topics))
                if m.topic != schemas.TOPIC_SWARM_POINTCLOUD]
        assert mine == theirs  # frames, checkpoints, world states and the rest, byte for byte
        clouds = [(m.log_time_ns, schemas.PointCloud.FromString(m.data))
                  for m in b.messages([schemas.TOPIC_SWARM_POINTCLOUD])]
        keyframes = {m.log_time_ns: core_frames.decode(pb.Frame.FromString(m.data).payload).data
                     for m in b.messages([schemas.TOPIC_KEYFRAMES])}
        assert b.metadata["exported"] == "foxglove" and b.metadata["scenario"] == a.metadata["scenario"]
    assert [t for t, _ in clouds] == [0, 10_000_000_000, 20_000_000_000, 30_000_000_000]
    for t, cloud in clouds:  # each is the keyframe's own rows, as six float32 fields of a 24-byte point
        assert cloud.point_stride == 24 and [f.name for f in cloud.fields][:3] == ["x", "y", "z"]
        assert np.array_equal(np.frombuffer(cloud.data, dtype="<f4").reshape(-1, 6), keyframes[t])
    assert _frames(out) == _frames(src)
    assert main(["recording", "export-foxglove", str(src), str(out)]) == 2  # exists: say so, keep it
