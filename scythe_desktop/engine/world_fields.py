"""The fields of one world, computed on demand: kNN edges, coverage/occlusion/uncertainty grids, the
uncertainty gradient and the (S, S, S) volume of the node swarm.

:class:`WorldFields` is a mixin of :class:`~scythe_desktop.engine.world.World`: it reads the world's cluster
and observer rows and its node buffer and never changes them. Knows nothing of Qt or the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import EDGE_DTYPE
from scythe_desktop.engine import fields
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, unit_vectors
from scythe_desktop.engine.observers import MAX_DETECTION, footprint, load_factor, rate_detection

if TYPE_CHECKING:
    from scythe_desktop.engine.belief import BeliefModel
    from scythe_desktop.engine.scenario import Scenario
    from scythe_desktop.engine.world_rows import ClusterRows, ObserverRows


class WorldFields:
    """Fields of a world (mixin; see the module docstring)."""

    scenario: Scenario
    _model: BeliefModel

    # Provided by World.
    def _clusters(self) -> ClusterRows:
        raise NotImplementedError

    def _observers(self) -> ObserverRows:
        raise NotImplementedError

    def _slot_of(self) -> NDArray[np.int64]:
        raise NotImplementedError

    @property
    def nodes(self) -> NDArray[np.float32]:
        raise NotImplementedError

    def node_cluster(self) -> NDArray[np.int32]:
        raise NotImplementedError

    def _refresh_sensing(self) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------- edges

    def edges(self, k: int = 3) -> NDArray[np.void]:
        """k-nearest-neighbour links inside each cluster (EDGE_DTYPE, rows of :attr:`nodes`, src < dst).

        Confidence is the cluster's state confidence (1 − H(state)/2) times a distance falloff.
        """
        from scipy.spatial import cKDTree

        nodes = self.nodes
        n = nodes.shape[0]
        if n < 2:
            return np.zeros(0, dtype=EDGE_DTYPE)
        cluster = self.node_cluster()
        # A fourth coordinate far apart per cluster keeps neighbours inside their own cluster.
        pts = np.empty((n, 4))
        pts[:, :3] = nodes[:, :3]
        pts[:, 3] = cluster * 10.0
        dist, idx = cKDTree(pts).query(pts, k=k + 1, workers=-1)  # same answer on every core count
        src = np.repeat(np.arange(n), k)
        dst = idx[:, 1:].ravel()
        dd = dist[:, 1:].ravel()
        ok = (dst < n) & (cluster[np.minimum(dst, n - 1)] == cluster[src]) & (src != dst)
        src, dst, dd = src[ok], dst[ok], dd[ok]
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        key, first = np.unique(lo.astype(np.int64) * n + hi, return_index=True)
        slot = self._slot_of()[cluster[lo[first]]]
        cl = self._clusters()
        conf_c = 1.0 - self._model.state_entropy(cl.b) / 2.0
        spread = cl.spread_km[slot] / EARTH_RADIUS_KM
        out = np.zeros(key.size, dtype=EDGE_DTYPE)
        out["src"] = lo[first]
        out["dst"] = hi[first]
        out["confidence"] = np.clip(conf_c[slot] * np.exp(-dd[first] / np.maximum(spread, 1e-6)), 0.0, 1.0)
        return out

    # ---------------------------------------------------------------------------------------- grids

    def coverage_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Probability that at least one observer detects a fully visible target in each cell."""
        pts = fields.grid_unit_vectors(h, w)
        self._refresh_sensing()  # refreshes load
        o = self._observers()
        if len(o) == 0:
            return np.zeros((h, w), dtype=np.float32)
        det = rate_detection(self.scenario, o.type, o.rate) * load_factor(o.load)
        reach = footprint(pts @ o.xyz.T, o.radius[None, :])
        miss = np.log1p(-np.minimum(reach * det, MAX_DETECTION)).sum(axis=1)
        return (1.0 - np.exp(miss)).reshape(h, w).astype(np.float32)

    def occlusion_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Occlusion in [0, 1]: the regions' own occlusion combined with silent clusters' shadows."""
        lon, lat = fields.cell_centres(h, w)
        region = np.zeros((h, w))
        for r in self.scenario.regions:
            inside = r.contains(lon[None, :], lat[:, None])
            region = np.maximum(region, np.where(inside, r.occlusion, 0.0))
        cl = self._clusters()
        shadow = fields.gaussian_bumps(
            fields.grid_unit_vectors(h, w), cl.xyz, np.maximum(cl.spread_km, 50.0) * 2.0, 0.5 * cl.silence
        )
        occl = 1.0 - (1.0 - region) * (1.0 - np.minimum(shadow.reshape(h, w), 1.0))
        return occl.astype(np.float32)

    def _uncertainty_at(self, pts: NDArray[np.float64]) -> NDArray[np.float64]:
        cl = self._clusters()
        sigma = np.maximum(cl.spread_km, 150.0) * 1.5
        return fields.gaussian_bumps(pts, cl.xyz, sigma, cl.entropy * cl.confidence)

    def uncertainty_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Belief entropy (bits) spread around each cluster, weighted by ghost confidence."""
        return self._uncertainty_at(fields.grid_unit_vectors(h, w)).reshape(h, w).astype(np.float32)

    def uncertainty_gradient(self, lon: float, lat: float) -> tuple[float, float]:
        """Gradient (per degree of lon, per degree of lat) of the uncertainty field at one point, for
        drifting observers toward maximum ambiguity."""
        h = 0.05
        lat_c = float(np.clip(lat, -90.0 + h, 90.0 - h))
        pts = unit_vectors(np.array([lon + h, lon - h, lon, lon]), np.array([lat_c, lat_c, lat_c + h, lat_c - h]))
        u = self._uncertainty_at(pts)
        return float((u[0] - u[1]) / (2 * h)), float((u[2] - u[3]) / (2 * h))

    def node_uncertainty(self) -> NDArray[np.float32]:
        """Per-node weight of the gaussian volume: intensity × its cluster's entropy × confidence."""
        nodes = self.nodes
        slot = self._slot_of()[self.node_cluster()]
        cl = self._clusters()
        ent = (cl.entropy * cl.confidence).astype(np.float32)
        return nodes[:, 3] * ent[slot]

    def volume(self, size: int = 64, model: str = "gaussian", backend: str = "auto") -> NDArray[np.float32]:
        """(S, S, S) float32 field of the node swarm ([z, y, x] over ±fields.EXTENT): ``gaussian`` is the
        blurred density of :meth:`node_uncertainty`, ``rf`` the RF propagation model of node intensity;
        ``backend`` picks torch or numpy (:mod:`~scythe_desktop.engine.fields`: same numbers to its tolerance)."""
        if size < 2 or size > 256:
            raise ValueError(f"volume size must be in [2, 256], got {size}")
        if model == "gaussian":
            return fields.volume_gaussian(self.nodes[:, :3], self.node_uncertainty(), size, backend)
        if model == "rf":
            nodes = self.nodes
            return fields.volume_rf(nodes[:, :3], nodes[:, 3], size, self.occlusion_grid(90, 180), backend)
        raise ValueError(f"volume model must be 'gaussian' or 'rf', got {model!r}")


__all__ = ["WorldFields"]
