"""Default recording parameters, in a module light enough for the command-line parsers to import.

``FLUSH_INTERVAL_S`` is the crash-loss window (see :mod:`scythe_desktop.recording.writer`);
``KEYFRAME_INTERVAL_S`` bounds how much log time a seek replays after its keyframe; ``CHUNK_SIZE``
(uncompressed bytes) bounds how much a seek decompresses beyond what it needs.
"""

from __future__ import annotations

from typing import Final

CHUNK_SIZE: Final = 512 * 1024
FLUSH_INTERVAL_S: Final = 0.5
#: The orchestrator sends a keyframe every 10 s (50 ticks at 5 Hz), so a recording of its stream needs no
#: checkpoints of its own: at 2 s they were 40 % of a recording's bytes (one node buffer each, which zstd
#: cannot shrink inside a chunk). A stream with rarer keyframes still gets one after 11 s without.
KEYFRAME_INTERVAL_S: Final = 11.0
#: ``scythe recording export-foxglove`` writes the swarm as a point cloud this often (Foxglove shows the latest
#: one per topic); recordings themselves carry none (it repeated each keyframe's bytes).
POINTCLOUD_INTERVAL_S: Final = 10.0
