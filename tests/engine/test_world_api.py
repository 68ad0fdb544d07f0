"""The world's public views: tables, edges, step results."""

from __future__ import annotations

import numpy as np

from scythe_desktop.core.layout import DELTA_DTYPE, EDGE_DTYPE, NODE_DTYPE
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.clusters import CLUSTER_DTYPE, ClusterState
from scythe_desktop.engine.observers import OBSERVER_DTYPE
from scythe_desktop.engine.world import World


def test_step_result_carries_core_layout_buffers_and_scalar_metrics() -> None:
    world = World("tutorial", seed=1)
    world.apply(Deploy(-75.0, 40.0))
    res = world.step()
    assert res.tick == world.tick == 1
    assert res.nodes.dtype == NODE_DTYPE and res.nodes.shape[1] == 6 and res.nodes.flags.c_contiguous
    assert not res.nodes.flags.writeable
    assert res.delta.dtype == DELTA_DTYPE
    assert res.entropy_total == res.info["entropy_total"] > 0
    assert all(isinstance(v, float) for v in res.info.values())
    assert {"cost_per_hour", "coverage_mean", "entropy_drop", "reward"} <= set(res.info)
    intensity, threat = res.nodes[:, 3], res.nodes[:, 4]
    assert (intensity >= 0).all() and (intensity <= 1).all() and (threat >= 0).all() and (threat <= 2).all()


def test_tables_have_their_documented_dtypes() -> None:
    world = World("tutorial", seed=2)
    world.apply(Deploy(-75.0, 40.0))
    world.step()
    clusters, observers = world.clusters, world.observers
    assert clusters.dtype == CLUSTER_DTYPE and observers.dtype == OBSERVER_DTYPE
    assert set(np.unique(clusters["state"])) <= {int(s) for s in ClusterState}
    assert observers["focus_cluster"][0] == -1
    assert observers["coverage_radius_km"][0] == 900.0 and observers["cost_per_hour"][0] == 2.0
    assert world.scenario.regions[observers["region"][0]].name == "north_america_east"
    assert observers["load"][0] > 0  # it watches at least one cluster's nodes
    assert world.node_cluster().dtype == np.int32
    assert world.node_cluster().shape[0] == world.nodes.shape[0]


def test_edges_link_nearby_nodes_of_the_same_cluster() -> None:
    world = World("tutorial", seed=3)
    edges = world.edges(k=3)
    nodes = np.array(world.nodes)
    cluster = world.node_cluster()
    assert edges.dtype == EDGE_DTYPE and edges.size >= nodes.shape[0]
    assert (edges["src"] < edges["dst"]).all() and (edges["dst"] < nodes.shape[0]).all()
    assert (cluster[edges["src"]] == cluster[edges["dst"]]).all()
    assert np.unique(edges[["src", "dst"]]).size == edges.size
    assert ((edges["confidence"] >= 0) & (edges["confidence"] <= 1)).all()
    length = np.linalg.norm(nodes[edges["src"], :3] - nodes[edges["dst"], :3], axis=1)
    assert np.median(length) < 0.02  # a few tens of km on a unit sphere


def test_budget_and_observer_ids_follow_actions() -> None:
    world = World("tutorial", seed=4)
    a = world.apply(Deploy(-75.0, 40.0)).observer_id
    b = world.apply(Deploy(5.0, 45.0)).observer_id
    assert (a, b) == (0, 1) and world.budget_used_per_hour == 4.0
    assert world.seed == 4 and world.scenario.name == "tutorial"
