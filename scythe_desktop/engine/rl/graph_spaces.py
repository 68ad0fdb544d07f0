"""The graph observation, the exact joint mask and action decoding for B worlds of one scenario at once.

:class:`GraphView` reads a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch` (the batched
engine's arrays; a :class:`~scythe_desktop.engine.world.World` is a batch of one, so single-world encoding
is the same code) and fills the padded layout of :mod:`~scythe_desktop.engine.rl.graph_layout`. Worlds of
different scenarios get the same shapes, so their observations concatenate along the world axis. Each
:meth:`GraphView.refresh` fixes this step's rows (shown clusters, sites) that :meth:`decode` and
:meth:`action` then refer to. Distances are great-circle; products over the three unit-vector components are
written out (no BLAS), so a world's observation does not depend on its batch. Reads worlds, changes nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.batch.actions import DECOMMISSION, DEPLOY, FOCUS, RELOCATE, SAMPLING, ActionBatch
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, unit_vectors
from scythe_desktop.engine.observers import footprint
from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.graph_sites import MAX_CENTROID_SITES, Placement, ico_sites
from scythe_desktop.engine.rl.spaces import FEATURE_BOUND, MAX_TYPES

_REACH = 1.5  # an edge "within a radius" reaches 1.5 radii: the footprint's soft edge is still > 0 there


def _clip32(a: NDArray[np.float64]) -> NDArray[np.float32]:
    out = np.empty(a.shape, dtype=np.float32)
    np.clip(a, -FEATURE_BOUND, FEATURE_BOUND, out=out, casting="unsafe")
    return out


def _cos(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """(B, N, 3) × (B, M, 3) -> (B, N, M) dot products, elementwise (no BLAS)."""
    return (a[:, :, None, 0] * b[:, None, :, 0] + a[:, :, None, 1] * b[:, None, :, 1]
            + a[:, :, None, 2] * b[:, None, :, 2])


def _km(cos: NDArray[np.float64]) -> NDArray[np.float64]:
    return EARTH_RADIUS_KM * np.arccos(np.clip(cos, -1.0, 1.0))


def nearest(cos: NDArray[np.float64], ok: NDArray[np.bool_], k: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``k`` largest ``cos`` per row among ``ok`` columns, nearest first: (B, N, k) column (-1 where
    fewer than ``k`` are ok) and its cos (-inf there)."""
    score = np.where(ok, cos, -np.inf)
    if score.shape[-1] < k:
        pad = [(0, 0)] * (score.ndim - 1) + [(0, k - score.shape[-1])]
        score = np.pad(score, pad, constant_values=-np.inf)
    idx = np.argpartition(-score, k - 1, axis=-1)[..., :k]
    sel = np.take_along_axis(score, idx, axis=-1)
    order = np.argsort(-sel, axis=-1, kind="stable")
    idx, sel = np.take_along_axis(idx, order, axis=-1), np.take_along_axis(sel, order, axis=-1)
    return np.where(np.isfinite(sel), idx, -1), sel


def _tile(a: NDArray, worlds: int) -> NDArray:
    """``a`` repeated along a new leading world axis (a read-only view)."""
    return np.broadcast_to(a, (worlds, *a.shape))


