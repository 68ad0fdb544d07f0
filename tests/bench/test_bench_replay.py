"""``scythe bench replay`` prints one JSON object with every figure and its target (quick sizes here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TARGETED = ("seek_ms_p99", "replay_vs_live_throughput", "record_overhead_pct")


def test_bench_replay_prints_all_figures() -> None:
    scythe = str(Path(sys.executable).with_name("scythe"))
    out = subprocess.run([scythe, "bench", "replay", "--quick"], capture_output=True, text=True, timeout=300,
                         check=True)
    result = json.loads(out.stdout)
    for key in TARGETED:
        assert result[key] >= 0 and f"{key}_target" in result
    assert result["bytes_per_hour_mb"] > 0 and result["read_from_start_ms"] > 0
    # The recording it measured holds keyframes, deltas and the seek checkpoints between keyframes.
    seek_topics = {"/scythe/frames/keyframes", "/scythe/frames/deltas", "/scythe/frames/checkpoints"}
    assert seek_topics <= set(result["messages"])
