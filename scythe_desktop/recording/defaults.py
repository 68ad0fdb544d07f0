"""Default recording parameters, in a module light enough for the command-line parsers to import.

``FLUSH_INTERVAL_S`` is the crash-loss window (see :mod:`scythe_desktop.recording.writer`);
``KEYFRAME_INTERVAL_S`` bounds how much log time a seek replays after its keyframe; ``CHUNK_SIZE``
(uncompressed bytes) bounds how much a seek decompresses beyond what it needs.
"""

from __future__ import annotations

from typing import Final

CHUNK_SIZE: Final = 512 * 1024
FLUSH_INTERVAL_S: Final = 0.5
KEYFRAME_INTERVAL_S: Final = 2.0
#: Foxglove shows the latest point cloud per topic; one every 10 s costs a fifth of one per keyframe.
POINTCLOUD_INTERVAL_S: Final = 10.0
