"""Calibrated confidence: ECE on synthetic sets, the isotonic map, and outcomes judged on fresh futures."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.engine.rl.calibration import Calibrator, ece, outcomes
from scythe_desktop.engine.scenario import load_scenario


def test_ece_is_near_zero_for_calibrated_confidences_and_large_for_overconfident_ones() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 1.0, 20_000)
    truth = rng.uniform(0.0, 1.0, p.size) < p  # outcomes drawn with exactly the stated probability
    assert ece(p, truth) < 0.02
    overconfident = np.clip(p * 0.5 + 0.5, 0.0, 1.0)  # claims 0.5..1 for events of probability 0..1
    assert ece(overconfident, truth) > 0.2
    assert ece(np.ones(4), np.ones(4)) == 0.0 and ece(np.ones(4), np.zeros(4)) == 1.0


def test_ece_refuses_bad_input_by_name() -> None:
    with pytest.raises(ValueError, match="one length"):
        ece([0.5, 0.5], [1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ece([1.5], [1])
    with pytest.raises(ValueError, match="at least one"):
        ece([], [])


def test_the_isotonic_map_is_monotone_and_fixes_a_miscalibrated_score() -> None:
    rng = np.random.default_rng(1)
    score = rng.integers(0, 9, 5000) / 8.0  # a share of 8 samples, like the brain's raw confidence
    truth = rng.uniform(0.0, 1.0, score.size) < score**2  # the share overstates the chance
    fitted = Calibrator.fit(score, truth)
    assert all(b >= a for a, b in zip(fitted.y, fitted.y[1:], strict=False))
    assert ece(fitted(score), truth) < 0.02 < ece(score, truth)
    back = Calibrator.from_json(fitted.to_json())
    assert np.array_equal(back(score), fitted(score))
    with pytest.raises(ValueError, match="increasing"):
        Calibrator.from_json({"x": [0.5, 0.1], "y": [0.2, 0.3]})


def test_outcomes_judge_each_proposal_on_a_future_without_changing_the_episode() -> None:
    from scythe_desktop.engine.policies import make_policy

    scenario = load_scenario("tutorial")
    found = outcomes(lambda: make_policy("greedy-reward"), scenario, [3], 6, horizon=5)
    again = outcomes(lambda: make_policy("greedy-reward"), scenario, [3], 6, horizon=5)
    assert found.confidence.size > 0 and found.confidence.size == found.beat_waiting.size == found.gain.size
    assert np.array_equal(found.gain, again.gain)  # seeded: the same futures every time
    assert np.array_equal(found.beat_waiting, found.gain > 0)
