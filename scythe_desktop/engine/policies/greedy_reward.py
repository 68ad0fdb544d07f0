"""``greedy-reward``: cost-benefit greedy on the marginal *seed reward* of each action, not on bits alone.

``greedy`` maximises information and fills the budget whenever a gain is positive; its seed reward is
negative because redundant coverage and spend cost more than the bits bring. This baseline scores every
candidate of ``greedy`` (deploys on every valid cell, sampling, focus, relocations, decommissions) by what it
adds to the seed reward (default :class:`~scythe_desktop.engine.rl.reward.RewardWeights`) over an
amortisation horizon of ``horizon`` ticks, so that one-off charges are weighed against what the observer
will bring while it runs:

* information: ``w_entropy`` × the next tick's expected gain, summed over the horizon with saturation — each
  tick removes the share ``ρ = gain / E`` of the entropy ``E`` inside the footprint, so the total is
  ``gain · (1 − (1 − ρ)^H) / ρ`` (never more than ``E``);
* detection: ``w_detection`` × the expected number of clusters never detected in this episode that the
  observer detects within the horizon, ``Σ 1 − (1 − p_detect)^H`` (deploys and relocations);
* redundancy: ``w_redundancy`` × H × the clusters it would cover (footprint > 0.5) that another observer
  already covers;
* cost: ``w_compute_cost`` × (H ticks of its running cost + its set-up fee) + ``w_deployment_cost`` × the
  spend-rate increase — a decommission earns the running cost it saves and the redundancy it removes, and
  loses the information.

Focus changes are left out by default (``focus=True`` puts them back): their information is transient and
the model overrates it — on validation seeds 500..503 (200 ticks) the mean seed reward was 332 without them
and 322 with them, and they were two thirds of all moves.

Selection is the greedy for "submodular benefit minus modular cost" (the distorted-greedy setting of Harshaw
et al., 2019) under the spare budget and instance limit: benefits of picked actions discount overlapping
candidates (as in ``greedy``), costs do not, and picking stops at the first action whose marginal net value is
not positive. It runs twice, ranking by net value and by net value per unit of penalty (cost-benefit),
and keeps the plan with the larger total (the CELF pairing).

Guarantee: none beyond the surrogate (for ``f − c`` with ``f`` monotone submodular, only the *distorted*
greedy of Harshaw et al. has one, ``(1 − 1/e)·f(OPT) − c(OPT)``; this is the plain form). Weaknesses,
measured: on validation seeds 500..509 of ``regional`` (200 ticks) it scores 262 against static-grid's 364 —
its one-number-per-move model spends too much (deploys that the saturation model overvalues, decommissions
and redeploys), the saturation model ignores entropy regrowth, latency and agreement are left out, and like
``greedy`` it cannot anticipate activations. ``rollout`` measures what this model only estimates, and on the
same seeds turns its candidates into 436.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Decommission, Deploy, Relocate
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.observers import footprint
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.policies.greedy import Candidates, GreedyPolicy
from scythe_desktop.engine.proposals import Proposal, make_proposal, spend_change
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.spaces import EnvConfig, WorldView

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


@dataclass
class Scored:
    """Candidates with their benefit and penalty over the horizon, in seed-reward units."""

    cands: Candidates
    benefit: NDArray[np.float64]  # information + detection (>= 0; discounted by overlap as the plan grows)
    cost: NDArray[np.float64]  # running cost over the horizon, set-up fee, deployment cost (>= 0)
    rate: NDArray[np.float64]  # spend-rate increase ($/h, may be negative)
    covers: NDArray[np.bool_]  # (n, C) clusters inside the footprint the candidate will have (> 0.5)
    own: NDArray[np.bool_]  # (n, C) clusters the acted-on observer covers now (nothing for a deploy)
    covered: NDArray[np.int64]  # (C,) observers covering each cluster now
    redundancy_weight: float  # w_redundancy × horizon: the penalty of one redundantly covered cluster

    def redundancy(self, covered: NDArray[np.int64]) -> NDArray[np.float64]:
        """Penalty of the redundant coverage each candidate would add, given coverage counts ``covered``."""
        others = covered[None, :] - self.own
        return self.redundancy_weight * (self.covers & (others >= 1)).sum(axis=1)


class GreedyRewardPolicy(Policy):
    """See the module docstring."""

    name: ClassVar[str] = "greedy-reward"

    def __init__(
        self,
        config: EnvConfig | None = None,
        horizon: int = 60,
        weights: RewardWeights | None = None,
        focus: bool = False,
    ) -> None:
        if horizon < 1:
            raise ValueError(f"greedy-reward horizon must be >= 1, got {horizon}")
        self.horizon = horizon
        self.w = weights or RewardWeights()
        self._candidates = GreedyPolicy(config, min_gain_bits=0.0, focus=focus)
        self._seen = np.zeros(0, dtype=bool)  # cluster ids detected so far in this episode
        self._settled: dict[int, int] = {}  # observer id -> tick before which it is not moved or retired
        self._state: dict[int, tuple[float, float, float]] = {}  # observer id -> (lon, lat, rate) last seen

    def reset(self, world: World, seed: int | None = None) -> None:
        self._candidates.reset(world, seed)
        self._seen = np.zeros(0, dtype=bool)
        self._settled = {}
        self._state = {}

    def _dwell_ticks(self, world: World, observer_type: int) -> int:
        """An observer is left where it is for its minimum billing period after it was placed or re-tuned:
        moving or retiring it sooner pays for time it does not use (and is how a surrogate flaps)."""
        t = world.scenario.observer_types[observer_type]
        return max(int(np.ceil(t.min_billing_hours / world.scenario.tick_hours)), 1)

    def _unsettled(self, world: World, observer_id: int) -> bool:
        return world.tick < self._settled.get(observer_id, -1)

    def _note_changes(self, world: World, observers: NDArray[np.void]) -> None:
        """An observer seen for the first time, moved or re-tuned since the last look starts its dwell now.
        Read from the world, not from :meth:`decide`: in the console an operator applies the proposals."""
        for row in observers:
            oid, state = int(row["id"]), (float(row["lon"]), float(row["lat"]), float(row["sampling_rate"]))
            if self._state.get(oid) != state:
                self._state[oid] = state
                self._settled[oid] = world.tick + self._dwell_ticks(world, int(row["type"])) - 1

    def _remember(self, clusters: NDArray[np.void]) -> NDArray[np.bool_]:
        """Update and return (per row of ``clusters``) whether each cluster was ever detected this episode."""
        ids = clusters["id"].astype(np.int64)
        need = int(ids.max()) + 1 if ids.size else 0
        if need > self._seen.size:
            self._seen = np.concatenate([self._seen, np.zeros(need - self._seen.size, dtype=bool)])
        self._seen[ids[clusters["detected"]]] = True
        return self._seen[ids]

    def score(self, world: World, view: WorldView) -> Scored:
        """Every candidate's benefit, penalty and spend-rate change over the horizon."""
        self._note_changes(world, view.observers)
        cands = self._candidates._candidates(world, view)
        sc, w, h = world.scenario, self.w, float(self.horizon)
        c = view.clusters
        seen = self._remember(c)
        n = len(cands.actions)
        gain = cands.gains
        if n == 0 or len(c) == 0:
            zeros = np.zeros(n)
            none = np.zeros((n, len(c)), dtype=bool)
            return Scored(cands, zeros, zeros.copy(), zeros.copy(), none, none, np.zeros(len(c), np.int64), 0.0)
        c_xyz = unit_vectors(c["lon"], c["lat"]).reshape(-1, 3)
        reach = footprint(cands.xyz @ c_xyz.T, cands.radius[:, None])  # (n, C)
        # Information with saturation: each tick removes the share rho of the reducible entropy in reach.
        reducible = np.maximum(c["entropy"] - entropy_floor(world), 0.0)
        reachable = np.maximum(reach @ reducible, 1e-9)
        rho = np.clip(gain / reachable, 1e-9, 1.0)
        bits = gain * (1.0 - (1.0 - rho) ** h) / rho
        # Existing coverage, for redundancy; a relocated or retired observer's own footprint is removed.
        o = view.observers
        o_xyz = unit_vectors(o["lon"], o["lat"]).reshape(-1, 3)
        own = footprint(c_xyz @ o_xyz.T, o["coverage_radius_km"][None, :]) > 0.5  # (C, O)
        covered = own.sum(axis=1)
        rate = np.array([spend_change(sc, o, a) for a in cands.actions])
        fee = np.zeros(n)
        detect = np.zeros(n)
        own_now = np.zeros((n, len(c)), dtype=bool)
        prior, rows, gains_model = world._prior(), world._clusters(), world._gains
        visible = prior.b @ gains_model.model.visibility
        for j, action in enumerate(cands.actions):
            if not isinstance(action, Deploy | Relocate):
                continue
            if isinstance(action, Deploy):
                t = sc.observer_type_index(action.observer_type or sc.constraints.default_observer_type)
            else:
                slot = int(np.flatnonzero(o["id"] == action.observer_id)[0])
                t = int(o["type"][slot])
                own_now[j] = own[:, slot]
            fee[j] = sc.observer_types[t].setup_fee
            pd, _ = gains_model.candidate_pd(prior, rows, cands.xyz[j : j + 1], t, float(gains_model.type_base_rate[t]))
            p_tick = np.clip(pd[0] * visible, 0.0, 1.0)
            detect[j] = float(((1.0 - (1.0 - p_tick) ** h) * ~seen).sum())
        # Sampling and focus keep the footprint where it is: they add no coverage of their own.
        moves = np.array([isinstance(a, Deploy | Relocate) for a in cands.actions])
        benefit = w.entropy * bits + w.detection * detect
        for j, action in enumerate(cands.actions):
            if isinstance(action, Relocate) and self._unsettled(world, action.observer_id):
                benefit[j] = 0.0
        cost = w.compute_cost * (np.maximum(rate, 0.0) * sc.tick_hours * h + fee) + w.deployment_cost * np.maximum(
            rate, 0.0
        )
        return Scored(
            cands,
            benefit,
            cost,
            rate,
            (reach > 0.5) & moves[:, None],
            own_now,
            covered.astype(np.int64),
            w.redundancy * h,
        )

    def _decommissions(self, world: World, view: WorldView) -> list[tuple[float, Decommission]]:
        """Observers whose retirement raises the seed reward over the horizon: (net value, action). The
        information given up is valued as a deploy's is (saturating, above the entropy floor), so a retired
        observer is not redeployed by the next plan."""
        sc, w, h = world.scenario, self.w, float(self.horizon)
        o, c = view.observers, view.clusters
        if len(o) == 0 or len(c) == 0:
            return []
        seen = self._remember(c)
        c_xyz = unit_vectors(c["lon"], c["lat"]).reshape(-1, 3)
        o_xyz = unit_vectors(o["lon"], o["lat"]).reshape(-1, 3)
        reach = footprint(c_xyz @ o_xyz.T, o["coverage_radius_km"][None, :])  # (C, O)
        own = reach > 0.5
        covered = own.sum(axis=1)
        reducible = np.maximum(c["entropy"] - entropy_floor(world), 0.0)
        out = []
        for s, oid in enumerate(o["id"]):
            if self._unsettled(world, int(oid)):
                continue
            action = Decommission(int(oid))
            loss = max(-world.expected_information_gain(action), 0.0)
            pool = max(float(reach[:, s] @ reducible), 1e-9)
            rho = min(max(loss / pool, 1e-9), 1.0)
            lost = w.entropy * loss * (1.0 - (1.0 - rho) ** h) / rho
            lost += w.detection * float((own[:, s] & ~seen & (covered == 1)).sum())
            saved = w.compute_cost * float(o["cost_per_hour"][s]) * sc.tick_hours * h
            less_redundant = w.redundancy * h * float((own[:, s] & (covered >= 2)).sum())
            net = saved + less_redundant - lost
            if net > 0.0:
                out.append((net, action))
        return out

    def plan(self, world: World, view: WorldView, limit: int) -> tuple[Scored, list[tuple[int, float]]]:
        """The scored candidates, and the indices picked with their marginal net value, in order."""
        s = self.score(world, view)
        sc = world.scenario
        spare = sc.constraints.budget_per_hour - view.budget_used_per_hour
        deploys = sc.constraints.max_instances - len(view.observers)
        best: list[tuple[int, float]] = []
        for per_dollar in (False, True):
            picked = _greedy(s, spare, deploys, limit, per_dollar)
            if sum(v for _, v in picked) > sum(v for _, v in best):
                best = picked
        return s, best

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        view = WorldView.of(world)
        s, picks = self.plan(world, view, limit)
        scored: list[tuple[float, Proposal]] = []
        for j, net in picks:
            action = s.cands.actions[j]
            confidence = net / max(s.benefit[j], 1e-9)
            scored.append((net, make_proposal(world, action, s.cands.gains[j], confidence, self.name, view.clusters)))
        for net, action in self._decommissions(world, view):
            gain = world.expected_information_gain(action)
            scored.append((net, make_proposal(world, action, gain, min(net / 10.0, 1.0), self.name, view.clusters)))
        scored.sort(key=lambda item: -item[0])
        return [p for _, p in scored[:limit]]


