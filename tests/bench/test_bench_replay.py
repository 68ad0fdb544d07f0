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
    # The recording it measured seeks on the stream's own keyframes (every 10 s) and deltas: with the default
    # 11 s interval it needs no checkpoints of its own, and it carries no Foxglove point cloud (export adds it).
    assert {"/scythe/frames/keyframes", "/scythe/frames/deltas"} <= set(result["messages"])
    assert not {"/scythe/frames/checkpoints", "/scythe/swarm"} & set(result["messages"])
    assert "bytes_per_hour_mb_target" in result
