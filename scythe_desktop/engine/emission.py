"""Node emission of one world: the keyframe node buffer built from its clusters, and each tick's delta frame.

:func:`materialise` builds the (N, 6) buffer from the cluster rows (ids equal rows, as a keyframe): each
cluster's nodes come from its own ``node_seed``, so this touches no random stream. :func:`emit` turns one
tick's cluster events plus a random flicker into one delta frame and applies it to the store, which keeps
the :class:`~scythe_desktop.core.swarm.NodeSwarm` contract bit for bit. Node motion draws from the world's
own ``numpy`` generator: emission is per world and never part of the batched hot path. Knows nothing of
belief, observers or policies.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.clusters import GHOST, STATE_INTENSITY, STATE_THREAT
from scythe_desktop.engine.geo import EARTH_RADIUS_KM
from scythe_desktop.engine.nodes import META_DTYPE, NodeStore, node_meta, node_values, threat_values
from scythe_desktop.engine.world_rows import ClusterRows

_NO_IDS: Final = np.zeros(0, dtype=np.int64)


def slot_of(cl: ClusterRows, next_id: int) -> NDArray[np.int64]:
    """Row of each cluster id (-1 for ids not tracked)."""
    slot = np.full(max(next_id, int(cl.id.max(initial=-1)) + 1), -1, dtype=np.int64)
    slot[cl.id] = np.arange(len(cl))
    return slot


def materialise(cl: ClusterRows) -> NodeStore:
    """The node store of a keyframe for the current cluster rows."""
    live = np.flatnonzero(cl.state != GHOST)
    counts = cl.node_count[live]
    metas = [
        node_meta(np.random.default_rng(int(cl.node_seed[i])), np.full(int(cl.node_count[i]), cl.spread_km[i]))
        for i in live
    ]
    meta = np.concatenate(metas) if metas else np.zeros(0, dtype=META_DTYPE)
    slot = np.repeat(live, counts)
    nodes = np.zeros((meta.shape[0], 6), dtype=np.float32)
    nodes[:, :4] = node_values(meta, cl.lon[slot], cl.lat[slot], STATE_INTENSITY[cl.state[slot]])
    nodes[:, 4:] = threat_values(meta, STATE_THREAT[cl.state[slot]])
    return NodeStore(nodes, meta, cl.id[slot])


def emit(
    store: NodeStore,
    cl: ClusterRows,
    next_id: int,
    events: dict[str, NDArray[np.int64]],
    flicker_fraction: float,
    rng: np.random.Generator,
) -> NDArray[np.void]:
    """One delta frame from this tick's events plus node flicker (applied to ``store`` too).

    One O(N) pass finds the rows of every cluster an event touched; everything else is O(changed).
    """
    slot = slot_of(cl, next_id)
    n = len(store)
    changed = np.concatenate([events["quiet"], events["activating"], events["active"], events["cascade"]])
    touched = np.concatenate([events["vanished"], events["resized"], changed, events["shifted"]])
    if touched.size:
        rows = np.flatnonzero(np.isin(store.cluster, touched))
        owner = store.cluster[rows]
    else:
        rows = owner = _NO_IDS

    # Removals: every node of a vanished cluster, and the surplus of shrunk clusters.
    remove = [rows[np.isin(owner, events["vanished"])]]
    spawned = events["spawned"]
    grow_ids: list[np.ndarray] = [spawned]
    grow_counts: list[np.ndarray] = [cl.node_count[slot[spawned]]]
    for cid in events["resized"].tolist():
        mine = rows[owner == cid]
        want = int(cl.node_count[slot[cid]])
        if want < mine.size:
            remove.append(mine[want:])
        elif want > mine.size:
            grow_ids.append(np.array([cid]))
            grow_counts.append(np.array([want - mine.size]))
    # Row sets are kept as masks over the buffer: O(N) bytes but no sorting or hashing.
    keep = np.ones(n, dtype=bool)
    for r in remove:
        keep[r] = False
    rem_rows = np.flatnonzero(~keep) if len(remove) > 1 or remove[0].size else _NO_IDS

    # Updates: all nodes of clusters that moved or changed state, plus a random flicker subset.
    k = round(flicker_fraction * n)
    is_flicker = np.zeros(n, dtype=bool)
    if k:
        is_flicker[rng.integers(0, n, k)] = True
    mark = is_flicker.copy()
    mark[rows[np.isin(owner, np.concatenate([changed, events["shifted"]]))]] = True
    mark &= keep
    upd_rows = np.flatnonzero(mark)
    s = slot[store.cluster[upd_rows]]
    level = STATE_INTENSITY[cl.state[s]]
    jitter = None
    if k:
        noise = rng.standard_normal((3, upd_rows.size)) * is_flicker[upd_rows]
        jitter = noise[:2] * (cl.spread_km[s] / EARTH_RADIUS_KM * 0.05)
        level = level * (1.0 + 0.25 * noise[2])
    target = node_values(store.meta[upd_rows], cl.lon[s], cl.lat[s], level, jitter)

    # Threat: nodes of clusters whose state changed, and nodes added by the previous frame.
    mark = store.pending_mask().copy()
    mark[rows[np.isin(owner, changed)]] = True
    mark &= keep
    thr_rows = np.flatnonzero(mark)
    thr = threat_values(store.meta[thr_rows], STATE_THREAT[cl.state[slot[store.cluster[thr_rows]]]])

    # Additions: new clusters' nodes and growth of grown clusters.
    add_cluster = np.repeat(np.concatenate(grow_ids), np.concatenate(grow_counts).astype(np.int64))
    add_slot = slot[add_cluster]
    add_meta = node_meta(rng, cl.spread_km[add_slot])
    add_vals = node_values(add_meta, cl.lon[add_slot], cl.lat[add_slot], STATE_INTENSITY[cl.state[add_slot]])
    return store.emit(upd_rows, target, thr_rows, thr, rem_rows, add_vals, add_meta, add_cluster)


__all__ = ["emit", "materialise", "slot_of"]
