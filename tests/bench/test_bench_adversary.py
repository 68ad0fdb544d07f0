"""``scythe bench adversary --quick``: a tiny self-play pair is trained and every figure is there with its target."""

from __future__ import annotations

import math

from scythe_desktop.bench.adversary import BASELINES, TARGETS, run


def test_quick_adversary_benchmark_reports_every_figure_with_its_target() -> None:
    result = run(quick=True)
    for key, target in TARGETS.items():
        assert isinstance(result[key], float), key
        assert result[f"{key}_target"] == target
    # Detections of a 20-tick episode are never zero with the shipped defender's first moves.
    assert result["trained_evader_greedy_detection_ratio"] > 0
    assert math.isfinite(result["adv_brain_vs_greedy_detections"])
    assert result["best_baseline"] in BASELINES
    base, exploited = result["exploit_detections"]
    assert base >= 0 and exploited >= 0
    assert set(result["activations_evaded"]) == {"brain", *BASELINES}
