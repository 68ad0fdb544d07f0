"""Exact budgeted weighted max coverage as a MILP (scipy.optimize.milp / HiGHS), for small static instances.

Binary x_j per candidate site, continuous y_i ∈ [0, 1] per cluster; maximise Σ w_i y_i subject to
y_i ≤ Σ_{j covers i} x_j and Σ cost_j x_j ≤ B. The y_i are integral at an optimum (each is pushed to
min(1, Σ x_j)), so the LP relaxation only needs integrality on x. Its optimum is an upper bound on every other
policy on the same instance — that is its whole job; it is far too slow for the live world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scythe_desktop.engine.policies.coverage import CoverageInstance


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
    link = sparse.hstack(
        [-sparse.csr_matrix(instance.covers.T.astype(np.float64)), sparse.identity(n_clusters)]
    )
    budget_row = sparse.hstack(
        [sparse.csr_matrix(instance.costs[None, :]), sparse.csr_matrix((1, n_clusters))]
    )
    constraints = [
        LinearConstraint(link.tocsr(), -np.inf, 0.0),
        LinearConstraint(budget_row.tocsr(), -np.inf, instance.budget),
    ]
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
