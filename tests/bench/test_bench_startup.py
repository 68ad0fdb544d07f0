"""``scythe bench startup``: the first-frame timer and the JSON with every figure and its target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.bench.startup import TARGETS, time_to_first_frame

pytestmark = pytest.mark.gl


def test_a_start_that_never_draws_is_an_error_naming_the_command(tmp_path: Path) -> None:
    # Exits at once without writing the PNG (the appended --screenshot/--frames land in sys.argv, unused).
    with pytest.raises(RuntimeError, match=r"exited 3 without a frame"):
        time_to_first_frame([sys.executable, "-c", "import sys; sys.exit(3)"], dict(os.environ), tmp_path)


def test_quick_startup_benchmark_times_the_python_start_and_says_the_binary_is_missing(tmp_path: Path) -> None:
    # No DISPLAY: the benchmark's own Xvfb path runs. No binary: its figures are None with the reason.
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["SCYTHE_BINARY"] = str(tmp_path / "no-such-scythe")
    env["SCYTHE_FIELD_BINARY"] = str(tmp_path / "no-such-field-scythe")
    proc = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "bench", "startup", "--quick"],
        capture_output=True, text=True, timeout=280, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for key, target in TARGETS.items():
        assert result[f"{key}_target"] == target
    assert isinstance(result["first_frame_s_python"], float) and result["first_frame_s_python"] > 0
    assert result["first_frame_s_binary"] is None
    assert "not built" in result["binary"] and "no-such-scythe" in result["binary"]
    assert result["first_frame_s_field"] is None and "VARIANT=field" in result["binary_field"]
