"""``scythe bench render --quick`` runs end to end in a subprocess and prints one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gl


def test_bench_render_quick_prints_every_key_with_its_target():
    # Run without DISPLAY so the benchmark's own Xvfb start-up path is exercised too.
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "bench", "render", "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    keys = ("upload_100k_ms", "upload_vs_markers", "frame_vs_markers", "delta_upload_5pct_ms", "frame_ms_100k_vol64")
    for key in keys:
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["upload_vs_markers_target"] == 5
    assert result["frame_vs_markers_target"] == 2
    assert result["ui_lag_p99_ms"] > 0 and result["ui_lag_p99_ms_target"] == 50.0
    assert result["delta_upload_5pct_plan"] == "full"