def entropy_floor(world: World) -> NDArray[np.float64]:
    """Per cluster, the entropy it keeps even when watched every tick: its most likely state predicted one
    tick ahead, and the count at the steady-state variance of a Kalman filter fed one measurement a tick.
    Over an episode the seed reward's entropy term telescopes over an episode, so only entropy above this floor is ever
    worth paying for."""
    model = world._gains.model
    rows = world._clusters()
    onehot = np.eye(4)[np.argmax(rows.b, axis=0)].T  # (4, n)
    var = model.count_var_meas
    for _ in range(64):  # converges in a handful of iterations; 64 is far past it
        prior = var + model.count_q
        var = prior * model.count_var_meas / (prior + model.count_var_meas)
    floor: NDArray[np.float64] = model.entropy(
        model.transition_t @ onehot, np.full(onehot.shape[1], var + model.count_q)
    )
    return floor


def _greedy(s: Scored, spare: float, deploys: int, limit: int, per_dollar: bool) -> list[tuple[int, float]]:
    """Pick while the best marginal net value is positive, within the spare budget and the deploy limit."""
    benefit = s.benefit.copy()
    covered = s.covered.copy()
    c = s.cands
    r = (c.radius[:, None] + c.radius[None, :]) / 2.0
    overlap = footprint(c.xyz @ c.xyz.T, r)
    alive = np.ones(len(c.actions), dtype=bool)
    picked: list[tuple[int, float]] = []
    while len(picked) < limit:
        ok = alive & (s.rate <= spare + 1e-9) & ((c.observer >= 0) | (deploys > 0))
        penalty = s.cost + s.redundancy(covered)
        net = np.where(ok, benefit - penalty, -np.inf)
        if not np.isfinite(net).any() or net.max() <= 0.0:
            break
        key = net / np.maximum(penalty, 1e-9) if per_dollar else net
        key = np.where(net > 0.0, key, -np.inf)
        j = int(np.argmax(key))
        picked.append((j, float(net[j])))
        spare -= max(float(s.rate[j]), 0.0)
        benefit *= 1.0 - overlap[j]
        covered += s.covers[j].astype(np.int64) - s.own[j]
        alive[j] = False
        if c.observer[j] >= 0:
            alive[c.observer == c.observer[j]] = False  # one action per observer and tick
        else:
            deploys -= 1
    return picked


__all__ = ["GreedyRewardPolicy"]
