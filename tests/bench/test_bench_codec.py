"""``scythe bench codec`` prints one JSON object with every figure and its target (quick sizes here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = ("decode_vs_json", "decode_vs_memcpy", "delta_bytes_ratio")


def test_bench_codec_prints_all_figures() -> None:
    scythe = str(Path(sys.executable).with_name("scythe"))
    out = subprocess.run([scythe, "bench", "codec", "--quick"], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    for key in KEYS:
        assert result[key] > 0
        assert f"{key}_target" in result
    assert result["apply_delta_vs_python"] > 0
    assert result["delta_bytes_ratio"] <= result["delta_bytes_ratio_target"]
