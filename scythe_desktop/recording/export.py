"""``scythe recording export-foxglove``: a copy of a recording that Foxglove/Lichtblick's 3-D panel can show.

Recordings carry the swarm only as our own frames; the export adds it as a ``foxglove.PointCloud`` (the
same 24-byte rows) at a keyframe at most every ``POINTCLOUD_INTERVAL_S`` of log time, the panel's latest
message per topic. Every other message is kept byte for byte, frames through the recorder and seek
checkpoints as recorded (a mid-stream recording starts from one that frames cannot rebuild), so the copy
replays exactly like the original. Knows recordings, not Qt.
"""

from __future__ import annotations

from pathlib import Path

from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.defaults import POINTCLOUD_INTERVAL_S
from scythe_desktop.recording.reader import Recording, RecordingError
from scythe_desktop.recording.writer import Recorder

#: No checkpoints of the exporter's own: the original's are copied.
_NEVER_S = 1e12


def export_foxglove(src: str | Path, out: str | Path, *, overwrite: bool = False) -> int:
    """Write ``out``; returns the number of point clouds added. A ``RecordingError`` names a bad input."""
    with Recording(src) as rec:
        meta = {k: v for k, v in rec.metadata.items() if k != "format"}
        try:
            recorder = Recorder(out, metadata={**meta, "exported": "foxglove"}, keyframe_interval_s=_NEVER_S,
                                pointcloud_interval_s=POINTCLOUD_INTERVAL_S, overwrite=overwrite,
                                flush_interval_s=_NEVER_S)
        except FileExistsError:
            raise RecordingError(f"{out} exists; choose another output or pass --overwrite") from None
        with recorder:
            for m in rec.messages(list(rec.topics)):
                if m.topic == schemas.TOPIC_SWARM_POINTCLOUD:
                    continue  # an older recording's own: rewritten at this export's interval
                if m.topic in schemas.FRAME_TOPICS:
                    f = pb.Frame.FromString(m.data)
                    recorder.write_frame(WireFrame(f.seq, f.kind, f.base_seq, f.tick, f.payload), m.log_time_ns)
                else:
                    recorder.copy_message(m.topic, m.data, m.log_time_ns, m.sequence)
        return recorder.pointclouds_written


__all__ = ["export_foxglove"]
