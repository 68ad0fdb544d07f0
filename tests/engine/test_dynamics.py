"""Each dynamic event is observable in a scripted scenario: quiet then a fading ghost, a cascade, an ASN
shift that moves a centroid, spawns and resizes that add and remove nodes."""

from __future__ import annotations

import itertools

import numpy as np

from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.clusters import ClusterState
from scythe_desktop.engine.geo import great_circle_km, unit_vectors
from scythe_desktop.engine.world import World
from tests.engine.scripted import STILL, scripted


def _row(world: World, cluster_id: int) -> np.void:
    table = world.clusters
    return table[table["id"] == cluster_id][0]


def test_cluster_goes_quiet_then_vanishes_and_its_ghost_fades_out_of_the_table() -> None:
    scenario = scripted(**{**STILL, "p_quiet": 1.0, "p_vanish": 1.0, "ghost_decay": 0.5, "ghost_min_confidence": 0.1})
    world = World(scenario, seed=1)
    swarm = NodeSwarm(world.nodes)
    active = world.clusters[world.clusters["state"] == ClusterState.ACTIVE]["id"]
    assert active.size
    cid = int(active[0])

    res = world.step()
    assert cid in res.events["quiet"]
    assert _row(world, cid)["state"] == ClusterState.QUIET
    swarm.apply_delta(res.delta)

    res = world.step()
    assert cid in res.events["vanished"]
    swarm.apply_delta(res.delta)
    ghost = _row(world, cid)
    assert ghost["state"] == ClusterState.GHOST and ghost["node_count"] == 0
    assert cid not in world.node_cluster()  # its nodes left the swarm...
    assert np.array_equal(swarm.nodes, world.nodes)
    assert ghost["believed_count"] > 1.0  # ...but the belief still remembers it

    confidences = [float(ghost["confidence"])]
    for _ in range(10):
        res = world.step()
        if cid in res.events["dropped"]:
            break
        confidences.append(float(_row(world, cid)["confidence"]))
    assert cid not in world.clusters["id"]
    assert all(b < a for a, b in itertools.pairwise(confidences))
    assert confidences[-1] >= 0.1 > confidences[-1] * 0.5


def test_activation_cascades_to_a_quiet_neighbour() -> None:
    scenario = scripted(**{**STILL, "p_quiet": 1.0, "p_activate": 0.3, "p_cascade": 1.0, "cascade_radius_km": 20000.0})
    world = World(scenario, seed=2)
    cascaded = None
    for _ in range(60):
        res = world.step()
        if res.events["cascade"].size:
            cascaded = int(res.events["cascade"][0])
            source = int(res.events["activating"][0])
            break
    assert cascaded is not None, "no cascade within 60 ticks"
    assert cascaded != source
    assert _row(world, cascaded)["state"] == ClusterState.ACTIVATING
    ticks = scenario.dynamics.activation_ticks
    became_active = []
    for _ in range(ticks):
        became_active.extend(world.step().events["active"].tolist())
    assert cascaded in became_active


def test_asn_shift_changes_the_asn_and_moves_centroid_and_nodes() -> None:
    scenario = scripted(**{**STILL, "p_asn_shift": 1.0, "asn_shift_km": 300.0})
    world = World(scenario, seed=3)
    before = world.clusters
    nodes_before = np.array(world.nodes)
    cluster_before = world.node_cluster()
    res = world.step()
    after = world.clusters
    assert set(res.events["shifted"].tolist()) == set(before["id"].tolist())
    assert (after["asn"] != before["asn"]).all()
    moved = great_circle_km(before["lon"], before["lat"], after["lon"], after["lat"])
    assert np.allclose(moved, 300.0, atol=1e-6)
    # Every node followed its centroid: the mean node position moved with it.
    cid = int(after["id"][0])
    old_mean = nodes_before[cluster_before == cid, :3].mean(axis=0)
    new_mean = np.array(world.nodes)[world.node_cluster() == cid, :3].mean(axis=0)
    target = unit_vectors(after["lon"][0], after["lat"][0])
    assert np.linalg.norm(new_mean / np.linalg.norm(new_mean) - target) < np.linalg.norm(
        old_mean / np.linalg.norm(old_mean) - target
    )


def test_spawn_adds_a_cluster_with_its_nodes_and_resize_changes_node_counts() -> None:
    scenario = scripted(**{**STILL, "spawn_rate": 5.0, "p_resize": 1.0, "resize_fraction": 0.2})
    world = World(scenario, seed=4)
    swarm = NodeSwarm(world.nodes)
    counts_before = dict(zip(world.clusters["id"].tolist(), world.clusters["node_count"].tolist(), strict=True))
    res = world.step()
    swarm.apply_delta(res.delta)
    assert np.array_equal(swarm.nodes, world.nodes)
    spawned = res.events["spawned"]
    assert spawned.size >= 1
    table = world.clusters
    for cid in spawned.tolist():
        row = table[table["id"] == cid][0]
        assert row["state"] == ClusterState.ACTIVATING
        assert np.count_nonzero(world.node_cluster() == cid) == row["node_count"] > 0
    for cid, before in counts_before.items():
        now = int(table[table["id"] == cid]["node_count"][0])
        assert now != before
        assert np.count_nonzero(world.node_cluster() == cid) == now
