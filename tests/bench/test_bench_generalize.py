"""``scythe bench generalize --quick``: every figure with its target, on worlds the brain never saw."""

from __future__ import annotations

import math

from scythe_desktop.bench.generalize import HELD_OUT_SCENARIOS, TARGETS, run


def test_quick_generalize_benchmark_reports_every_figure_with_its_target() -> None:
    result = run(quick=True)
    for key, target in TARGETS.items():
        assert key in result and result[f"{key}_target"] == target, key
    assert result["zero_shot_scenarios"] == 2
    scored = result["zero_shot_scenarios"] - result["zero_shot_nonpositive_best"]
    ratios = ("zero_shot_reward_vs_best_baseline", "zero_shot_worst_scenario_vs_best_baseline")
    for key in ratios:  # defined exactly when some scenario's best baseline earned a positive reward
        assert math.isfinite(result[key]) == (scored > 0), key
    if scored:
        assert result["zero_shot_worst_scenario_vs_best_baseline"] <= result["zero_shot_reward_vs_best_baseline"]
    assert result["zero_shot_info_vs_static_grid"] > 0
    assert result["decide_ms_global"] > 0
    # The held-out generated worlds and global are each in the table, with the best baseline named.
    assert len(result["per_scenario"]) == 3 and "global" in result["per_scenario"]
    assert all(name.startswith("gen-") for name in result["per_scenario"] if name != "global")
    assert min(HELD_OUT_SCENARIOS) >= 100_000  # never a training scenario (training draws seeds below it)
