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
        """Load (nodes in the footprint × rate over capacity) and loaded base detection of live rows.

        The sum over clusters runs over the world's live clusters only, in row order (a segment sum), so
        it does not depend on the padded width."""
        n = c.n[bw]
        ri, ci = np.nonzero(np.arange(c.capacity) < n[:, None])
        nodes = self.reach[bw[ri], ow[ri], ci] * c.node_count[bw[ri], ci]
        total = np.zeros(bw.size)
        some = n > 0
        if some.any():
            total[some] = np.add.reduceat(nodes, (np.cumsum(n) - n)[some])
        load = total * (self.rate_ratio[bw, ow] / self.type_capacity[o.type[bw, ow]])
        o.load[bw, ow] = load
        self.base[bw, ow] = self.base_geometric[bw, ow] * (1.0 / np.maximum(1.0, load))[:, None]

    def _recompute(self, c: ClusterSlab, o: ObserverSlab, bw: NDArray[np.intp], ow: NDArray[np.intp]) -> None:
        reach, base, rr = self._rows(c, o, bw, ow)
        self.reach[bw, ow], self.base_geometric[bw, ow], self.rate_ratio[bw, ow] = reach, base, rr

    def refresh(self, c: ClusterSlab, o: ObserverSlab) -> None:
        """Bring the caches up to date with the actions and dynamics since the last call. Only live
        observer rows are computed; a world whose rows moved starts from zeroed caches, so padding rows
        never hold stale numbers."""
        live = o.valid()
        moved = np.flatnonzero(self.world_dirty)
        if moved.size:
            for cache in (self.reach, self.base_geometric, self.base):
                cache[moved] = 0.0
            w, ow = np.nonzero(live[moved])
            self._recompute(c, o, moved[w], ow)
        counted = self.count_dirty & ~self.world_dirty
        redo = self.row_dirty & counted[:, None] & live
        if redo.any():  # an action on a world whose counts also changed
            self._recompute(c, o, *np.nonzero(redo))
        whole = self.world_dirty | self.count_dirty
        if whole.any():  # every observer's load of these worlds
            self._load(c, o, *np.nonzero(live & whole[:, None]))
        rows = self.row_dirty & ~whole[:, None] & live
        if rows.any():  # one observer changed: its own row and load only
            bw, ow = np.nonzero(rows)
            self._recompute(c, o, bw, ow)
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
        ow, cw = int(o.n.max(initial=0)), int(c.n.max(initial=0))
        # Past the widest world's rows every column is padding: the per-cluster arithmetic below reduces
        # over states or observers only, so it runs on the first cw columns.
        valid = c.valid()[:, :cw]
        bt = _predict(model.transition, c.b[:, :, :cw])
        var = c.var[:, :cw]
        var += model.count_q
        noise = kr.normal(keys[kr.Stream.COUNT_NOISE], c.id[:, :cw])
        counts = np.zeros((worlds, 3, cap))
        miss_log = np.zeros((worlds, 3, cap))
        precision = np.zeros((worlds, cap))
        coverage = np.zeros((worlds, cap))
        if ow and cw:
            # Live (observer, cluster) pairs only, ordered by (world, cluster, observer): each cluster's
            # observers are one contiguous segment, reduced in observer order (what the dense product over
            # the observer axis computes, padding factors of exactly 1 left out).
            live = (np.arange(cw) < c.n[:, None])[:, :, None] & (np.arange(ow) < o.n[:, None])[:, None, :]
            bi, ci, oi = np.nonzero(live)
            bc = bi * cap + ci
            rocc = c.region_occlusion.ravel()[bc]
            w = self.occlusion_weight
            pd = self.base.ravel()[(bi * o.capacity + oi) * cap + ci]
            pd *= (1.0 - w * rocc) - 0.5 * w * (1.0 - rocc) * c.silence.ravel()[bc]
            np.minimum(pd, MAX_DETECTION, out=pd)
            state = c.state.ravel()[bc]
            pair = o.id.ravel()[bi * o.capacity + oi] * _PAIR_SHIFT + c.id.ravel()[bc]
            seen = kr.uniform(keys[kr.Stream.SEEN][bi], pair) < pd * self.vis[state]
            hit = np.flatnonzero(seen)
            u = kr.uniform(keys[kr.Stream.REPORT][bi[hit]], pair[hit])
            # Report the true state with probability acc, else one of the two other live states.
            reports = (state[hit] + (u >= self.acc) + (u >= self.acc_mid)) % 3
            flat = (bi[hit] * 3 + reports) * cap + ci[hit]
            counts = np.bincount(flat, minlength=worlds * 3 * cap).reshape(worlds, 3, cap).astype(np.float64)
            starts = np.flatnonzero(np.r_[True, bc[1:] != bc[:-1]])
            rb, rc = bi[starts], ci[starts]
            silent = np.where(seen, 0.0, pd)
            flat_miss = miss_log.reshape(-1)  # a view: (B, 3, C) is contiguous
            for s in range(3):  # Σ over silent observers of log(1 − p·v_s) = log Π (1 − p·v_s)
                flat_miss[(rb * 3 + s) * cap + rc] = np.log(np.multiply.reduceat(1.0 - self.vis[s] * silent, starts))
            weights = self.rate_ratio.ravel()[bi[hit] * o.capacity + oi[hit]] * self.prec_scale
            per_cluster = np.bincount(bc[hit], weights=weights, minlength=worlds * cap)
            precision = np.asarray(per_cluster, dtype=np.float64).reshape(worlds, cap)
            coverage.reshape(-1)[rb * cap + rc] = 1.0 - np.multiply.reduceat(1.0 - pd, starts)
        counts, miss_log, precision = counts[:, :, :cw], miss_log[:, :, :cw], precision[:, :cw]
        c.b[:, :, :cw] = _update(model, bt, miss_log, counts)
        mu = c.mu[:, :cw]
        model.update_count(mu, var, precision, np.log(np.maximum(c.node_count[:, :cw], 1)), noise)
        total = counts.sum(axis=1)
        det = (total > 0) & valid
        c.detected[:, :cw] = det
        agreement = c.agreement[:, :cw]
        agree = 0.8 * agreement + 0.2 * counts.max(axis=1) / np.maximum(total, 1.0)
        c.agreement[:, :cw] = np.where(total >= 2, agree, agreement)
        major = counts.argmax(axis=1)
        prev = c.majority[:, :cw]
        changed = (prev >= 0) & (major != prev)
        c.volatility[:, :cw] = np.where(det, 0.9 * c.volatility[:, :cw] + 0.1 * changed, c.volatility[:, :cw])
        c.majority[:, :cw] = np.where(det, major, prev)
        c.confidence[:, :cw][det] = 1.0  # only live clusters can be seen
        c.coverage = coverage
        refresh_entropy(model, c, cw)
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


def refresh_entropy(model: BeliefModel, c: ClusterSlab, width: int | None = None) -> None:
    """Entropy (bits) per cluster row: H(state) + w·(1 − P(gone))·H(count); 0 on padding rows. Columns
    past ``width`` are padding (and already 0)."""
    cw = c.capacity if width is None else width
    b = c.b[:, :, :cw]
    t = b + _TINY
    np.log2(t, out=t)
    t *= b
    h_state = -t.sum(axis=1)
    h = (1.0 - b[:, 3]) * model.count_weight
    h *= model.count_entropy(c.var[:, :cw])
    h += h_state
    valid = c.valid()[:, :cw]
    c.h_state[:, :cw] = np.where(valid, h_state, 0.0)
    c.entropy[:, :cw] = np.where(valid, h, 0.0)


__all__ = ["Sensing", "refresh_entropy"]
