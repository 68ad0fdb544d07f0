"""``scythe bench generalize --quick``: every figure with its target, on worlds the brain never saw."""

from __future__ import annotations

import math

from scythe_desktop.bench.generalize import HELD_OUT_SCENARIOS, MIN_GRID_BITS, TARGETS, WorldScore, run, summary


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
    defined = result["zero_shot_info_undefined"] < result["zero_shot_scenarios"]
    assert math.isfinite(result["zero_shot_info_vs_static_grid"]) == defined
    assert result["decide_ms_global"] > 0
    # The held-out generated worlds and global are each in the table, with the best baseline named.
    assert len(result["per_scenario"]) == 3 and "global" in result["per_scenario"]
    assert all(name.startswith("gen-") for name in result["per_scenario"] if name != "global")
    assert min(HELD_OUT_SCENARIOS) >= 100_000  # never a training scenario (training draws seeds below it)


def _score(name: str, brain: float, best: float, bits: float, grid_bits: float) -> WorldScore:
    return WorldScore(name, 10, 1, 5.0, brain, "greedy", best, bits, grid_bits)


def test_a_grid_that_learned_nothing_is_counted_not_divided_by() -> None:
    # Measured: a static grid that places nothing on a generated world learns ~1e-12 bits; dividing by it gave
    # a "mean" information ratio of 1.7e14.
    worlds = [_score("a", 120.0, 100.0, 50.0, 25.0), _score("b", 90.0, 100.0, 30.0, 1e-12),
              _score("c", 10.0, -5.0, 12.0, 24.0), _score("d", 300.0, 100.0, 40.0, MIN_GRID_BITS)]
    out = summary(worlds)
    assert out["zero_shot_info_undefined"] == 1
    assert out["zero_shot_info_vs_static_grid"] == (2.0 + 0.5 + 40.0) / 3
    assert out["zero_shot_info_median_vs_static_grid"] == 2.0
    assert out["zero_shot_nonpositive_best"] == 1  # c: the best baseline lost money
    assert out["zero_shot_reward_vs_best_baseline"] == (1.2 + 0.9 + 3.0) / 3
    assert out["zero_shot_reward_median_vs_best_baseline"] == 1.2
    assert out["zero_shot_worst_scenario_vs_best_baseline"] == 0.9 and out["zero_shot_brain_wins"] == 2
