"""Observers (sensors) as one structured array, and their detection model.

Detection probability of observer ``o`` for a fully visible cluster ``c``::

    pd = footprint(d_oc / R_o) × (1 − (1 − detection_o) ** (rate_o / base_rate_o)) / max(1, load_o) × focus_oc

``footprint`` is a logistic edge at the coverage radius (≈1 inside, ≈0 well outside, smooth so that
gradients and information gain vary continuously with position); sampling ``k`` times the base rate is
``k`` independent looks; ``load_o`` is the number of nodes inside the footprint, weighted by the rate,
over the type's capacity. Focus multiplies detection of the focused cluster by ``1 + focus_gain`` and of
every other cluster by ``1 − focus_penalty``. Occlusion and the cluster's own visibility are applied by
the belief model. This module knows nothing of nodes, fields or constraints.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.geo import EARTH_RADIUS_KM
from scythe_desktop.engine.scenario import Scenario

OBSERVER_DTYPE: Final = np.dtype(
    [
        ("id", "<i8"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("coverage_radius_km", "<f8"),
        ("load", "<f8"),
        ("sampling_rate", "<f8"),
        ("focus_cluster", "<i8"),
        ("cost_per_hour", "<f8"),
        ("region", "<i4"),
        ("latency_zone", "<i4"),
        ("type", "<i4"),
    ]
)

#: Width of the footprint's logistic edge as a fraction of the coverage radius.
EDGE_WIDTH: Final = 0.15
MAX_DETECTION: Final = 0.99


def footprint(cos_angle: NDArray[np.float64], radius_km: NDArray[np.float64]) -> NDArray[np.float64]:
    """Coverage weight in [0, 1] from the dot product of unit vectors and the coverage radius."""
    d = EARTH_RADIUS_KM * np.arccos(np.minimum(np.maximum(cos_angle, -1.0), 1.0))
    z = (d - radius_km) / (EDGE_WIDTH * radius_km)
    return 1.0 / (1.0 + np.exp(np.minimum(z, 50.0)))


def rate_detection(scenario: Scenario, types: np.ndarray, rates: np.ndarray) -> NDArray[np.float64]:
    """Per-observer detection at the footprint centre before load and focus."""
    det = np.array([t.detection for t in scenario.observer_types])[types]
    base = np.array([t.sampling_rate for t in scenario.observer_types])[types]
    return 1.0 - (1.0 - det) ** (rates / base)


def cost_per_hour(scenario: Scenario, type_index: int, rate: float) -> float:
    """Spend rate of one observer: the type's cost scaled by its sampling rate over the base rate."""
    t = scenario.observer_types[type_index]
    return t.cost_per_hour * rate / t.sampling_rate


def load_factor(load: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / np.maximum(1.0, load)


def focus_multipliers(
    focus_cluster: NDArray[np.int64], cluster_ids: NDArray[np.int64], gain: float, penalty: float
) -> NDArray[np.float64]:
    """(O, C) multipliers: 1 for unfocused observers, gain/penalty for focused ones."""
    focused = focus_cluster >= 0
    mult = np.ones((focus_cluster.shape[0], cluster_ids.shape[0]))
    if focused.any():
        hit = focus_cluster[:, None] == cluster_ids[None, :]
        mult = np.where(focused[:, None], np.where(hit, 1.0 + gain, 1.0 - penalty), 1.0)
    return mult


__all__ = [
    "EDGE_WIDTH",
    "MAX_DETECTION",
    "OBSERVER_DTYPE",
    "cost_per_hour",
    "focus_multipliers",
    "footprint",
    "load_factor",
    "rate_detection",
]
