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
    # The decision brain's keys, each with its target beside it.
    from scythe_desktop.bench.brain import TARGETS as BRAIN_TARGETS
    from scythe_desktop.engine.rl.comparison import SPENDING_BASELINES as BASELINES

    for key, target in BRAIN_TARGETS.items():
        assert key in result and result[f"{key}_target"] == target, key
    capped = {f"{b}@{result['brain']}" for b in ("greedy", "greedy-reward", "static-grid")}
    assert result["best_baseline"] in {*BASELINES, *capped}
    assert result["brain_on_frontier"] in (0, 1)
    # NaN only when the brain spent less than greedy's cheapest frontier point.
    ratio = result["brain_info_vs_greedy_frontier_at_brain_cost"]
    assert ratio > 0 or (math.isnan(ratio) and result["brain_cost"] < min(p[2] for p in result["frontier"]))
    assert isinstance(result["confidence_proposals"], int) and result["confidence_proposals"] >= 0
    assert 0.0 <= result["confidence_ece"] <= 1.0 or result["confidence_proposals"] == 0
    assert result["brain_decide_ms_regional"] > 0 and result["brain_decide_ms_global"] > 0
    assert result["shipped_train_env_steps"] > 0
    assert [round(p[0], 1) for p in result["frontier"]] == [0.2, 0.6, 1.0]
