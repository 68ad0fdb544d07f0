"""``scythe bench engine --quick`` prints every figure with its target (values are not asserted: they
depend on the machine)."""

from __future__ import annotations

import json
import math

import pytest

from scythe_desktop.bench import engine
from scythe_desktop.cli import main
from scythe_desktop.cli.bench import BENCHMARKS
from scythe_desktop.engine.world import World

KEYS = ("steps_per_s", "field_1m_128_ms", "field_vs_naive", "tick_1m_ms")


def test_quick_engine_bench_reports_each_figure_beside_its_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert BENCHMARKS["engine"] == "scythe_desktop.bench.engine"
    assert main(["bench", "engine", "--quick"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in KEYS:
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, key
        assert result[f"{key}_target"] > 0
    assert result["quick"] is True and result["tick_scenario"] == "regional"  # never the 1M world
    assert result["field_max_rel_diff"] < 1e-3  # ours and the naive baseline compute the same field
    assert result["torch_threads"] in (1, *map(int, result["field_ms_by_torch_threads"]))
    for key in ("batch_env_steps_per_s", "batch_vs_gym_env", "train_steps_per_s", "train_vs_subproc",
                "world_ticks_per_s", "setup_fee_duty_cycle_ratio"):
        assert math.isfinite(result[key]) and result[key] > 0 and f"{key}_target" in result, key
    assert result["batch_slot_max_abs_diff"] == 0.0 == result["batch_slot_max_abs_diff_target"]
    assert result["setup_fee_duty_cycle_ratio"] > 1.0


def test_deploy_spread_places_the_requested_number_of_observers() -> None:
    world = World("regional", seed=0, emit_nodes=False)
    assert engine.deploy_spread(world, 20) == 20
    assert world.observers.shape[0] == 20
