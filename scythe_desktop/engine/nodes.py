"""The simulator's node swarm: a dense (N, 6) buffer in the core layout, per-row metadata, and the delta
frames that carry it from one tick to the next.

It keeps the exact id/row contract of :class:`scythe_desktop.core.swarm.NodeSwarm` (ids stable between
keyframes, ADD appends the next ids, REMOVE swap-removes the last rows into the holes) and applies each
delta it emits to itself with the same float32 arithmetic, so a client's ``NodeSwarm`` fed the same
frames holds a bit-identical buffer. Per-row metadata (owning cluster id, the node's fixed offset in the
cluster's tangent plane, its intensity/threat/size factors) moves with the rows. Each node sits at
``normalize(centre + east·u + north·v)`` of its cluster; intensity and threat follow the cluster's state.
This module knows nothing of belief, observers or fields.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.layout import DELTA_DTYPE, NODE_COLUMNS, NODE_DTYPE, DeltaOp
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, tangent_frames

#: A node's fixed traits: tangent-plane offset (radians) and intensity/threat/size factors.
META_DTYPE: Final = np.dtype([("u", "<f8"), ("v", "<f8"), ("intensity", "<f4"), ("threat", "<f4"), ("size", "<f4")])

#: Intensities are kept off the range ends so float32 additive updates never round out of [0, 1].
INTENSITY_LO: Final = 0.001
INTENSITY_HI: Final = 0.995
THREAT_HI: Final = 1.99


def node_meta(rng: np.random.Generator, spread_km: NDArray[np.float64]) -> NDArray[np.void]:
    """Traits of new nodes, one per entry of ``spread_km`` (the spread of the node's cluster)."""
    k = spread_km.shape[0]
    meta = np.zeros(k, dtype=META_DTYPE)
    # A 2-D Gaussian blob in the tangent plane, in radians of arc.
    off = rng.standard_normal((2, k)) * (spread_km / EARTH_RADIUS_KM * 0.5)
    meta["u"] = off[0]
    meta["v"] = off[1]
    f = rng.random((3, k))
    meta["intensity"] = 0.6 + 0.4 * f[0]
    meta["threat"] = 0.5 + 0.5 * f[1]
    meta["size"] = 0.5 + 1.5 * f[2] ** 2
    return meta


def node_values(
    meta: NDArray[np.void],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    level: NDArray[np.float64],
    jitter: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """Target (x, y, z, intensity) rows for nodes with the given metadata, their cluster's centroid and
    intensity level (all per node). ``jitter`` (2, k) adds a transient tangent-plane offset."""
    centre, east, north = tangent_frames(lon, lat)
    u, v = meta["u"], meta["v"]
    if jitter is not None:
        u = u + jitter[0]
        v = v + jitter[1]
    p = centre + east * u[:, None] + north * v[:, None]
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    out = np.empty((meta.shape[0], 4), dtype=np.float32)
    out[:, :3] = p
    out[:, 3] = np.clip(level * meta["intensity"], INTENSITY_LO, INTENSITY_HI)
    return out


def threat_values(meta: NDArray[np.void], threat_level: NDArray[np.float64]) -> NDArray[np.float32]:
    """(threat, size) rows for a THREAT delta."""
    out = np.empty((meta.shape[0], 2), dtype=np.float32)
    out[:, 0] = np.clip(threat_level * meta["threat"], 0.0, THREAT_HI)
    out[:, 1] = meta["size"]
    return out


class NodeStore:
    """A growable node buffer with stable ids, per-row traits and owning cluster, and delta emission.

    Row-aligned arrays: the (N, 6) buffer, node ids, traits (META_DTYPE), owning cluster id, and a flag
    for nodes added by the previous frame whose threat/size still has to be sent (an ADD carries no
    threat, and a THREAT delta may only touch nodes that existed before its frame).
    """

    def __init__(self, nodes: NDArray[np.float32], meta: NDArray[np.void], cluster: NDArray[np.int64]) -> None:
        self.keyframe(nodes, meta, cluster)

    def keyframe(self, nodes: NDArray[np.float32], meta: NDArray[np.void], cluster: NDArray[np.int64]) -> None:
        """Reset to these rows; ids become rows (the keyframe rule)."""
        n = nodes.shape[0]
        cap = n + n // 4 + 1024  # headroom so that growth rarely reallocates a million rows
        self._buf = np.zeros((cap, NODE_COLUMNS), dtype=NODE_DTYPE)
        self._buf[:n] = nodes
        self._meta = np.zeros(cap, dtype=META_DTYPE)
        self._meta[:n] = meta
        self._cluster = np.zeros(cap, dtype=np.int64)
        self._cluster[:n] = cluster
        self._pending = np.zeros(cap, dtype=bool)
        self._ids = np.zeros(cap, dtype=np.int64)
        self._ids[:n] = np.arange(n)
        self._n = n
        self.next_id = n

    def rekey(self) -> None:
        """Make ids equal rows again (call when a keyframe of :attr:`nodes` is sent to clients)."""
        self._ids[: self._n] = np.arange(self._n)
        self.next_id = self._n

    def __len__(self) -> int:
        return self._n

    @property
    def nodes(self) -> NDArray[np.float32]:
        return self._buf[: self._n]

    @property
    def meta(self) -> NDArray[np.void]:
        return self._meta[: self._n]

    @property
    def cluster(self) -> NDArray[np.int64]:
        """Owning cluster id of each row."""
        return self._cluster[: self._n]

    @property
    def ids(self) -> NDArray[np.int64]:
        return self._ids[: self._n]

    def pending_mask(self) -> NDArray[np.bool_]:
        """Which rows were added by the previous frame and still lack threat and size (a view)."""
        return self._pending[: self._n]

    # ------------------------------------------------------------------------------------- frames

    def emit(
        self,
        upd_rows: NDArray[np.int64],
        upd_target: NDArray[np.float32],
        thr_rows: NDArray[np.int64],
        thr_values: NDArray[np.float32],
        rem_rows: NDArray[np.int64],
        add_values: NDArray[np.float32],
        add_meta: NDArray[np.void],
        add_cluster: NDArray[np.int64],
    ) -> NDArray[np.void]:
        """Build one delta frame, apply it here exactly as ``NodeSwarm.apply_delta`` would, return it.

        Rows are unique within each group; update/threat rows refer to the buffer before the frame.
        """
        n_u, n_t, n_r, n_a = upd_rows.size, thr_rows.size, rem_rows.size, add_values.shape[0]
        delta = np.zeros(n_u + n_t + n_r + n_a, dtype=DELTA_DTYPE)
        vals = delta.view(np.float32).reshape(-1, 6)[:, 2:]  # dx, dy, dz, dintensity columns
        ops = delta["op"]
        node = delta["node"]
        ids = self._ids

        cur = self._buf[upd_rows, :4]
        step = (upd_target - cur).astype(np.float32)
        vals[:n_u] = step
        node[:n_u] = ids[upd_rows]
        ops[:n_u] = DeltaOp.UPDATE
        self._buf[upd_rows, :4] = cur + step  # the same float32 sum the client computes

        s = slice(n_u, n_u + n_t)
        vals[s, :2] = thr_values
        node[s] = ids[thr_rows]
        ops[s] = DeltaOp.THREAT
        self._buf[thr_rows, 4:6] = thr_values
        self._pending[: self._n] = False

        s = slice(n_u + n_t, n_u + n_t + n_r)
        node[s] = ids[rem_rows]
        ops[s] = DeltaOp.REMOVE
        self._swap_remove(rem_rows)

        s = slice(n_u + n_t + n_r, None)
        vals[s] = add_values
        node[s] = np.arange(self.next_id, self.next_id + n_a)
        ops[s] = DeltaOp.ADD
        self._append(add_values, add_meta, add_cluster)
        return delta

    def _swap_remove(self, rows: NDArray[np.int64]) -> None:
        if rows.size == 0:
            return
        new_n = self._n - rows.size
        holes = np.sort(rows[rows < new_n])
        fillers = np.setdiff1d(np.arange(new_n, self._n), rows, assume_unique=True)
        for a in (self._buf, self._meta, self._cluster, self._pending, self._ids):
            a[holes] = a[fillers]
        self._n = new_n

    def _append(self, values: NDArray[np.float32], meta: NDArray[np.void], cluster: NDArray[np.int64]) -> None:
        k = values.shape[0]
        if k == 0:
            return
        start, end = self._n, self._n + k
        if end > self._buf.shape[0]:
            cap = max(end, 2 * self._buf.shape[0], 1024)
            self._buf = _grown(self._buf, cap)
            self._meta = _grown(self._meta, cap)
            self._cluster = _grown(self._cluster, cap)
            self._pending = _grown(self._pending, cap)
            self._ids = _grown(self._ids, cap)
        self._buf[start:end, :4] = values
        self._buf[start:end, 4:] = 0.0
        self._meta[start:end] = meta
        self._cluster[start:end] = cluster
        self._pending[start:end] = True
        self._ids[start:end] = np.arange(self.next_id, self.next_id + k)
        self.next_id += k
        self._n = end

    # -------------------------------------------------------------------------------- persistence

    def state(self) -> dict[str, np.ndarray]:
        n = self._n
        return {
            "nodes": self.nodes.copy(),
            "meta": self.meta.copy(),
            "cluster": self.cluster.copy(),
            "pending": self._pending[:n].copy(),
            "ids": self.ids.copy(),
            "next_id": np.array(self.next_id, dtype=np.int64),
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> NodeStore:
        store = cls(state["nodes"], state["meta"], state["cluster"])
        n = len(store)
        store._ids[:n] = state["ids"]
        store._pending[:n] = state["pending"]
        store.next_id = int(state["next_id"])
        return store


def _grown(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.zeros((cap, *a.shape[1:]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


__all__ = ["META_DTYPE", "NodeStore", "node_meta", "node_values", "threat_values"]
