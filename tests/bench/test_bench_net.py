"""``scythe bench net --quick`` runs end to end (server processes, TCP baseline, 5 delta clients, a
kill -9 restart) and prints one JSON object with every key and its target."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_net_quick_prints_every_key_with_its_target() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "bench", "net", "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for key, target in (("stream_vs_tcp", 0.5), ("delta_p99_ms", 100), ("reconnect_s", 2)):
        assert result[f"{key}_target"] == target
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["delta_p50_ms"] <= result["delta_p99_ms"]
    assert result["delta_samples"] == result["delta_clients"] * 10
    assert result["stream_mb_s"] > 0 and result["tcp_mb_s"] > 0
    assert result["restart_to_frame_s"] >= result["reconnect_s"]
