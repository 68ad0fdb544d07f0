"""Static budgeted weighted max-coverage instances on the sphere, and the value of a chosen site set.

A :class:`CoverageInstance` is the frozen, one-shot version of the observer-placement problem: clusters with
weights (how much uncertainty covering them removes), candidate observer sites with a cost each, a coverage
radius, and a budget. It is what the exact MILP (:mod:`.optimal`) and the lazy greedy (:mod:`.celf`) are
compared on, so it knows nothing of the live world, time or gymnasium.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import lonlat_to_unit

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class CoverageInstance:
    """Clusters i with ``weights[i]``, sites j with ``costs[j]``; ``covers[j, i]`` if site j sees i."""

    weights: NDArray[np.float64]  # (n_clusters,) >= 0
    costs: NDArray[np.float64]  # (n_sites,) > 0
    covers: NDArray[np.bool_]  # (n_sites, n_clusters)
    budget: float
    site_lonlat: NDArray[np.float64]  # (n_sites, 2) degrees, for display and the world bridge
    cluster_lonlat: NDArray[np.float64]  # (n_clusters, 2)
    max_sites: int | None = None  # cardinality cap (free observer slots); None: only the budget limits

    def __post_init__(self) -> None:
        n_sites, n_clusters = self.covers.shape
        if self.weights.shape != (n_clusters,):
            raise ValueError(f"weights must have shape ({n_clusters},), got {self.weights.shape}")
        if self.costs.shape != (n_sites,):
            raise ValueError(f"costs must have shape ({n_sites},), got {self.costs.shape}")
        if np.any(self.weights < 0):
            raise ValueError("weights must be >= 0")
        if np.any(self.costs <= 0):
            raise ValueError("costs must be > 0")
        if not np.isfinite(self.budget) or self.budget < 0:
            raise ValueError(f"budget must be a finite number >= 0, got {self.budget}")
        if self.max_sites is not None and self.max_sites < 0:
            raise ValueError(f"max_sites must be >= 0 or None, got {self.max_sites}")

    @property
    def n_sites(self) -> int:
        return int(self.covers.shape[0])

    @property
    def n_clusters(self) -> int:
        return int(self.covers.shape[1])

    def value(self, sites: list[int] | NDArray[np.intp]) -> float:
        """Total weight of the clusters covered by at least one of ``sites``."""
        idx = np.asarray(sites, dtype=np.intp)
        if idx.size == 0:
            return 0.0
        covered = self.covers[idx].any(axis=0)
        return float(self.weights[covered].sum())

    def cost(self, sites: list[int] | NDArray[np.intp]) -> float:
        idx = np.asarray(sites, dtype=np.intp)
        return float(self.costs[idx].sum()) if idx.size else 0.0

    def feasible(self, sites: list[int] | NDArray[np.intp]) -> bool:
        idx = np.asarray(sites, dtype=np.intp)
        unique = np.unique(idx).size == idx.size
        within_cap = self.max_sites is None or idx.size <= self.max_sites
        return unique and within_cap and self.cost(idx) <= self.budget + 1e-9


def great_circle_km(a_lonlat: NDArray[np.float64], b_lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pairwise great-circle distances (len(a), len(b)) in km between lon/lat rows in degrees."""
    ua = lonlat_to_unit(a_lonlat[:, 0], a_lonlat[:, 1])
    ub = lonlat_to_unit(b_lonlat[:, 0], b_lonlat[:, 1])
    return EARTH_RADIUS_KM * np.arccos(np.clip(ua @ ub.T, -1.0, 1.0))


def _clustered_points(rng: np.random.Generator, n: int, hotspots: NDArray[np.float64], spread_deg: float):
    """``n`` lon/lat points scattered (Gaussian, ``spread_deg``) around randomly chosen hotspots."""
    centre = hotspots[rng.integers(0, len(hotspots), n)]
    lon = (centre[:, 0] + rng.normal(0.0, spread_deg, n) + 180.0) % 360.0 - 180.0
    lat = np.clip(centre[:, 1] + rng.normal(0.0, spread_deg, n), -85.0, 85.0)
    return np.stack([lon, lat], axis=1)


def random_instance(
    seed: int,
    n_clusters: int = 300,
    n_sites: int = 120,
    radius_km: float = 1500.0,
    budget: float = 12.0,
    n_hotspots: int = 8,
    unit_costs: bool = False,
) -> CoverageInstance:
    """A seeded random clustered-sphere instance (the shape used in the field notes).

    Clusters gather around ``n_hotspots`` centres; half the candidate sites sit near hotspots and half are
    uniform on the sphere. Weights are log-normal (a few clusters matter much more than most). Costs are
    uniform in [0.5, 2.0] per hour unless ``unit_costs`` (then every site costs 1).
    """
    if n_clusters < 1 or n_sites < 1:
        raise ValueError(f"need at least one cluster and one site, got {n_clusters} and {n_sites}")
    rng = np.random.default_rng(seed)
    hotspots = np.stack(
        [rng.uniform(-180, 180, n_hotspots), np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, n_hotspots)))], 1
    )
    clusters = _clustered_points(rng, n_clusters, hotspots, spread_deg=12.0)
    n_near = n_sites // 2
    near = _clustered_points(rng, n_near, hotspots, spread_deg=18.0)
    far = np.stack(
        [
            rng.uniform(-180, 180, n_sites - n_near),
            np.degrees(np.arcsin(rng.uniform(-1, 1, n_sites - n_near))),
        ],
        1,
    )
    sites = np.concatenate([near, far])
    weights = rng.lognormal(0.0, 0.75, n_clusters)
    costs = np.ones(n_sites) if unit_costs else rng.uniform(0.5, 2.0, n_sites)
    covers = great_circle_km(sites, clusters) <= radius_km
    return CoverageInstance(weights, costs, covers, float(budget), sites, clusters)
