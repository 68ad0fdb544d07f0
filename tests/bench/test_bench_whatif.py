"""``scythe bench whatif`` prints one JSON object with every figure the issue names (quick sizes here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = ("branch_identical_until_divergence", "branch_speed_vs_real_time", "console_branch_ready_s")


def test_bench_whatif_prints_every_key() -> None:
    scythe = str(Path(sys.executable).with_name("scythe"))
    out = subprocess.run([scythe, "bench", "whatif", "--quick"], capture_output=True, text=True, timeout=600,
                         check=True)
    result = json.loads(out.stdout)
    for key in KEYS:
        assert f"{key}_target" in result
    # Exactness is a fact, not a speed: the branch equals its parent until the flipped decision.
    assert result["branch_identical_until_divergence"] == 1
    assert result["frames_checked_whole_recording"] > result["frames_checked_until_divergence"] > 0
    assert result["branch_speed_vs_real_time"] > 0 and result["console_branch_ready_s"] > 0
    assert result["simulate_speed_vs_real_time"] > 0 and result["branch_vs_simulate_speed"] > 0
