"""Expected information gain of candidate actions on one world, over the next tick.

:class:`Prior` is the next tick's predicted belief and the existing observers' chance of missing each
cluster; gains of a deploy at K sites, or of relocating, re-tuning, re-focusing or retiring one observer,
follow from :meth:`BeliefModel.information_gain` with the candidate's gain discounted by the probability
that every other observer misses (the redundancy approximation of :mod:`scythe_desktop.engine.belief`).
Constraints are not checked here. Knows nothing of nodes, rewards or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.belief import BeliefModel
from scythe_desktop.engine.observers import MAX_DETECTION, footprint, load_factor
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world_rows import ClusterRows


@dataclass(frozen=True)
class Prior:
    """Next tick's prior over n clusters and the O existing observers' detection."""

    b: NDArray[np.float64]  # (n, 4)
    var: NDArray[np.float64]  # (n,)
    pd: NDArray[np.float64]  # (O, n) detection now
    miss_each: NDArray[np.float64]  # (O, n) log P(observer o misses)
    miss_all: NDArray[np.float64]  # (n,)
    occl: NDArray[np.float64]  # (n,) candidates' occlusion factor

    @classmethod
    def of(cls, model: BeliefModel, scenario: Scenario, cl: ClusterRows, pd: NDArray[np.float64]) -> Prior:
        b = (model.transition_t @ cl.b).T
        vbar = b @ model.visibility
        miss_each = np.log1p(-pd * vbar)
        occlusion = 1.0 - (1.0 - cl.region_occlusion) * (1.0 - 0.5 * cl.silence)
        return cls(
            b=b,
            var=cl.var + model.count_q,
            pd=pd,
            miss_each=miss_each,
            miss_all=miss_each.sum(axis=0),
            occl=1.0 - scenario.belief.occlusion_weight * occlusion,
        )


class GainModel:
    """The scenario's constants for gains of candidate actions."""

    def __init__(self, scenario: Scenario, model: BeliefModel) -> None:
        self.scenario = scenario
        self.model = model
        types = scenario.observer_types
        self.type_radius = np.array([t.coverage_radius_km for t in types])
        self.type_base_rate = np.array([t.sampling_rate for t in types])
        self.type_capacity = np.array([t.capacity for t in types])
        self.type_detection = np.array([t.detection for t in types])

    def gain(self, p: Prior, pd: NDArray[np.float64], rate_ratio: NDArray[np.float64] | float, others: Any) -> Any:
        """Σ over clusters of the discounted information gain of detection rows ``pd`` (…, n)."""
        ig = self.model.information_gain(p.b, p.var, pd, rate_ratio)
        return (ig * np.exp(others)).sum(axis=-1)

    def candidate_pd(
        self, p: Prior, cl: ClusterRows, xyz: NDArray[np.float64], t: int, rate: float
    ) -> tuple[NDArray[np.float64], float]:
        """Detection (K, n) of an observer of type ``t`` at rate ``rate`` placed at each of K points."""
        reach = footprint(xyz @ cl.xyz.T, self.type_radius[t])
        rr = rate / self.type_base_rate[t]
        load = (reach @ cl.node_count) * rr / self.type_capacity[t]
        det = 1.0 - (1.0 - self.type_detection[t]) ** rr
        pd = reach * (det * load_factor(load))[:, None] * p.occl
        return np.minimum(pd, MAX_DETECTION), rr


__all__ = ["GainModel", "Prior"]
