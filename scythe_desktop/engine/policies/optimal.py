"""Exact budgeted weighted max coverage as a MILP (scipy.optimize.milp / HiGHS), for small static instances.

Binary x_j per candidate site, continuous y_i ∈ [0, 1] per cluster; maximise Σ w_i y_i subject to
y_i ≤ Σ_{j covers i} x_j and Σ cost_j x_j ≤ B. The y_i are integral at an optimum (each is pushed to
min(1, Σ x_j)), so the LP relaxation only needs integrality on x. Its optimum is an upper bound on every other
policy on the same instance — that is its whole job; it is far too slow for the live world. The
``optimal`` policy applies it to the world frozen at reset (:func:`world_instance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.geo import great_circle_km, unit_vectors
from scythe_desktop.engine.observers import footprint
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.policies.coverage import CoverageInstance
from scythe_desktop.engine.proposals import Proposal, make_proposal
from scythe_desktop.engine.rl.spaces import ActionCodec, EnvConfig

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


class MilpError(RuntimeError):
    """HiGHS did not prove optimality (time limit, numerical trouble)."""


@dataclass(frozen=True)
class MilpSolution:
    sites: list[int]
    value: float  # covered weight of ``sites``, recomputed from the instance, not the solver's objective
    bound: float  # the solver's proven upper bound (dual bound)


def solve_max_coverage(instance: CoverageInstance, time_limit_s: float = 60.0) -> MilpSolution:
    """The optimal site set of ``instance`` (raises :class:`MilpError` if optimality is not proven)."""
    n_sites, n_clusters = instance.n_sites, instance.n_clusters
    # Variables: [x_0 .. x_{S-1}, y_0 .. y_{C-1}]; milp minimises, so negate the weights.
    c = np.concatenate([np.zeros(n_sites), -instance.weights])
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_clusters)])
    bounds = Bounds(np.zeros(n_sites + n_clusters), np.ones(n_sites + n_clusters))
    # y_i - Σ_j covers[j, i] x_j <= 0
    link = sparse.hstack([-sparse.csr_matrix(instance.covers.T.astype(np.float64)), sparse.identity(n_clusters)])
    budget_row = sparse.hstack([sparse.csr_matrix(instance.costs[None, :]), sparse.csr_matrix((1, n_clusters))])
    constraints = [
        LinearConstraint(link.tocsr(), -np.inf, 0.0),
        LinearConstraint(budget_row.tocsr(), -np.inf, instance.budget),
    ]
    if instance.max_sites is not None:
        count_row = np.concatenate([np.ones(n_sites), np.zeros(n_clusters)])[None, :]
        constraints.append(LinearConstraint(count_row, -np.inf, instance.max_sites))
    res = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=constraints,
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9},
    )
    if res.status != 0 or res.x is None:
        raise MilpError(f"max-coverage MILP not solved to optimality: status {res.status} ({res.message})")
    sites = [int(j) for j in np.flatnonzero(res.x[:n_sites] > 0.5)]
    bound = -float(getattr(res, "mip_dual_bound", res.fun))
    return MilpSolution(sites, instance.value(sites), max(bound, instance.value(sites)))


# ------------------------------------------------------------------------------ the world as an instance


def world_instance(world: World, config: EnvConfig | None = None) -> tuple[CoverageInstance, list[Deploy]]:
    """Freeze ``world`` into a coverage instance: clusters weighted by belief entropy (bits), sites = every
    valid (observer type, cell) of the RL layout, costs = spend rates, budget = spare budget per hour less
    the smallest set-up fee (the budget guard counts each deploy's fee on top of the running rate, so no
    sequence of valid deploys spends more: the optimum stays an upper bound), ``max_sites`` = free
    instance slots. Returns the instance and the deploy action of each site."""
    codec = ActionCodec(world.scenario, config or EnvConfig())
    sc = world.scenario
    clusters = world.clusters
    c_xyz = unit_vectors(clusters["lon"], clusters["lat"]).reshape(-1, 3)
    rows, actions, costs = [], [], []
    for t, kind in enumerate(sc.observer_types):
        for c in np.flatnonzero(codec.placement_ok[t]):
            lon, lat = codec.cells[c]
            here = unit_vectors(lon, lat).reshape(3)
            rows.append(footprint(c_xyz @ here, np.full(1, kind.coverage_radius_km)) > 0.5)
            actions.append(Deploy(float(lon), float(lat), kind.name))
            costs.append(kind.cost_per_hour)
    covers = np.array(rows, dtype=bool).reshape(len(rows), len(clusters))
    min_fee = min((t.setup_fee for t in sc.observer_types), default=0.0)
    site_lonlat = np.array([[a.lon, a.lat] for a in actions]).reshape(-1, 2)
    instance = CoverageInstance(
        weights=np.maximum(clusters["entropy"].astype(np.float64), 0.0),
        costs=np.array(costs, dtype=np.float64),
        covers=covers,
        budget=max(sc.constraints.budget_per_hour - world.budget_used_per_hour - min_fee, 0.0),
        site_lonlat=site_lonlat,
        cluster_lonlat=np.stack([clusters["lon"], clusters["lat"]], axis=1),
        max_sites=max(sc.constraints.max_instances - len(world.observers), 0),
    )
    return instance, actions


def placement_value(instance: CoverageInstance, observers: np.ndarray) -> float:
    """Covered weight of ``instance``'s clusters by real observers (positions and radii from the table)."""
    if len(observers) == 0:
        return 0.0
    c_xyz = unit_vectors(instance.cluster_lonlat[:, 0], instance.cluster_lonlat[:, 1]).reshape(-1, 3)
    o_xyz = unit_vectors(observers["lon"], observers["lat"]).reshape(-1, 3)
    covered = (footprint(c_xyz @ o_xyz.T, observers["coverage_radius_km"][None, :]) > 0.5).any(axis=1)
    return float(instance.weights[covered].sum())


class OptimalPolicy(Policy):
    """``optimal``: deploy the MILP-optimal static placement for the world as it is at reset, then wait.

    Exact for the frozen instance (an upper bound on any placement's covered weight), blind to dynamics, and
    only practical on small instances (a few hundred sites and clusters)."""

    name: ClassVar[str] = "optimal"

    def __init__(self, config: EnvConfig | None = None, time_limit_s: float = 30.0) -> None:
        self.config = config or EnvConfig()
        self.time_limit_s = time_limit_s
        self._plan: list[Deploy] = []
        self._scenario: object = None

    def reset(self, world: World, seed: int | None = None) -> None:
        instance, actions = world_instance(world, self.config)
        plan = [actions[j] for j in solve_max_coverage(instance, self.time_limit_s).sites]
        # Largest set-up fees first, while the running rate is lowest, so the guard accepts every deploy.
        fee = {t.name: t.setup_fee for t in world.scenario.observer_types}
        self._plan = sorted(plan, key=lambda a: -fee[a.observer_type or ""])
        self._scenario = world.scenario

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        if self._scenario is not world.scenario:
            self.reset(world)
        out = []
        observers = world.observers
        for action in self._plan:
            if (
                len(observers)
                and great_circle_km(action.lon, action.lat, observers["lon"], observers["lat"]).min() < 1.0
            ):
                continue
            if world.validate(action) is None:
                gain = world.expected_information_gain(action)
                out.append(make_proposal(world, action, gain, 1.0, self.name))
            if len(out) >= limit:
                break
        return out
