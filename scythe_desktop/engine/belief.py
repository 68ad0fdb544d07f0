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
    """The scenario's constants of the observation model, precomputed for the hot path.

    State beliefs are stored *transposed*, ``(4, C)``: every per-cluster reduction over states is then a
    reduction over four contiguous rows, which is several times cheaper for small C.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.transition = transition_matrix(scenario)
        self.transition_t = self.transition.T.copy()
        self.visibility = visibility(scenario)
        self.confusion = confusion(scenario)
        # log P(report k | s) up to the common factor p_oc (it cancels in Bayes' rule): (4, 3).
        self.log_report = np.log(self.visibility[:, None] * self.confusion + _TINY)
        b = scenario.belief
        self.count_var_meas = b.count_noise**2
        self.count_q = b.count_process_noise
        self.count_weight = b.count_weight
        self.log2_resolution = float(np.log2(b.count_resolution))
        self._count_const = 0.5 * float(np.log2(2.0 * np.pi * np.e)) - self.log2_resolution
        self.prior = np.array([0.3, 0.3, 0.3, 0.1])
        # Entropy (bits) of each live state's report distribution.
        self.confusion_entropy = -(self.confusion[:3] * np.log2(self.confusion[:3])).sum(axis=1)

    # ------------------------------------------------------------------------------------ entropies

    def state_entropy(self, bt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Entropy in bits of (4, …) state beliefs."""
        t = bt + _TINY  # in place from here on: the same operations without temporaries
        np.log2(t, out=t)
        np.multiply(bt, t, out=t)
        h = t.sum(axis=0)
        return np.negative(h, out=h) if isinstance(h, np.ndarray) else -h

    def count_entropy(self, var: NDArray[np.float64]) -> NDArray[np.float64]:
        if np.ndim(var) == 0:
            return np.maximum(0.0, 0.5 * np.log2(var) + self._count_const)
        h = np.log2(var)  # in place from here on
        np.multiply(0.5, h, out=h)
        h += self._count_const
        return np.maximum(0.0, h, out=h)

    def entropy(self, bt: NDArray[np.float64], var: NDArray[np.float64]) -> NDArray[np.float64]:
        """Total entropy in bits per cluster for (4, C) beliefs and (C,) log-count variances."""
        return self.state_entropy(bt) + self.count_weight * (1.0 - bt[GONE]) * self.count_entropy(var)

    # --------------------------------------------------------------------------------------- update

    def predict(self, bt: NDArray[np.float64], var: NDArray[np.float64]) -> NDArray[np.float64]:
        """One tick of the Markov chain (returns the new (4, C) belief) and of the count's random walk
        (``var`` in place)."""
        var += self.count_q
        return self.transition_t @ bt

    def update(
        self, bt: NDArray[np.float64], miss_log: np.ndarray, counts: np.ndarray
    ) -> NDArray[np.float64]:
        """Bayes' rule; returns the posterior (4, C).

        ``miss_log`` (3, C) is Σ over observers that saw nothing of log(1 − p_oc·v_s) for the live states
        (GONE is invisible, so silence costs it nothing); ``counts`` (3, C) how many observers reported
        each live state.
        """
        log_post = bt + 1e-300
        np.log(log_post, out=log_post)
        log_post += self.log_report @ counts
        log_post[:3] += miss_log
        log_post -= log_post.max(axis=0)
        post = np.exp(log_post, out=log_post)
        post /= post.sum(axis=0)
        return post

    def update_count(
        self,
        mu: NDArray[np.float64],
        var: NDArray[np.float64],
        precision: np.ndarray,
        log_count: NDArray[np.float64],
        noise: NDArray[np.float64],
    ) -> None:
        """Kalman update in place with one measurement ``log_count + noise/√precision`` per cluster;
        written so that precision 0 (nothing detected) is an exact no-op."""
        vp = var * precision
        den = vp + 1.0
        step = log_count - mu  # in place below: (vp·(log n − mu) + var·√precision·noise) / den
        step *= vp
        gain = np.sqrt(precision)
        np.multiply(var, gain, out=gain)
        gain *= noise
        step += gain
        step /= den
        mu += step
        var /= den

    # ------------------------------------------------------------------------ expected information

    def information_gain(
        self,
        b: NDArray[np.float64],
        var: NDArray[np.float64],
        p: NDArray[np.float64],
        rate_ratio: NDArray[np.float64] | float,
    ) -> NDArray[np.float64]:
        """Expected entropy reduction (bits) per cluster of one observation with detection ``p``.

        ``b`` (C, 4) (the transpose of the stored belief) and ``var`` (C,) are the beliefs; ``p``
        broadcasts against (…, C) (e.g. (K, C) for K candidate sites); ``rate_ratio`` (scalar or (…,))
        is the observer's sampling rate over its base rate. Returns (…, C).

        The state part is the mutual information I(S; Y) = H(Y) − Σ_s b_s H(Y | s) in closed form:
        with q_s = p·v_s, H(Y | s) = H_bin(q_s) + q_s·H(M_s) (M the confusion matrix), and
        P(Y = nothing) = 1 − p·Σ_s b_s v_s, P(Y = k) = p·Σ_s b_s v_s M_sk.
        """
        p = np.asarray(p, dtype=np.float64)
        bv = b * self.visibility  # (C, 4)
        vbar = bv.sum(axis=-1)
        report = bv @ self.confusion  # (C, 3)
        h_y = -(_xlog2x(1.0 - p * vbar) + _xlog2x(p[..., None] * report).sum(axis=-1))
        q = p[..., None] * self.visibility[:3]  # (…, C, 3); GONE is never seen
        h_cond = ((_xlog2x(q) + _xlog2x(1.0 - q) - q * self.confusion_entropy) * b[:, :3]).sum(axis=-1)
        mutual = np.maximum(h_y + h_cond, 0.0)
        rr = np.asarray(rate_ratio, dtype=np.float64)
        precision = (rr[..., None] if rr.ndim else rr) / self.count_var_meas
        count_gain = self.count_entropy(var) - self.count_entropy(var / (1.0 + var * precision))
        return mutual + self.count_weight * (1.0 - b[:, GONE]) * (p * vbar) * count_gain


def _xlog2x(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x * np.log2(np.maximum(x, _TINY))


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
