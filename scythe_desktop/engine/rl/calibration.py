"""Calibrated confidence: the probability that applying a proposal, rather than waiting, raises the seed reward.

The definition (what Automate's threshold relies on): a proposal's confidence is P(return of "apply it now,
then wait" > return of "wait" over the next ``horizon`` ticks), both under the same random future, the return
being the seed reward with the default weights. :func:`outcomes` measures it: for each proposal it rolls both
branches out once on copies of the world (a fresh future per proposal, drawn from a stream no policy uses), so
each proposal yields one Bernoulli outcome whose expectation is exactly that probability. :func:`ece` is the
expected calibration error over 10 equal-width bins. :class:`Calibrator` maps a policy's raw score to that
probability by isotonic regression (``scipy.optimize.isotonic_regression``) fitted on validation seeds, so a
raw score that is merely monotone in the truth (a share of lookahead samples, a network's probability)
becomes a probability; it is stored as breakpoints in the policy's card.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from scythe_desktop.engine.policies.base import Policy
    from scythe_desktop.engine.scenario import Scenario

#: Ticks over which "applying beats waiting" is judged (the rollout lookahead's horizon too).
CONFIDENCE_HORIZON = 30
#: Keys the outcome futures so they are independent of every policy's own lookahead samples.
OUTCOME_STREAM = 0x7A11


def ece(confidence: ArrayLike, outcome: ArrayLike, bins: int = 10) -> float:
    """Expected calibration error: Σ_b (n_b / N) · |mean outcome_b − mean confidence_b| over ``bins``
    equal-width bins of [0, 1] (a confidence of exactly 1 falls in the last bin)."""
    p = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"confidence and outcome must be 1-D of one length, got {p.shape} and {y.shape}")
    if p.size == 0:
        raise ValueError("ece needs at least one proposal")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("confidences must be finite and in [0, 1]")
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(float(y[sel].mean()) - float(p[sel].mean()))
    return total


@dataclass(frozen=True)
class Calibrator:
    """A monotone map raw score -> probability (piecewise linear between breakpoints)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def identity(cls) -> Calibrator:
        return cls((0.0, 1.0), (0.0, 1.0))

    @classmethod
    def fit(cls, score: ArrayLike, outcome: ArrayLike) -> Calibrator:
        """Isotonic regression of ``outcome`` (0/1) on ``score``; ties in the score are pooled first."""
        from scipy.optimize import isotonic_regression

        s = np.asarray(score, dtype=np.float64)
        o = np.asarray(outcome, dtype=np.float64)
        if s.shape != o.shape or s.size < 2:
            raise ValueError(f"Calibrator.fit needs two or more (score, outcome) pairs, got {s.shape}, {o.shape}")
        xs, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
        means = np.bincount(inverse, weights=o) / counts
        fitted = isotonic_regression(means, weights=counts, increasing=True).x
        return cls(tuple(float(v) for v in xs), tuple(float(v) for v in np.clip(fitted, 0.0, 1.0)))

    def __call__(self, score: ArrayLike) -> NDArray[np.float64]:
        return np.interp(np.asarray(score, dtype=np.float64), self.x, self.y)

    def to_json(self) -> dict[str, list[float]]:
        return {"x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_json(cls, doc: dict[str, Sequence[float]]) -> Calibrator:
        x, y = tuple(float(v) for v in doc["x"]), tuple(float(v) for v in doc["y"])
        if len(x) != len(y) or len(x) < 1 or any(b < a for a, b in itertools.pairwise(x)):
            raise ValueError("calibration breakpoints must be two equal-length lists with x increasing")
        if any(not 0.0 <= v <= 1.0 for v in y):
            raise ValueError("calibrated probabilities must be in [0, 1]")
        return cls(x, y)

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        return cls.from_json(json.loads(path.read_text()))


@dataclass
class Outcomes:
    """Per proposal: the policy's confidence, its raw score, and whether applying beat waiting."""

    confidence: NDArray[np.float64]
    score: NDArray[np.float64]
    beat_waiting: NDArray[np.bool_]
    gain: NDArray[np.float64]  # return(apply) − return(wait) in that future


def outcomes(
    make_policy: Callable[[], Policy],
    scenario: Scenario,
    seeds: Sequence[int],
    ticks: int,
    horizon: int = CONFIDENCE_HORIZON,
    score: Callable[[object], float] | None = None,
) -> Outcomes:
    """Run ``make_policy()`` for ``ticks`` on each seed; judge every proposal it offers on a fresh future.
    ``score(proposal)`` is the raw score to calibrate (default: its confidence)."""
    from scythe_desktop.engine.policies.rollout import rollout_returns
    from scythe_desktop.engine.rl.episode import make_world

    conf: list[float] = []
    raw: list[float] = []
    gains: list[float] = []
    for seed in seeds:
        world = make_world(scenario, seed)
        policy = make_policy()
        policy.reset(world, seed)
        for _ in range(ticks):
            proposals = policy.propose(world, limit=3)
            for p in proposals:
                r = rollout_returns(world, [None, p.action], horizon, 1, stream=OUTCOME_STREAM)
                conf.append(p.confidence)
                raw.append(score(p) if score is not None else p.confidence)
                gains.append(float(r[1, 0] - r[0, 0]))
            world.step([proposals[0].action] if proposals else [])
    g = np.asarray(gains)
    return Outcomes(np.asarray(conf), np.asarray(raw), g > 0.0, g)


__all__ = ["CONFIDENCE_HORIZON", "Calibrator", "Outcomes", "ece", "outcomes"]
