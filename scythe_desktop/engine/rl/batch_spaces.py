"""The RL view of B worlds at once: observations, joint action masks and action decoding as array
operations over a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch`.

The layout is exactly :mod:`scythe_desktop.engine.rl.spaces` (the same :class:`ActionCodec` blocks and the
same Dict keys, so one policy fits both): world ``b``'s row of every array equals what the single-world
encoder and codec give for that world, which the tests check. The per-observer footprint over the action
cells is kept as an extra observer column of the batch (it moves with the rows on a decommission) and
computed only for observers an action placed. Reads worlds; changes nothing but that column.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.batch.actions import DECOMMISSION, DEPLOY, FOCUS, RELOCATE, SAMPLING, ActionBatch
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import STATE_COHERENCE
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.observers import footprint
from scythe_desktop.engine.rl.spaces import (
    FEATURE_BOUND,
    MAX_TYPES,
    ActionCodec,
    ClusterPart,
    GlobalPart,
    ObserverPart,
)

CELL_COVER: Final = "rl_cell_cover"  # extra observer column: footprint over the action cells (B, O, K)


def _clip32(a: NDArray[np.float64]) -> NDArray[np.float32]:
    out = np.empty(a.shape, dtype=np.float32)
    np.clip(a, -FEATURE_BOUND, FEATURE_BOUND, out=out, casting="unsafe")
    return out


class BatchView:
    """Observation encoder, mask and decoder of one codec layout over a world batch."""

    def __init__(self, codec: ActionCodec, batch: WorldBatch) -> None:
        self.codec = codec
        self.batch = batch
        cfg = codec.config
        self.k = cfg.cluster_slots
        self.m = cfg.observer_slots
        self.n_cells = cfg.n_cells
        self.cell_units = unit_vectors(codec.cells[:, 0], codec.cells[:, 1])
        sc = codec.scenario
        region = np.array([sc.region_of(float(lon), float(lat)) for lon, lat in codec.cells])
        occl = np.array([r.occlusion for r in sc.regions] + [0.0])
        self.occlusion = occl[region].astype(np.float32)
        o = batch.observers
        if CELL_COVER not in o.extra:
            o.extra[CELL_COVER] = np.zeros((batch.size, o.capacity, self.n_cells))
            self.cover_rows(np.repeat(np.arange(batch.size), o.capacity), np.tile(np.arange(o.capacity), batch.size))
        types = sc.observer_types
        self.type_max_rate = np.array([t.max_sampling_rate for t in types])
        self.type_latency = np.array([t.latency_ms for t in types])
        self.zone_limit = np.array([z.max_latency_ms for z in sc.latency_zones] + [np.inf])

    # ---------------------------------------------------------------------------------------- cells

    def cover_rows(self, bw: NDArray[np.intp], rows: NDArray[np.intp]) -> None:
        """Recompute the cell footprint of observer rows (bw[i], rows[i]) (0 for padding rows)."""
        o = self.batch.observers
        cos = o.xyz[bw, rows] @ self.cell_units.T  # (R, K)
        cover = footprint(cos, o.radius[bw, rows][:, None]) * (rows < o.n[bw])[:, None]
        o.extra[CELL_COVER][bw, rows] = cover

    # ----------------------------------------------------------------------------------- cluster slots

    def slots(self) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """(B, K) cluster rows shown to the agent (by belief entropy, ties by id) and their validity."""
        c = self.batch.clusters
        ent = np.where(c.valid(), -c.entropy, np.inf)
        order = np.lexsort((c.id, ent), axis=-1)[:, : self.k]
        if order.shape[1] < self.k:
            order = np.pad(order, ((0, 0), (0, self.k - order.shape[1])))
        return order, np.arange(self.k) < np.minimum(c.n, self.k)[:, None]

    # ------------------------------------------------------------------------------------ observation

    def observe(
        self, slots: NDArray[np.intp], slot_ok: NDArray[np.bool_], tick_fraction: NDArray[np.float64]
    ) -> dict[str, NDArray[np.float32]]:
        batch, codec = self.batch, self.codec
        c, o = batch.clusters, batch.observers
        b = np.arange(batch.size)[:, None]
        grid = codec.grid
        out = np.zeros((batch.size, self.k, ClusterPart.FEATURES))
        lon, lat = c.lon[b, slots], c.lat[b, slots]
        state, silence = c.state[b, slots], c.silence[b, slots]
        out[..., 0], out[..., 1] = grid.normalise(lon, lat)
        out[..., 2] = np.log1p(c.node_count[b, slots]) / 8.0
        out[..., 3] = silence
        out[..., 4] = np.where(state == 3, 0.0, STATE_COHERENCE[state] * (1.0 - 0.5 * silence))
        out[..., 5] = c.entropy[b, slots] / 4.0
        agreement = c.agreement[b, slots]
        out[..., 6] = agreement
        out[..., 7] = c.h_state[b, slots] / 2.0 * (1.0 - agreement)
        out[..., 8] = c.volatility[b, slots]
        out[..., 9] = 1.0 - c.coverage[b, slots]
        out[..., 10] = c.detected[b, slots]
        ids = c.id[b, slots]
        focus = np.where(o.valid(), o.focus, -2)
        out[..., 11] = (ids[:, :, None] == focus[:, None, :]).any(axis=2)
        out *= slot_ok[..., None]

        m = min(self.m, o.capacity)
        valid_o = o.valid()[:, :m]
        ob = np.zeros((batch.size, self.m, ObserverPart.FEATURES))
        types = o.type[:, :m]
        ob[:, :m, 0], ob[:, :m, 1] = grid.normalise(o.lon[:, :m], o.lat[:, :m])
        ob[:, :m, 2] = o.radius[:, :m] / 1000.0
        ob[:, :m, 3] = o.load[:, :m]
        ob[:, :m, 4] = o.rate[:, :m] / self.type_max_rate[types]
        ob[:, :m, 5] = o.focus[:, :m] >= 0
        ob[:, :m, 6] = o.cost[:, :m] / max(codec.scenario.constraints.budget_per_hour, 1e-9)
        ob[:, :m, 7:] = types[..., None] == np.arange(MAX_TYPES)
        ob[:, :m] *= valid_o[..., None]

        cfg = codec.config
        grids = np.empty((batch.size, 3, cfg.cell_rows, cfg.cell_cols), dtype=np.float32)
        coverage = o.extra[CELL_COVER].sum(axis=1)
        grids[:, 0] = _clip32(coverage).reshape(batch.size, cfg.cell_rows, cfg.cell_cols)
        grids[:, 1] = self.occlusion.reshape(cfg.cell_rows, cfg.cell_cols)
        cell = grid.cell_of(c.lon, c.lat)
        inside = (cell >= 0) & c.valid()
        flat = (np.arange(batch.size)[:, None] * self.n_cells + cell)[inside]
        unc = np.bincount(flat, weights=c.entropy[inside], minlength=batch.size * self.n_cells) / 4.0
        grids[:, 2] = _clip32(unc).reshape(batch.size, cfg.cell_rows, cfg.cell_cols)

        cons = codec.scenario.constraints
        n = np.maximum(c.n, 1)
        glob = np.zeros((batch.size, GlobalPart.FEATURES))
        glob[:, 0] = tick_fraction
        glob[:, 1] = o.n / max(cons.max_instances, 1)
        glob[:, 2] = batch.cost_per_hour() / max(cons.budget_per_hour, 1e-9)
        glob[:, 3] = c.entropy.sum(axis=1) / n / 4.0
        glob[:, 4] = slot_ok.sum(axis=1) / self.k
        glob[:, 5] = c.detected.sum(axis=1) / n
        return {
            "clusters": _clip32(out),
            "cluster_mask": slot_ok.astype(np.float32),
            "observers": _clip32(ob),
            "observer_mask": np.pad(valid_o, ((0, 0), (0, self.m - m))).astype(np.float32),
            "grids": grids,
            "globals": _clip32(glob),
        }

    # ------------------------------------------------------------------------------------------- mask

    def mask(self, slots: NDArray[np.intp], slot_ok: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """(B, n_actions) joint validity; equals ActionCodec.mask of each world."""
        batch, codec = self.batch, self.codec
        o, c = batch.observers, batch.clusters
        cons = codec.scenario.constraints
        limit = cons.budget_per_hour + 1e-9
        mask = np.zeros((batch.size, codec.n_actions), dtype=bool)
        mask[:, 0] = True
        used = batch.cost_per_hour()
        off = codec.offsets
        room = o.n < min(cons.max_instances, self.m)
        fits = (used[:, None] + codec.type_cost + codec.deploy_fee) <= limit  # (B, MAX_TYPES)
        dep = codec.placement_ok[None] & (fits & room[:, None])[..., None]
        mask[:, off["deploy"] : off["deploy"] + MAX_TYPES * self.n_cells] = dep.reshape(batch.size, -1)

        m = min(self.m, o.capacity)
        valid_o = o.valid()[:, :m]
        types = o.type[:, :m]
        fee_fits = used[:, None] + codec.setup_fee[types] <= limit
        rel = np.zeros((batch.size, self.m, self.n_cells), dtype=bool)
        rel[:, :m] = codec.placement_ok[types] & (fee_fits & valid_o)[..., None]
        mask[:, off["relocate"] : off["relocate"] + self.m * self.n_cells] = rel.reshape(batch.size, -1)
        rate = o.rate[:, :m]
        new_rate = np.minimum(rate * 2.0, self.type_max_rate[types])
        new_cost = codec.type_cost[types] * new_rate / codec.type_base_rate[types]
        smp = (rate < self.type_max_rate[types] - 1e-12) & (used[:, None] - o.cost[:, :m] + new_cost <= limit)
        mask[:, off["sampling"] : off["sampling"] + m] = smp & valid_o
        b = np.arange(batch.size)[:, None]
        ids = c.id[b, slots]
        foc = np.zeros((batch.size, self.m, self.k), dtype=bool)
        foc[:, :m] = (o.focus[:, :m, None] != ids[:, None, :]) & slot_ok[:, None, :] & valid_o[..., None]
        mask[:, off["focus"] : off["focus"] + self.m * self.k] = foc.reshape(batch.size, -1)
        mask[:, off["decommission"] : off["decommission"] + m] = valid_o
        return mask

    # ----------------------------------------------------------------------------------------- decode

    def decode(self, index: NDArray[np.int64], slots: NDArray[np.intp]) -> ActionBatch:
        """World actions for one action index per world (assumed valid)."""
        codec, batch = self.codec, self.batch
        off = codec.offsets
        a = ActionBatch.noop(batch.size)
        for kind, name in ((DEPLOY, "deploy"), (RELOCATE, "relocate"), (SAMPLING, "sampling"),
                           (FOCUS, "focus"), (DECOMMISSION, "decommission")):
            a.kind[index >= off[name]] = kind
        starts = np.array([0, off["deploy"], off["relocate"], off["sampling"], off["focus"], off["decommission"]])
        j = index - starts[a.kind]
        dep, rel = a.kind == DEPLOY, a.kind == RELOCATE
        cell = np.where(dep | rel, j % self.n_cells, 0)
        a.lon, a.lat = codec.cells[cell, 0].copy(), codec.cells[cell, 1].copy()
        a.type = np.where(dep, j // self.n_cells, 0)
        a.slot = np.where(rel, j // self.n_cells, np.where(a.kind == FOCUS, j // self.k, j))
        a.slot = np.where(dep, 0, a.slot)
        q = np.where(a.kind == FOCUS, j % self.k, 0)
        rows = np.arange(batch.size)
        a.cluster = np.where(a.kind == FOCUS, batch.clusters.id[rows, slots[rows, q]], -1)
        return a


__all__ = ["CELL_COVER", "BatchView"]