def _pad_rows(a: NDArray, rows: int, fill: float = 0.0) -> NDArray:
    """Pad axis 1 of ``a`` to ``rows``."""
    pad = [(0, 0), (0, rows - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
    return np.pad(a, pad, constant_values=fill)


class GraphView:
    """Graph observation, exact mask and decoding of one scenario's world batch (module docstring)."""

    def __init__(self, batch: WorldBatch) -> None:
        sc = batch.scenario
        if not gl.fits(sc):
            raise ValueError(
                f"scenario {sc.name!r} does not fit the graph layout (at most {MAX_TYPES} observer types, "
                f"{gl.MAX_OBSERVERS} instances and {gl.MAX_CLUSTERS} clusters)"
            )
        self.batch = batch
        self.scenario = sc
        self.placement = Placement(sc)
        types = sc.observer_types
        self.n_types = len(types)
        self.budget = max(sc.constraints.budget_per_hour, 1e-9)
        self.type_cost = np.array([t.cost_per_hour for t in types])
        self.setup_fee = np.array([t.setup_fee for t in types])
        self.type_radius = np.array([t.coverage_radius_km for t in types])
        self.type_base_rate = np.array([t.sampling_rate for t in types])
        self.type_max_rate = np.array([t.max_sampling_rate for t in types])
        self.min_billing = np.array([t.min_billing_hours for t in types])
        ico, ico_ok = ico_sites(sc)
        self.ico_lonlat = ico
        self.ico_ok = np.zeros((MAX_TYPES, len(ico)), dtype=bool)
        self.ico_ok[: self.n_types] = ico_ok
        self.ico_xyz = unit_vectors(ico[:, 0], ico[:, 1])
        occl = np.array([r.occlusion for r in sc.regions] + [0.0])
        self.ico_occlusion = occl[self.batch.lookup.region(ico[:, 0], ico[:, 1])]
        self.occl = occl
        tf = np.zeros((MAX_TYPES, gl.TYPE_FEATURES))
        tf[: self.n_types, 0] = 1.0
        tf[: self.n_types, 1] = self.type_cost / self.budget
        tf[: self.n_types, 2] = self.setup_fee / self.budget
        tf[: self.n_types, 3] = self.type_radius / 1000.0
        tf[: self.n_types, 4] = self.type_base_rate / self.type_max_rate
        tf[: self.n_types, 5] = [t.detection for t in types]
        tf[: self.n_types, 6] = self.min_billing / 24.0
        self.type_static = tf
        self.refresh(np.zeros(batch.size))

    # ------------------------------------------------------------------------------------------- rows

    def refresh(self, tick_fraction: NDArray[np.float64]) -> None:
        """Fix this step's rows and compute :attr:`obs` and :attr:`mask` (what the env and policies read)."""
        self._rows()
        self.obs = self._observe(tick_fraction)
        self.mask = self._mask()

    def _rows(self) -> None:
        c = self.batch.clusters
        ent = np.where(c.valid(), -c.entropy, np.inf)
        width = min(c.capacity, gl.MAX_CLUSTERS)
        self.slots = np.lexsort((c.id, ent), axis=-1)[:, :width]
        self.shown = np.minimum(c.n, gl.MAX_CLUSTERS)
        self.slot_ok = np.arange(width) < self.shown[:, None]
        b = np.arange(self.batch.size)[:, None]
        nc = min(width, MAX_CENTROID_SITES)
        cen = np.stack([c.lon[b, self.slots[:, :nc]], c.lat[b, self.slots[:, :nc]]], axis=-1)
        self.site_lonlat = np.concatenate([cen, _tile(self.ico_lonlat, self.batch.size)], axis=1)
        cen_ok = self.slot_ok[:, :nc]
        self.site_ok = np.concatenate([cen_ok, np.ones((self.batch.size, len(self.ico_lonlat)), dtype=bool)], axis=1)
        place = np.zeros((MAX_TYPES, self.batch.size, nc), dtype=bool)
        place[: self.n_types] = self.placement.table(cen[..., 0], cen[..., 1]) & cen_ok[None]
        self.site_place = np.concatenate(
            [place.transpose(1, 0, 2), _tile(self.ico_ok, self.batch.size)], axis=2
        )  # (B, MAX_TYPES, S)
        self.n_centroid = nc

    # ------------------------------------------------------------------------------------ observation

    def _observe(self, tick_fraction: NDArray[np.float64]) -> dict[str, NDArray[np.float32]]:
        batch = self.batch
        c, o = batch.clusters, batch.observers
        bsz = batch.size
        b = np.arange(bsz)[:, None]
        s, ok = self.slots, self.slot_ok
        m = min(o.capacity, gl.MAX_OBSERVERS)
        valid_o = o.valid()[:, :m]
        types = o.type[:, :m]
        focus = np.where(valid_o, o.focus[:, :m], -2)
        ids = c.id[b, s]
        focused = (ids[:, :, None] == focus[:, None, :]).any(axis=2)

        cf = np.zeros((bsz, s.shape[1], gl.CLUSTER_FEATURES))
        cf[..., 0:4] = c.b.transpose(0, 2, 1)[b, s]
        columns = (c.entropy[b, s] / 4.0, c.h_state[b, s] / 2.0, c.mu[b, s] / 8.0, np.sqrt(c.var[b, s]),
                   np.log1p(c.node_count[b, s]) / 8.0, c.silence[b, s], c.agreement[b, s], c.volatility[b, s],
                   c.confidence[b, s], c.coverage[b, s], c.detected[b, s], c.ever_detected[b, s], focused)
        for j, col in enumerate(columns):
            cf[..., 4 + j] = col
        cf[..., 17] = 1.0  # a bias column: padding rows are all zero
        cf *= ok[..., None]

        of = np.zeros((bsz, m, gl.OBSERVER_FEATURES))
        of[..., :MAX_TYPES] = types[..., None] == np.arange(MAX_TYPES)
        age_h = (batch.tick[:, None] - o.deployed_tick[:, :m]) * self.scenario.tick_hours
        columns_o = (o.rate[:, :m] / self.type_max_rate[types], o.rate[:, :m] / self.type_base_rate[types],
                     o.load[:, :m], o.cost[:, :m] / self.budget, self.setup_fee[types] / self.budget,
                     o.focus[:, :m] >= 0, np.minimum(age_h / np.maximum(self.min_billing[types], 1e-9), 2.0),
                     o.radius[:, :m] / 1000.0)
        for j, col in enumerate(columns_o):
            of[..., MAX_TYPES + j] = col
        of *= valid_o[..., None]

        cxyz = c.xyz[b, s]
        oxyz = o.xyz[:, :m]
        sxyz = unit_vectors(self.site_lonlat[..., 0], self.site_lonlat[..., 1])
        so_cos = _cos(sxyz, oxyz)  # (B, S, O)
        cover = (footprint(so_cos, o.radius[:, None, :m]) * valid_o[:, None, :]).sum(axis=2)
        sf = np.zeros((bsz, sxyz.shape[1], gl.SITE_FEATURES))
        sf[..., :MAX_TYPES] = self.site_place.transpose(0, 2, 1)
        sf[:, : self.n_centroid, MAX_TYPES] = 1.0
        sf[:, self.n_centroid :, MAX_TYPES + 1] = 1.0
        sf[..., MAX_TYPES + 2] = cover
        cen = self.site_lonlat[:, : self.n_centroid]
        cen_occl = self.occl[self.batch.lookup.region(cen[..., 0], cen[..., 1])]
        sf[..., MAX_TYPES + 3] = np.concatenate([cen_occl, _tile(self.ico_occlusion, bsz)], axis=1)
        sf *= self.site_ok[..., None]

        used = batch.cost_per_hour()
        room = o.n < min(self.scenario.constraints.max_instances, gl.MAX_OBSERVERS)
        tf = _tile(self.type_static, bsz).copy()
        tf[:, : self.n_types, 7] = self._deploy_fits(used) & room[:, None]

        cons = self.scenario.constraints
        n = np.maximum(c.n, 1)
        g = np.zeros((bsz, gl.GLOBAL_FEATURES))
        g[:, 0] = tick_fraction
        g[:, 1] = 1.0 - used / self.budget
        g[:, 2] = used / self.budget
        g[:, 3] = o.n / max(cons.max_instances, 1)
        g[:, 4] = c.entropy.sum(axis=1) / n / 4.0
        g[:, 5] = (c.detected * c.valid()).sum(axis=1) / n
        g[:, 6] = np.log1p(self.shown) / 6.0
        g[:, 7] = self.shown / gl.MAX_CLUSTERS

        obs = {
            "clusters": _pad_rows(cf, gl.MAX_CLUSTERS), "cluster_mask": _pad_rows(ok, gl.MAX_CLUSTERS),
            "observers": _pad_rows(of, gl.MAX_OBSERVERS), "observer_mask": _pad_rows(valid_o, gl.MAX_OBSERVERS),
            "sites": _pad_rows(sf, gl.MAX_SITES), "site_mask": _pad_rows(self.site_ok, gl.MAX_SITES),
            "types": tf, "globals": g,
        }
        obs.update(self._edges(cxyz, ok, oxyz, valid_o, o.radius[:, :m], focus, ids, sxyz))
        return {k: _clip32(np.asarray(v, dtype=np.float64)) for k, v in obs.items()}

    def _edges(self, cxyz: NDArray[np.float64], ok: NDArray[np.bool_], oxyz: NDArray[np.float64],
               valid_o: NDArray[np.bool_], radius: NDArray[np.float64], focus: NDArray[np.int64],
               ids: NDArray[np.int64], sxyz: NDArray[np.float64]) -> dict[str, NDArray]:
        """Neighbour lists and attributes of the four relations (graph_layout.RELATIONS)."""
        out: dict[str, NDArray] = {}
        cc = _cos(cxyz, cxyz)
        width = cc.shape[1]
        idx, sel = nearest(cc, ok[:, None, :] & ok[:, :, None] & ~np.eye(width, dtype=bool), gl.K_CC)
        out["cc_index"], out["cc_attr"] = idx, np.where(idx >= 0, _km(sel) / 1000.0, 0.0)[..., None]

        sc_cos = _cos(sxyz, cxyz)
        reach = _REACH * float(self.type_radius.max())
        sc_ok = self.site_ok[:, :, None] & ok[:, None, :] & (_km(sc_cos) <= reach)
        idx, sel = nearest(sc_cos, sc_ok, gl.K_SC)
        attr = np.zeros((*idx.shape, 1 + MAX_TYPES))
        attr[..., 0] = _km(sel) / 1000.0
        attr[..., 1 : 1 + self.n_types] = footprint(sel[..., None], self.type_radius)
        out["sc_index"], out["sc_attr"] = idx, attr * (idx >= 0)[..., None]

        oc_cos = _cos(oxyz, cxyz)
        oc_ok = valid_o[:, :, None] & ok[:, None, :] & (_km(oc_cos) <= _REACH * radius[..., None])
        idx, sel = nearest(oc_cos, oc_ok, gl.K_OC)
        attr = np.zeros((*idx.shape, 3))
        attr[..., 0] = _km(sel) / 1000.0
        attr[..., 1] = footprint(sel, radius[..., None])
        target = np.take_along_axis(ids, np.maximum(idx, 0).reshape(len(ids), -1), axis=1).reshape(idx.shape)
        attr[..., 2] = target == focus[..., None]
        out["oc_index"], out["oc_attr"] = idx, attr * (idx >= 0)[..., None]

        os_cos = _cos(oxyz, sxyz)
        idx, sel = nearest(os_cos, valid_o[:, :, None] & self.site_ok[:, None, :], gl.K_OS)
        out["os_index"], out["os_attr"] = idx, np.where(idx >= 0, _km(sel) / 1000.0, 0.0)[..., None]
        rows = {"cc": gl.MAX_CLUSTERS, "sc": gl.MAX_SITES, "oc": gl.MAX_OBSERVERS, "os": gl.MAX_OBSERVERS}
        for rel, n in rows.items():
            out[f"{rel}_index"] = _pad_rows(out[f"{rel}_index"], n, -1.0)
            out[f"{rel}_attr"] = _pad_rows(out[f"{rel}_attr"], n)
        return out

    # ------------------------------------------------------------------------------------------- mask

    def _deploy_fits(self, used: NDArray[np.float64]) -> NDArray[np.bool_]:
        """(B, n_types): the budget guard of a deploy (its running cost plus its set-up fee)."""
        limit = self.scenario.constraints.budget_per_hour + 1e-9
        return (used[:, None] + self.type_cost) + self.setup_fee <= limit

    def _mask(self) -> NDArray[np.bool_]:
        """(B, N_ACTIONS): True iff the row exists and the world would accept the action (exact)."""
        batch = self.batch
        o = batch.observers
        bsz = batch.size
        limit = self.scenario.constraints.budget_per_hour + 1e-9
        used = batch.cost_per_hour()
        off = gl.OFFSETS
        out = np.zeros((bsz, gl.N_ACTIONS), dtype=bool)
        out[:, 0] = True
        n_sites = self.site_ok.shape[1]
        room = o.n < min(self.scenario.constraints.max_instances, gl.MAX_OBSERVERS)
        fits = np.zeros((bsz, MAX_TYPES), dtype=bool)
        fits[:, : self.n_types] = self._deploy_fits(used) & room[:, None]
        dep = np.zeros((bsz, MAX_TYPES, gl.MAX_SITES), dtype=bool)
        dep[:, :, :n_sites] = self.site_place & fits[..., None]
        out[:, off["deploy"] : off["deploy"] + dep[0].size] = dep.reshape(bsz, -1)

        m = min(o.capacity, gl.MAX_OBSERVERS)
        valid_o = o.valid()[:, :m]
        types = o.type[:, :m]
        b = np.arange(bsz)[:, None]
        rel = np.zeros((bsz, gl.MAX_OBSERVERS, gl.MAX_SITES), dtype=bool)
        fee_ok = (used[:, None] + self.setup_fee[types] <= limit) & valid_o
        rel[:, :m, :n_sites] = self.site_place[b, types] & fee_ok[..., None]
        out[:, off["relocate"] : off["relocate"] + rel[0].size] = rel.reshape(bsz, -1)

        rate = o.rate[:, :m]
        max_rate = self.type_max_rate[types]
        new_cost = self.type_cost[types] * np.minimum(2.0 * rate, max_rate) / self.type_base_rate[types]
        smp = (rate < max_rate) & ((used[:, None] - o.cost[:, :m]) + new_cost <= limit) & valid_o
        out[:, off["sampling"] : off["sampling"] + m] = smp
        foc = np.zeros((bsz, gl.MAX_OBSERVERS, gl.MAX_CLUSTERS), dtype=bool)
        foc[:, :m, : self.slot_ok.shape[1]] = valid_o[..., None] & self.slot_ok[:, None, :]
        out[:, off["focus"] : off["focus"] + foc[0].size] = foc.reshape(bsz, -1)
        out[:, off["decommission"] : off["decommission"] + m] = valid_o
        return out

    # ----------------------------------------------------------------------------------------- decode

    def _split(self, index: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """(kind, first row, second row) of each world's index: (type|observer, site|cluster)."""
        off = gl.OFFSETS
        kind = np.zeros(index.shape, dtype=np.int64)
        for k, name in ((DEPLOY, "deploy"), (RELOCATE, "relocate"), (SAMPLING, "sampling"), (FOCUS, "focus"),
                        (DECOMMISSION, "decommission")):
            kind[index >= off[name]] = k
        starts = np.array([0, off["deploy"], off["relocate"], off["sampling"], off["focus"], off["decommission"]])
        j = index - starts[kind]
        width = np.array([1, gl.MAX_SITES, gl.MAX_SITES, 1, gl.MAX_CLUSTERS, 1])[kind]
        return kind, j // width, j % width

    def decode(self, index: NDArray[np.int64]) -> ActionBatch:
        """World actions for one index per world (assumed unmasked), as the batched engine applies them."""
        kind, first, second = self._split(np.asarray(index, dtype=np.int64))
        a = ActionBatch.noop(self.batch.size)
        a.kind = kind
        rows = np.arange(self.batch.size)
        placed = (kind == DEPLOY) | (kind == RELOCATE)
        site = np.where(placed, second, 0)
        a.lon, a.lat = self.site_lonlat[rows, site, 0].copy(), self.site_lonlat[rows, site, 1].copy()
        a.type = np.where(kind == DEPLOY, first, 0)
        a.slot = np.where(kind == DEPLOY, 0, first)
        q = np.where(kind == FOCUS, second, 0)
        a.cluster = np.where(kind == FOCUS, self.batch.clusters.id[rows, self.slots[rows, q]], -1)
        return a

    def action(self, index: int, world: int = 0) -> Action | None:
        """The :mod:`~scythe_desktop.engine.actions` object of ``index`` in world ``world`` (None: the no-op)."""
        kind, first, second = (int(v[0]) for v in self._split(np.array([index], dtype=np.int64)))
        o = self.batch.observers
        if kind == DEPLOY:
            lon, lat = self.site_lonlat[world, second]
            return Deploy(float(lon), float(lat), self.scenario.observer_types[first].name)
        if kind == 0:
            return None
        oid = int(o.id[world, first])
        if kind == RELOCATE:
            lon, lat = self.site_lonlat[world, second]
            return Relocate(oid, float(lon), float(lat))
        if kind == SAMPLING:
            return IncreaseSampling(oid)
        if kind == FOCUS:
            return Focus(oid, int(self.batch.clusters.id[world, self.slots[world, second]]))
        return Decommission(oid)


__all__ = ["GraphView", "nearest"]
