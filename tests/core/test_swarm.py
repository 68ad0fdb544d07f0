"""NodeSwarm: vectorised delta application equals the per-node reference, atomically, with stable ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.core.frames import FrameError, decode, encode_delta
from scythe_desktop.core.layout import DeltaOp, empty_deltas, make_node_buffer
from scythe_desktop.core.swarm import NodeSwarm, changed_runs
from tests.core.reference import ReferenceSwarm


def initial(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_node_buffer(rng.uniform(-180, 180, n), rng.uniform(-90, 90, n), 0.0,
                            rng.uniform(0.2, 0.8, n), rng.uniform(0, 2, n), 1.0)


def random_delta(rng: np.random.Generator, swarm: NodeSwarm) -> np.ndarray:
    """A valid delta touching a random subset of live ids: updates, threat changes, removals, additions."""
    live, next_id = swarm.ids.copy(), swarm.next_id
    rng.shuffle(live)
    k_upd, k_thr, k_rem = (int(rng.integers(0, max(1, live.size // 3) + 1)) for _ in range(3))
    upd, thr = live[:k_upd], live[k_upd : k_upd + k_thr]
    rem = live[k_upd + k_thr : k_upd + k_thr + k_rem]
    k_add = int(rng.integers(0, 6))
    d = empty_deltas(upd.size + thr.size + rem.size + k_add)
    d["node"] = np.concatenate([upd, thr, rem, np.arange(next_id, next_id + k_add)])
    d["op"] = np.repeat([DeltaOp.UPDATE, DeltaOp.THREAT, DeltaOp.REMOVE, DeltaOp.ADD],
                        [upd.size, thr.size, rem.size, k_add])
    s = slice(0, upd.size)
    d["dx"][s], d["dy"][s], d["dz"][s] = (rng.normal(0, 1e-3, upd.size) for _ in range(3))
    current = swarm.nodes[swarm.rows_of(upd), 3] if upd.size else np.zeros(0, np.float32)
    d["dintensity"][s] = np.clip(current + rng.uniform(-0.05, 0.05, upd.size), 0.1, 0.9) - current
    s = slice(upd.size, upd.size + thr.size)
    d["dx"][s] = rng.uniform(0, 2, thr.size)
    d["dy"][s] = rng.uniform(0, 5, thr.size)
    s = slice(d.size - k_add, d.size)
    d["dx"][s], d["dy"][s], d["dz"][s] = (rng.uniform(-1, 1, k_add) for _ in range(3))
    d["dintensity"][s] = rng.uniform(0, 1, k_add)
    order = rng.permutation(d.size - k_add)  # ADDs keep their order; the rest may come in any order
    d[: d.size - k_add] = d[: d.size - k_add][order]
    return d


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300), st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_applying_deltas_equals_the_per_node_reference(n: int, seed: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    nodes = initial(n, seed)
    swarm, reference = NodeSwarm(nodes), ReferenceSwarm(nodes)
    for _ in range(steps):
        before = swarm.nodes.copy()
        d = random_delta(rng, swarm)
        changed = swarm.apply_delta(decode(encode_delta(d, 1)).data)
        reference.apply_delta(d)
        assert np.array_equal(swarm.nodes, reference.nodes())
        assert swarm.ids.tolist() == reference.ids
        # every row whose bytes differ is reported as changed
        common = min(before.shape[0], swarm.nodes.shape[0])
        differs = np.flatnonzero((before[:common] != swarm.nodes[:common]).any(axis=1))
        assert set(differs.tolist()) <= set(changed.tolist())
        assert set(range(common, swarm.nodes.shape[0])) <= set(changed.tolist())


def test_remove_keeps_the_buffer_dense_and_ids_stable() -> None:
    swarm = NodeSwarm(initial(6, 0))
    d = empty_deltas(2)
    d["node"] = [1, 4]
    d["op"] = DeltaOp.REMOVE
    changed = swarm.apply_delta(d)
    assert len(swarm) == 4
    assert swarm.ids.tolist() == [0, 5, 2, 3]  # row 1 took the last surviving row (id 5)
    assert changed.tolist() == [1]
    assert swarm.rows_of(np.array([5, 3])).tolist() == [1, 3]


def test_add_must_use_the_next_id_and_ids_are_never_reused() -> None:
    swarm = NodeSwarm(initial(3, 0))
    d = empty_deltas(1)
    d["node"], d["op"] = 2, DeltaOp.REMOVE
    swarm.apply_delta(d)
    d = empty_deltas(1)
    d["node"], d["op"], d["dintensity"] = 2, DeltaOp.ADD, 0.5
    with pytest.raises(FrameError, match="ADD must use the next id 3, got node id 2"):
        swarm.apply_delta(d)
    d["node"] = 3
    assert swarm.apply_delta(d).tolist() == [2]
    assert swarm.ids.tolist() == [0, 1, 3]


@pytest.mark.parametrize(
    ("node", "op", "values", "message"),
    [
        (99, DeltaOp.UPDATE, (0, 0, 0, 0), "unknown node id 99"),
        (1, DeltaOp.UPDATE, (0, 0, 0, 5.0), "intensity out of range"),
        (1, DeltaOp.THREAT, (3.0, 0, 0, 0), "threat out of range"),
        (1, DeltaOp.THREAT, (1.0, 0, 0.5, 0), "dz and dintensity must be 0"),
        (1, DeltaOp.REMOVE, (1.0, 0, 0, 0), "REMOVE deltas must carry zero values"),
    ],
)
def test_bad_delta_is_refused_and_changes_nothing(
    node: int, op: DeltaOp, values: tuple[float, ...], message: str
) -> None:
    swarm = NodeSwarm(initial(4, 1))
    good = empty_deltas(1)
    good["node"], good["op"], good["dx"] = 0, DeltaOp.UPDATE, 0.5
    d = np.concatenate([good, empty_deltas(1)])
    d["node"][1], d["op"][1] = node, op
    d["dx"][1], d["dy"][1], d["dz"][1], d["dintensity"][1] = values
    before = swarm.nodes.copy()
    with pytest.raises(FrameError, match=message):
        swarm.apply_delta(d)
    assert np.array_equal(swarm.nodes, before)


def test_duplicate_update_in_one_delta_is_refused() -> None:
    swarm = NodeSwarm(initial(4, 1))
    d = empty_deltas(2)
    d["node"] = [2, 2]
    with pytest.raises(FrameError, match="node id 2 appears twice as UPDATE"):
        swarm.apply_delta(d)


def test_changed_runs_groups_contiguous_rows() -> None:
    assert changed_runs(np.array([], dtype=np.int64)) == []
    assert changed_runs(np.array([0, 1, 2, 5, 7, 8])) == [(0, 3), (5, 6), (7, 9)]
