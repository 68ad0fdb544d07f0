"""Candidate sites of the graph layout: where the graph policy may deploy or relocate an observer.

A world's sites are, in this order (the graph observation's site rows):

* **centroid sites**: the centroids of the first :data:`MAX_CENTROID_SITES` shown clusters (by belief
  entropy, as the cluster rows), recomputed every step — an observer is most useful on top of a cluster;
* **icosphere sites**: static per scenario, the vertices of an icosphere (an icosahedron subdivided ``L``
  times, vertex spacing ≈ 7,000 km / 2^L) where at least one observer type may be placed, for the finest
  ``L`` ≤ :data:`MAX_ICO_LEVEL` that yields at most :data:`MAX_ICO_SITES` of them (a fine mesh over a small
  region, a coarse one over the whole globe; vertices in sorted (lat, lon) order).

:class:`Placement` is :func:`~scythe_desktop.engine.constraints.check_placement` vectorised over
points and types (through :func:`~scythe_desktop.engine.placement.allowed_sites`; the tests compare it with
the scalar rule); the per-type validity of every site comes from it, so the deploy and relocate mask is
exact. Numpy only; reads scenarios, never worlds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.constraints import zone_limits
from scythe_desktop.engine.placement import allowed_sites
from scythe_desktop.engine.scenario import Scenario

MAX_ICO_SITES: Final = 128
MAX_CENTROID_SITES: Final = 128
MAX_ICO_LEVEL: Final = 7  # 163,842 vertices, ≈ 55 km apart


def icosphere(level: int) -> NDArray[np.float64]:
    """Unit vectors of the vertices of an icosahedron subdivided ``level`` times (10·4^level + 2 of them)."""
    t = (1.0 + 5.0**0.5) / 2.0
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = np.array([(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
                      (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
                      (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)])
    v = np.array(verts, dtype=np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for _ in range(level):
        edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        mid = v[unique[:, 0]] + v[unique[:, 1]]
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        m = inverse.reshape(3, -1) + len(v)  # midpoints of edges (0,1), (1,2), (2,0) of every face
        a, b, c = faces.T
        faces = np.concatenate([np.stack(f, axis=1) for f in ((a, m[0], m[2]), (b, m[1], m[0]),
                                                               (c, m[2], m[1]), (m[0], m[1], m[2]))])
        v = np.concatenate([v, mid])
    return v


def lon_lat(xyz: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon = np.degrees(np.arctan2(xyz[..., 1], xyz[..., 0]))
    lat = np.degrees(np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0)))
    return lon, lat


class Placement:
    """The placement rule of one scenario, vectorised: (types, points) -> allowed."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.type_latency = np.array([t.latency_ms for t in scenario.observer_types], dtype=np.float64)

    def table(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
        """(n_types, *lon.shape): whether an observer of each type may be placed at each point."""
        sc = self.scenario
        finite = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)
        rule = allowed_sites(sc.regions, lon, lat, self.type_latency, allowed=sc.constraints.allowed_regions,
                             forbidden=sc.constraints.forbidden_regions, zone_limits=zone_limits(sc))
        return finite[None] & rule


@lru_cache(maxsize=32)
def ico_sites(scenario: Scenario) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The scenario's icosphere sites: (n, 2) lon/lat and their (n_types, n) placement validity."""
    rule = Placement(scenario)
    best: tuple[NDArray[np.float64], NDArray[np.bool_]] | None = None
    for level in range(MAX_ICO_LEVEL + 1):
        lon, lat = lon_lat(icosphere(level))
        ok = rule.table(lon, lat)
        keep = ok.any(axis=0)
        if keep.sum() > MAX_ICO_SITES and best is not None:
            break
        order = np.lexsort((lon[keep], lat[keep]))
        best = (np.stack([lon[keep], lat[keep]], axis=1)[order], ok[:, keep][:, order])
        if keep.sum() > MAX_ICO_SITES:  # even the coarsest mesh has too many: keep the first ones
            best = (best[0][:MAX_ICO_SITES], best[1][:, :MAX_ICO_SITES])
            break
    assert best is not None
    return best


__all__ = ["MAX_CENTROID_SITES", "MAX_ICO_LEVEL", "MAX_ICO_SITES", "Placement", "ico_sites", "icosphere", "lon_lat"]
