"""``greedy``: adaptive CELF — every tick, a lazy cost-benefit greedy plan over all valid actions, re-planned.

Candidates are the actions of the RL layout that the joint mask allows: deploys of every type on every valid
cell (gains vectorised by ``world.deploy_gains``), sampling increases, focus changes onto clusters inside the
observer's footprint, and relocations to the best cells for the observer's type (pre-screened by deploy gain,
then scored exactly). Each candidate's gain is the world's expected information gain (bits over the next
tick, already discounted for what existing observers see) and its cost the spend-rate increase ($/h, with a
small floor so free actions still have a finite gain/cost). The plan is CELF (:mod:`.celf`): the better of
gain/cost lazy greedy and plain lazy greedy under the remaining budget, with diminishing returns between
candidates (one action per observer; footprints that overlap discount each other). Decommissions are
proposed only for observers whose contribution has fallen below ``idle_bits``.

Known guarantee: (1 − 1/e)/2 of the best plan per tick for this surrogate, ≈99% of the MILP optimum on
static coverage (see the benchmark). Known weakness: myopic — it optimises the next tick only, so it cannot
anticipate activations, cascades or clusters going quiet, and it fills the budget whenever gains are positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.observers import footprint
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.policies.celf import celf
from scythe_desktop.engine.proposals import Proposal, make_proposal, spend_change
from scythe_desktop.engine.rl.spaces import MAX_TYPES, ActionCodec, EnvConfig, WorldView, cluster_slots

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


@dataclass
class Candidates:
    actions: list[Action]
    gains: NDArray[np.float64]
    costs: NDArray[np.float64]  # $/h increase, floored
    observer: NDArray[np.int64]  # acted-on observer id, -1 for a deploy
    xyz: NDArray[np.float64]  # (n, 3) where the footprint will be
    radius: NDArray[np.float64]  # footprint radius (km)


class PlanOracle:
    """Diminishing returns between candidate actions of one tick (see the module docstring)."""

    def __init__(self, cands: Candidates, max_deploys: int) -> None:
        self.c = cands
        self.current = cands.gains.copy()
        r = (cands.radius[:, None] + cands.radius[None, :]) / 2.0
        self.overlap = footprint(cands.xyz @ cands.xyz.T, r)
        self.deploys_left = max_deploys
        self.total = 0.0

    def marginal(self, j: int) -> float:
        if self.c.observer[j] < 0 and self.deploys_left <= 0:
            return 0.0
        return float(self.current[j])

    def add(self, j: int) -> None:
        self.total += float(self.current[j])
        self.current *= 1.0 - self.overlap[j]
        if self.c.observer[j] >= 0:
            self.current[self.c.observer == self.c.observer[j]] = 0.0
        else:
            self.deploys_left -= 1

    def value(self) -> float:
        return self.total


class GreedyPolicy(Policy):
    name: ClassVar[str] = "greedy"

    def __init__(
        self,
        config: EnvConfig | None = None,
        min_gain_bits: float = 0.01,
        idle_bits: float = 0.005,
        relocate_cells: int = 2,
        cost_floor: float = 0.05,
        focus: bool = True,
    ) -> None:
        self.config = config or EnvConfig()
        self.focus = focus  # whether focus changes are candidates
        self.min_gain_bits = min_gain_bits
        self.idle_bits = idle_bits
        self.relocate_cells = relocate_cells
        self.cost_floor = cost_floor
        self._codec: ActionCodec | None = None

    def reset(self, world: World, seed: int | None = None) -> None:
        self._codec = ActionCodec(world.scenario, self.config)

    def _candidates(self, world: World, view: WorldView) -> Candidates:
        if self._codec is None or self._codec.scenario is not world.scenario:
            self.reset(world)
        codec = self._codec
        assert codec is not None
        sc = world.scenario
        slots = cluster_slots(view, self.config.cluster_slots)
        mask = codec.mask(view, slots)
        n_cells = self.config.n_cells
        cell_xyz = unit_vectors(codec.cells[:, 0], codec.cells[:, 1])
        acts: list[Action] = []
        gains: list[float] = []
        obs_of: list[int] = []
        xyz: list[NDArray[np.float64]] = []
        radius: list[float] = []
        deploy = mask[codec.offsets["deploy"] : codec.offsets["deploy"] + MAX_TYPES * n_cells].reshape(MAX_TYPES, -1)
        type_gain = {}
        for t, kind in enumerate(sc.observer_types):
            cells = np.flatnonzero(codec.placement_ok[t])
            if cells.size == 0:
                continue
            g = np.zeros(n_cells)
            g[cells] = world.deploy_gains(codec.cells[cells, 0], codec.cells[cells, 1], kind.name)
            type_gain[t] = g
            for c in np.flatnonzero(deploy[t]):
                acts.append(Deploy(float(codec.cells[c, 0]), float(codec.cells[c, 1]), kind.name))
                gains.append(float(g[c]))
                obs_of.append(-1)
                xyz.append(cell_xyz[c])
                radius.append(kind.coverage_radius_km)
        o = view.observers
        c_xyz = unit_vectors(view.clusters["lon"], view.clusters["lat"]).reshape(-1, 3)
        for s in range(min(len(o), self.config.observer_slots)):
            oid, t = int(o["id"][s]), int(o["type"][s])
            here = unit_vectors(o["lon"][s], o["lat"][s]).reshape(3)
            rad = float(o["coverage_radius_km"][s])
            options: list[tuple[Action, NDArray[np.float64]]] = []
            if mask[codec.offsets["sampling"] + s]:
                options.append((IncreaseSampling(oid), here))
            reach = footprint(c_xyz @ here, np.full(1, rad)) > 0.5
            for cid in view.clusters["id"][reach] if self.focus else ():
                if cid != o["focus_cluster"][s]:
                    options.append((Focus(oid, int(cid)), here))
            if t in type_gain:
                rel = mask[codec.offsets["relocate"] + s * n_cells : codec.offsets["relocate"] + (s + 1) * n_cells]
                score = np.where(rel, type_gain[t], -np.inf)
                for c in np.argsort(-score)[: self.relocate_cells]:
                    if np.isfinite(score[c]):
                        options.append((Relocate(oid, float(codec.cells[c, 0]), float(codec.cells[c, 1])), cell_xyz[c]))
            for action, where in options:
                acts.append(action)
                gains.append(world.expected_information_gain(action))
                obs_of.append(oid)
                xyz.append(where)
                radius.append(rad)
        costs = np.array([max(spend_change(sc, o, a), 0.0) + self.cost_floor for a in acts])
        return Candidates(
            acts,
            np.maximum(np.array(gains, dtype=np.float64), 0.0),
            costs,
            np.array(obs_of, dtype=np.int64),
            np.array(xyz, dtype=np.float64).reshape(-1, 3),
            np.array(radius, dtype=np.float64),
        )

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        view = WorldView.of(world)
        cands = self._candidates(world, view)
        sc = world.scenario
        spare = sc.constraints.budget_per_hour - view.budget_used_per_hour
        max_deploys = sc.constraints.max_instances - len(view.observers)
        out: list[Proposal] = []
        if cands.actions:
            # The floors add up: give the plan room for `limit` free actions on top of the spare budget.
            budget = spare + limit * self.cost_floor
            picks, _ = celf(lambda: PlanOracle(cands, max_deploys), cands.costs, budget)
            oracle = PlanOracle(cands, max_deploys)
            top = max(float(cands.gains.max()), 1e-9)
            for j in picks:
                g = oracle.marginal(j)
                oracle.add(j)
                if g < self.min_gain_bits or len(out) >= limit:
                    break
                out.append(make_proposal(world, cands.actions[j], cands.gains[j], g / top, self.name, view.clusters))
        if len(out) < limit:
            out += self._idle_decommissions(world, view, limit - len(out))
        return out

    def _idle_decommissions(self, world: World, view: WorldView, limit: int) -> list[Proposal]:
        """Retire observers that no longer see anything worth their cost."""
        out: list[Proposal] = []
        for oid in view.observers["id"]:
            action = Decommission(int(oid))
            loss = -world.expected_information_gain(action)
            if loss < self.idle_bits and len(out) < limit:
                out.append(make_proposal(world, action, -loss, 1.0, self.name, view.clusters))
        return out
