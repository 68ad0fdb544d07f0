"""The world's delta frames drive a client NodeSwarm to the world's own buffer, bit for bit."""

from __future__ import annotations

import numpy as np

from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.world import World


def test_client_swarm_matches_world_bit_exactly_through_spawns_vanishes_and_resizes() -> None:
    world = World("tutorial", seed=3)
    world.apply(Deploy(-70.0, 40.0))
    swarm = NodeSwarm(world.nodes)  # the keyframe a client starts from: ids equal rows
    seen: set[str] = set()
    for _ in range(400):
        res = world.step()
        swarm.apply_delta(res.delta)
        assert np.array_equal(swarm.nodes, res.nodes)
        assert np.array_equal(swarm.ids, world.node_ids())
        seen.update(k for k, v in res.events.items() if v.size)
    # The run must have exercised node additions and removals, not just motion.
    assert {"spawned", "vanished", "resized"} <= seen


def test_node_cluster_rows_follow_swap_removes() -> None:
    world = World("tutorial", seed=5)
    for _ in range(200):
        world.step()
    cluster = world.node_cluster()
    table = world.clusters
    live = table[table["state"] != 3]
    ids, counts = np.unique(cluster, return_counts=True)
    assert dict(zip(ids.tolist(), counts.tolist(), strict=True)) == dict(
        zip(live["id"].tolist(), live["node_count"].tolist(), strict=True)
    )


def test_rekey_lets_a_late_client_start_from_a_keyframe_mid_run() -> None:
    world = World("tutorial", seed=4)
    for _ in range(150):
        world.step()
    swarm = NodeSwarm(world.rekey())
    for _ in range(150):
        swarm.apply_delta(world.step().delta)
    assert np.array_equal(swarm.nodes, world.nodes)


def test_regional_stream_stays_bit_exact_and_valid_for_a_client() -> None:
    world = World("regional", seed=8)
    swarm = NodeSwarm(world.nodes)
    kinds: set[str] = set()
    for _ in range(120):
        res = world.step()
        swarm.apply_delta(res.delta)  # validates every value the delta writes
        kinds.update(k for k, v in res.events.items() if v.size)
    assert np.array_equal(swarm.nodes, world.nodes)
    assert {"quiet", "activating", "resized"} <= kinds
