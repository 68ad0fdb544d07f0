"""Item 17: a scenario asking for more than a world can hold is a ScenarioError naming the key, never a
MemoryError in World(), and ``scythe serve`` says so instead of crashing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.engine.scenario import (
    MAX_SCENARIO_BYTES,
    SCENARIO_DIR,
    ScenarioError,
    load_scenario,
    parse_scenario,
)

REGIONAL = (SCENARIO_DIR / "regional.toml").read_text()


def _with(**values: str) -> str:
    """regional.toml with ``key = value`` lines replaced (keys are unique in the file)."""
    text = REGIONAL
    for key, value in values.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, key
    return text


@pytest.mark.parametrize(
    ("values", "key"),
    [({"size_max": "1_000_000_000"}, "clusters.size_max"),
     ({"size_median": "1e9"}, "clusters.size_median"),
     ({"max_count": "100_000", "size_max": "1_000"}, "clusters.size_max"),
     ({"size_median": "5000"}, "clusters.size_median"),  # above size_max 3000
     ({"max_instances": "10_000", "max_count": "1_000", "size_max": "3000"}, "constraints.max_instances")],
)
def test_oversized_worlds_are_refused_by_the_loader(values: dict[str, str], key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(_with(**values), "big.toml")
    assert info.value.key == key, info.value


def test_the_shipped_scenarios_stay_inside_the_bounds() -> None:
    for name in ("tutorial", "regional", "global"):
        load_scenario(name)


def test_a_huge_array_or_file_is_refused(tmp_path: Path) -> None:
    asns = ", ".join(str(i) for i in range(20_000))
    with pytest.raises(ScenarioError, match="1 to 10000"):
        parse_scenario(re.sub(r"(?m)^asns = .*$", f"asns = [{asns}]", REGIONAL), "asns.toml")
    big = tmp_path / "big.toml"
    big.write_text(REGIONAL + "\n# " + "x" * MAX_SCENARIO_BYTES)
    with pytest.raises(ScenarioError, match="at most"):
        load_scenario(big)


def test_serve_reports_the_bound_and_exits(tmp_path: Path) -> None:
    path = tmp_path / "billion.toml"
    path.write_text(_with(size_max="1_000_000_000", size_median="1e9"))
    proc = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "serve", "--scenario", str(path), "--port", "0",
         "--token-dir", str(tmp_path / "tokens")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "clusters.size_max" in proc.stderr and "Traceback" not in proc.stderr
