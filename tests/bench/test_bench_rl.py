"""``scythe bench rl --quick``: every figure is there with its target, and the bounds hold."""

from __future__ import annotations

import math

from scythe_desktop.bench.rl import TARGETS, run


def test_quick_rl_benchmark_reports_every_figure_with_its_target() -> None:
    result = run(quick=True)
    for key, target in TARGETS.items():
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
        assert result[f"{key}_target"] == target
    for key in ("vec_env_steps_per_s", "world_steps_per_s", "greedy_vs_optimal_min", "greedy_placement_vs_optimal"):
        assert math.isfinite(result[key])
    # The MILP optimum is an upper bound: no ratio against it can exceed 1.
    assert 0.0 < result["greedy_vs_optimal_min"] <= result["greedy_vs_optimal"] <= 1.0 + 1e-9
    assert 0.0 <= result["ppo_vs_optimal"] <= 1.0 + 1e-9
    assert 0.0 <= result["greedy_placement_vs_optimal"] <= 1.0 + 1e-9
    assert result["env_steps_per_s"] > 0 and result["infer_ms"] > 0
