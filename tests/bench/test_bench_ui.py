"""``scythe bench ui --quick`` runs end to end in a subprocess (its own Xvfb) and prints one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gl


def test_bench_ui_quick_reports_the_lag_figures_with_the_target() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "scythe_desktop", "bench", "ui", "--quick"],
                          capture_output=True, text=True, timeout=240, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["ui_lag_p99_ms_target"] == 50.0
    for key in ("ui_lag_p99_ms", "ui_lag_p50_ms", "ui_lag_p99_ms_nodes_hidden", "ui_lag_p99_ms_redraw_only",
                "ui_lag_p99_ms_every_node"):
        assert isinstance(result[key], float) and result[key] >= 0.0, key
    assert result["ui_lag_heartbeats"] > 0
    assert result["ui_lag_keyframes_received_per_s"] > 0 and result["ui_lag_keyframes_applied_per_s"] > 0
    assert result["gl_renderer"]
