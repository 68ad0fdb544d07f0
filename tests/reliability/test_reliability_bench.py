"""``python -m benchmarks.reliability``: sections can be chosen, targets are attached, unknown names refused."""

from __future__ import annotations

import pytest

from benchmarks.reliability import runner as reliability
from scythe_desktop.cli import bench as cli


def test_a_harness_outside_the_product_not_a_scythe_benchmark() -> None:
    assert "reliability" not in cli.BENCHMARKS
    assert reliability.__name__ == "benchmarks.reliability.runner"


def test_one_section_with_its_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCYTHE_RELIABILITY_ONLY", "r4")
    out = reliability.run(quick=True)
    assert {"seed", "quick", "R4", "targets_met"} <= set(out)
    assert not {"R1", "R2", "R3", "R5", "R6", "R7", "R8"} & set(out)
    r4 = out["R4"]
    assert isinstance(r4, dict) and "failed" not in r4, r4
    assert r4["wrong_outcomes_target"] == 0
    assert out["targets_met"] == {"R4.wrong_outcomes": True, "R4.token_leaks_in_logs": True}


def test_unknown_section_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCYTHE_RELIABILITY_ONLY", "R9")
    with pytest.raises(ValueError, match="R9"):
        reliability.run(quick=True)
