"""Per-cluster belief: a categorical posterior over activity states × a log-normal node-count estimate.

Model (all vectorised over clusters; observers are independent given the true state):

* **State** ``s ∈ {ACTIVE, QUIET, ACTIVATING, GONE}`` follows a known Markov chain whose matrix comes from
  the scenario's dynamics rates (quiet, activate, 1/activation_ticks, vanish; GONE is absorbing). Each
  tick the belief is first *predicted* through that chain (so entropy grows where nobody looks) and then
  *updated* by Bayes' rule with every observer's outcome.
* **Observation** of cluster ``c`` by observer ``o``: with probability ``p_oc · v_s`` the observer reports
  a state ``k`` (``p_oc`` is the observer's detection probability after occlusion, ``v_s`` how visible
  state ``s`` is: 1 active, ``activating_visibility``, ``quiet_visibility``, 0 gone); the report is right
  with probability ``report_accuracy``, otherwise one of the two other live states at random. Otherwise the
  outcome is "nothing seen", which is evidence too: it favours quiet and gone clusters.
* **Count** ``log n ~ N(mu, var)``, a 1-D Kalman filter: process noise per tick, and each detection
  measures ``log n`` with variance ``count_noise² · base_rate / rate`` (faster sampling, better counts).
  A log-normal is the natural model for a positive count spanning orders of magnitude.
* **Entropy** (bits) ``H = H(state) + count_weight · (1 − P(gone)) · H_count``, where ``H_count`` is the
  entropy of the count at a resolution of ``count_resolution`` in log space (the differential entropy
  discretised, clipped at 0). Expected information gain of a candidate observation is the mutual
  information between its outcome and the state plus the expected count-entropy reduction; among several
  observers looking in the same tick the candidate's gain is discounted by the probability that the others
  miss (a redundancy approximation that keeps the gain O(clusters) and diminishing).

This module holds arrays and formulas only; it knows nothing of worlds, nodes or constraints.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.scenario import Scenario

N_STATES: Final = 4
ACTIVE, QUIET, ACTIVATING, GONE = range(N_STATES)
_TINY: Final = 1e-12
_LOG2E: Final = 1.0 / np.log(2.0)


def transition_matrix(scenario: Scenario) -> NDArray[np.float64]:
    """Row-stochastic (4, 4) state transition matrix of one tick."""
    d = scenario.dynamics
    t = np.zeros((N_STATES, N_STATES))
    t[ACTIVE, QUIET] = d.p_quiet
    t[ACTIVE, ACTIVE] = 1.0 - d.p_quiet
    t[QUIET, ACTIVATING] = d.p_activate
    t[QUIET, GONE] = d.p_vanish * (1.0 - d.p_activate)
    t[QUIET, QUIET] = 1.0 - t[QUIET, ACTIVATING] - t[QUIET, GONE]
    t[ACTIVATING, ACTIVE] = 1.0 / d.activation_ticks
    t[ACTIVATING, ACTIVATING] = 1.0 - t[ACTIVATING, ACTIVE]
    t[GONE, GONE] = 1.0
    return t


def visibility(scenario: Scenario) -> NDArray[np.float64]:
    """How visible each state is to a perfect observer: (4,)."""
    b = scenario.belief
    return np.array([1.0, b.quiet_visibility, b.activating_visibility, 0.0])


def confusion(scenario: Scenario) -> NDArray[np.float64]:
    """(4, 3): probability that a cluster in state s is reported as live state k (rows sum to 1 but GONE)."""
    a = scenario.belief.report_accuracy
    m = np.full((N_STATES, 3), (1.0 - a) / 2.0)
    m[np.arange(3), np.arange(3)] = a
    m[GONE] = 1.0 / 3.0
    return m


class BeliefModel:
    """The scenario's constants of the observation model, precomputed for the hot path."""

    def __init__(self, scenario: Scenario) -> None:
        self.transition = transition_matrix(scenario)
        self.visibility = visibility(scenario)
        self.confusion = confusion(scenario)
        # log P(report k | s) up to the common factor p_oc (it cancels in Bayes' rule).
        self.log_report = np.log(self.visibility[:, None] * self.confusion + _TINY).T.copy()  # (3, 4)
        b = scenario.belief
        self.count_var_meas = b.count_noise**2
        self.count_q = b.count_process_noise
        self.count_weight = b.count_weight
        self.log2_resolution = float(np.log2(b.count_resolution))
        self.accuracy = b.report_accuracy

    # ------------------------------------------------------------------------------------ entropies

    def state_entropy(self, b: NDArray[np.float64]) -> NDArray[np.float64]:
        return -(b * np.log2(b + _TINY)).sum(axis=-1)

    def count_entropy(self, var: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.maximum(0.0, 0.5 * np.log2(2.0 * np.pi * np.e * var) - self.log2_resolution)

    def entropy(self, b: NDArray[np.float64], var: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.state_entropy(b) + self.count_weight * (1.0 - b[..., GONE]) * self.count_entropy(var)

    # --------------------------------------------------------------------------------------- update

    def predict(self, b: NDArray[np.float64], var: NDArray[np.float64]) -> None:
        """One tick of the Markov chain and of the count's random walk, in place."""
        b[:] = b @ self.transition
        var += self.count_q

    def update(
        self,
        b: NDArray[np.float64],
        miss_log: NDArray[np.float64],
        report_counts: NDArray[np.int64],
    ) -> None:
        """Bayes' rule in place. ``miss_log`` (C, 4) is Σ_o over silent observers of log(1 − p_oc v_s);
        ``report_counts`` (C, 3) how many observers reported each live state."""
        log_post = np.log(b + _TINY) + miss_log + report_counts @ self.log_report
        log_post -= log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post)
        b[:] = post / post.sum(axis=1, keepdims=True)

    def update_count(
        self,
        mu: np.ndarray,
        var: np.ndarray,
        precision: np.ndarray,
        measurement: np.ndarray,
    ) -> None:
        """Kalman update of log-counts in place where ``precision`` (summed over detections) is > 0."""
        gain = var * precision / (1.0 + var * precision)
        mu += gain * (measurement - mu)
        var *= 1.0 - gain

    # ------------------------------------------------------------------------ expected information

    def information_gain(
        self,
        b: NDArray[np.float64],
        var: NDArray[np.float64],
        p: NDArray[np.float64],
        rate_ratio: NDArray[np.float64] | float,
    ) -> NDArray[np.float64]:
        """Expected entropy reduction (bits) per cluster of one observation with detection ``p``.

        ``b`` (C, 4) and ``var`` (C,) are the beliefs; ``p`` broadcasts against (…, C) (e.g. (K, C) for K
        candidates); ``rate_ratio`` is the observer's sampling rate over its base rate. Returns (…, C).
        """
        pv = p[..., None] * self.visibility  # (…, C, 4): P(detect | s)
        # Outcome probabilities P(y | s) for y = none, report ACTIVE, QUIET, ACTIVATING: (…, C, 4s, 4y)
        lik = np.concatenate([(1.0 - pv)[..., None], pv[..., None] * self.confusion], axis=-1)
        py = np.einsum("...cs,...csy->...cy", np.broadcast_to(b, lik.shape[:-1]), lik)
        h_y = -(py * np.log2(py + _TINY)).sum(axis=-1)
        h_y_given_s = -(lik * np.log2(lik + _TINY)).sum(axis=-1)  # (…, C, 4)
        mutual = h_y - (b * h_y_given_s).sum(axis=-1)
        p_detect = (pv * b).sum(axis=-1)
        precision = (
            np.asarray(rate_ratio)[..., None] / self.count_var_meas
            if np.ndim(rate_ratio)
            else (rate_ratio / self.count_var_meas)
        )
        count_gain = self.count_entropy(var) - self.count_entropy(var / (1.0 + var * precision))
        return np.maximum(mutual, 0.0) + self.count_weight * (1.0 - b[:, GONE]) * p_detect * count_gain


__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "GONE",
    "N_STATES",
    "QUIET",
    "BeliefModel",
    "confusion",
    "transition_matrix",
    "visibility",
]
