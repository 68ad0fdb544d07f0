"""Sensing for B worlds: which observer sees which cluster, how well, and the Bayes update of the belief.

Per (world, observer, cluster) the detection probability is (see :mod:`scythe_desktop.engine.observers`)::

    pd = footprint × (1 − (1 − detection)^(rate/base)) × focus / max(1, load) × (1 − w·occlusion)

The first four factors change only with actions, cluster moves and node counts, so they are kept in dense
(B, O, C) caches and recomputed only where something changed: one observer row after an action on it, a
whole world after its clusters moved. Each tick multiplies in the occlusion (silence moves every tick),
draws one keyed uniform per pair (detection) and one per detection (the reported state), and applies Bayes'
rule. The pair arrays are cut to the widest world's live observers and clusters: padding rows only ever
contribute an exact factor 1 or term 0, and every reduction over clusters runs over the full padded width,
so a world's numbers do not depend on its neighbours. Knows nothing of nodes, rewards or policies.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.batch.state import ClusterSlab, ObserverSlab
from scythe_desktop.engine.belief import BeliefModel
from scythe_desktop.engine.observers import MAX_DETECTION, footprint
from scythe_desktop.engine.scenario import Scenario

_PAIR_SHIFT: Final = np.int64(1 << 24)  # keyed index of a pair: observer id * 2^24 + cluster id
_TINY: Final = 1e-12


class Sensing:
    """The detection caches of B worlds and the per-tick observation."""

    def __init__(self, scenario: Scenario, worlds: int, observers: int, clusters: int) -> None:
        s = scenario
        self.model = BeliefModel(s)
        self.type_radius = np.array([t.coverage_radius_km for t in s.observer_types])
        self.type_base_rate = np.array([t.sampling_rate for t in s.observer_types])
        self.type_capacity = np.array([t.capacity for t in s.observer_types])
        self.type_detection = np.array([t.detection for t in s.observer_types])
        self.vis = self.model.visibility
        self.acc = s.belief.report_accuracy
        self.acc_mid = s.belief.report_accuracy + (1.0 - s.belief.report_accuracy) / 2.0
        self.prec_scale = 1.0 / (s.belief.count_noise**2)
        self.occlusion_weight = s.belief.occlusion_weight
        self.focus_gain, self.focus_penalty = s.belief.focus_gain, s.belief.focus_penalty
        shape = (worlds, observers, clusters)
        self.reach = np.zeros(shape)  # footprint weights
        self.base_geometric = np.zeros(shape)  # reach × rate detection × focus
        self.base = np.zeros(shape)  # … / max(1, load)
        self.rate_ratio = np.ones((worlds, observers))
        self.world_dirty = np.ones(worlds, dtype=bool)  # clusters moved: every row of the world
        self.row_dirty = np.zeros((worlds, observers), dtype=bool)  # one observer changed
        self.count_dirty = np.ones(worlds, dtype=bool)  # node counts changed: loads

    # ----------------------------------------------------------------------------------------- caches

    def mark_rows(self, worlds: NDArray[np.intp], rows: NDArray[np.intp]) -> None:
        self.row_dirty[worlds, rows] = True

    def mark_worlds(self, worlds: NDArray[np.bool_] | NDArray[np.intp]) -> None:
        self.world_dirty[worlds] = True

    def _rows(
        self, c: ClusterSlab, o: ObserverSlab, bw: NDArray[np.intp], ow: NDArray[np.intp]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(reach, base_geometric) for the observer rows (bw[i], ow[i]) against every cluster row, and
        their rate ratios."""
        ox = o.xyz[bw, ow]  # (R, 3)
        cx = c.xyz[bw]  # (R, C, 3)
        cos = cx[..., 0] * ox[:, 0, None] + cx[..., 1] * ox[:, 1, None] + cx[..., 2] * ox[:, 2, None]
        reach = footprint(cos, o.radius[bw, ow][:, None])
        live = (ow < o.n[bw])[:, None] & (np.arange(c.capacity) < c.n[bw][:, None])
        reach *= live
        t = o.type[bw, ow]
        rr = o.rate[bw, ow] / self.type_base_rate[t]
        det = 1.0 - (1.0 - self.type_detection[t]) ** rr
        focus = o.focus[bw, ow][:, None]
        mult = np.where(focus < 0, 1.0, np.where(focus == c.id[bw], 1.0 + self.focus_gain, 1.0 - self.focus_penalty))
        return reach, reach * det[:, None] * mult, rr

    def _load(self, c: ClusterSlab, o: ObserverSlab, bw: NDArray[np.intp], ow: NDArray[np.intp]) -> None:
        """Load (nodes in the footprint × rate over capacity) and loaded base detection of rows."""
        weight = self.rate_ratio[bw, ow] / self.type_capacity[o.type[bw, ow]]
        load = (self.reach[bw, ow] * c.node_count[bw]).sum(axis=1) * weight * (ow < o.n[bw])
        o.load[bw, ow] = load
        self.base[bw, ow] = self.base_geometric[bw, ow] * (1.0 / np.maximum(1.0, load))[:, None]

    def refresh(self, c: ClusterSlab, o: ObserverSlab) -> None:
        """Bring the caches up to date with the actions and dynamics since the last call."""
        whole_mask = self.world_dirty | self.count_dirty
        rows = self.row_dirty & ~whole_mask[:, None]
        moved = np.flatnonzero(self.world_dirty)
        cap = o.capacity
        if moved.size:
            bw, ow = np.repeat(moved, cap), np.tile(np.arange(cap), moved.size)
            reach, base, rr = self._rows(c, o, bw, ow)
            shape = (moved.size, cap, -1)
            self.reach[moved], self.base_geometric[moved] = reach.reshape(shape), base.reshape(shape)
            self.rate_ratio[moved] = rr.reshape(moved.size, cap)
        counted = np.flatnonzero(self.count_dirty & ~self.world_dirty)
        redo = self.row_dirty[counted]
        if redo.any():  # an action on a world whose counts also changed
            bw, ow = counted[np.nonzero(redo)[0]], np.nonzero(redo)[1]
            reach, base, rr = self._rows(c, o, bw, ow)
            self.reach[bw, ow], self.base_geometric[bw, ow], self.rate_ratio[bw, ow] = reach, base, rr
        whole = np.flatnonzero(whole_mask)
        if whole.size:  # every observer's load of these worlds
            self._load(c, o, np.repeat(whole, cap), np.tile(np.arange(cap), whole.size))
        if rows.any():  # one observer changed: its own row and load only
            bw, ow = np.nonzero(rows)
            reach, base, rr = self._rows(c, o, bw, ow)
            self.reach[bw, ow], self.base_geometric[bw, ow], self.rate_ratio[bw, ow] = reach, base, rr
            self._load(c, o, bw, ow)
        self.world_dirty[:] = False
        self.row_dirty[:] = False
        self.count_dirty[:] = False

    def detection(self, c: ClusterSlab, width: tuple[int, int]) -> NDArray[np.float64]:
        """(B, O', C') detection now (before the cluster's own visibility), cut to ``width``."""
        ow, cw = width
        rocc = c.region_occlusion[:, :cw]
        w = self.occlusion_weight
        scale = (1.0 - w * rocc) - 0.5 * w * (1.0 - rocc) * c.silence[:, :cw]
        pd = self.base[:, :ow, :cw] * scale[:, None, :]
        return np.minimum(pd, MAX_DETECTION, out=pd)

    # ------------------------------------------------------------------------------------ observation

    def observe(
        self, c: ClusterSlab, o: ObserverSlab, keys: NDArray[np.uint64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Predict every belief one tick, sample every observer's outcome, apply Bayes' rule. Returns
        detections per world (B,) and the mean coverage per world (B,)."""
        self.refresh(c, o)
        model = self.model
        worlds, cap = c.id.shape
        valid = c.valid()
        bt = _predict(model.transition, c.b)
        c.var += model.count_q
        noise = kr.normal(keys[kr.Stream.COUNT_NOISE], c.id)
        ow, cw = int(o.n.max(initial=0)), int(c.n.max(initial=0))
        counts = np.zeros((worlds, 3, cap))
        miss_log = np.zeros((worlds, 3, cap))
        precision = np.zeros((worlds, cap))
        coverage = np.zeros((worlds, cap))
        if ow and cw:
            pd = self.detection(c, (ow, cw))
            state = c.state[:, :cw]
            pair = o.id[:, :ow, None] * _PAIR_SHIFT + c.id[:, None, :cw]
            seen = kr.uniform(keys[kr.Stream.SEEN], pair) < pd * self.vis[state][:, None, :]
            bi, oi, ci = np.nonzero(seen)
            u = kr.uniform(keys[kr.Stream.REPORT][bi], pair[bi, oi, ci])
            # Report the true state with probability acc, else one of the two other live states.
            reports = (state[bi, ci] + (u >= self.acc) + (u >= self.acc_mid)) % 3
            flat = (bi * 3 + reports) * cap + ci
            counts = np.bincount(flat, minlength=worlds * 3 * cap).reshape(worlds, 3, cap).astype(np.float64)
            silent = np.where(seen, 0.0, pd)
            for s in range(3):  # Σ over silent observers of log(1 − p·v_s) = log Π (1 − p·v_s)
                miss_log[:, s, :cw] = np.log(np.prod(1.0 - self.vis[s] * silent, axis=1))
            weights = self.rate_ratio[bi, oi] * self.prec_scale
            per_cluster = np.bincount(bi * cap + ci, weights=weights, minlength=worlds * cap)
            precision = np.asarray(per_cluster, dtype=np.float64).reshape(worlds, cap)
            coverage[:, :cw] = 1.0 - np.prod(1.0 - pd, axis=1)
        c.b = _update(model, bt, miss_log, counts)
        model.update_count(c.mu, c.var, precision, np.log(np.maximum(c.node_count, 1)), noise)
        total = counts.sum(axis=1)
        det = (total > 0) & valid
        c.detected = det
        agree = 0.8 * c.agreement + 0.2 * counts.max(axis=1) / np.maximum(total, 1.0)
        c.agreement = np.where(total >= 2, agree, c.agreement)
        major = counts.argmax(axis=1)
        prev = c.majority
        changed = (prev >= 0) & (major != prev)
        c.volatility = np.where(det, 0.9 * c.volatility + 0.1 * changed, c.volatility)
        c.majority = np.where(det, major, prev)
        c.confidence[det] = 1.0  # only live clusters can be seen
        c.coverage = coverage
        refresh_entropy(model, c)
        n = np.maximum(c.n, 1)
        return total.sum(axis=1).astype(np.int64), coverage.sum(axis=1) / n


def _predict(transition: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """One tick of the state Markov chain: b'[s'] = Σ_s T[s, s'] b[s], for (B, 4, C) beliefs (written
    out so every world's numbers come from the same four multiply-adds)."""
    out = transition[0][None, :, None] * b[:, 0:1, :]
    for s in range(1, transition.shape[0]):
        out += transition[s][None, :, None] * b[:, s : s + 1, :]
    return out


def _update(
    model: BeliefModel, bt: NDArray[np.float64], miss_log: NDArray[np.float64], counts: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Bayes' rule over (B, 4, C) beliefs (see :meth:`BeliefModel.update`)."""
    log_post = bt + 1e-300
    np.log(log_post, out=log_post)
    for k in range(3):
        log_post += model.log_report[:, k][None, :, None] * counts[:, k : k + 1, :]
    log_post[:, :3] += miss_log
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post, out=log_post)
    post /= post.sum(axis=1, keepdims=True)
    return post


def refresh_entropy(model: BeliefModel, c: ClusterSlab) -> None:
    """Entropy (bits) per cluster row: H(state) + w·(1 − P(gone))·H(count); 0 on padding rows."""
    b = c.b
    t = b + _TINY
    np.log2(t, out=t)
    t *= b
    h_state = -t.sum(axis=1)
    h = (1.0 - b[:, 3]) * model.count_weight
    h *= model.count_entropy(c.var)
    h += h_state
    valid = c.valid()
    c.h_state = np.where(valid, h_state, 0.0)
    c.entropy = np.where(valid, h, 0.0)


__all__ = ["Sensing", "refresh_entropy"]
