"""A cluster's visuals follow its LOD tier as its node count crosses the thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import DELTA_DTYPE, EDGE_DTYPE, DeltaOp, lonlat_to_unit, make_node_buffer
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.render.lod import LodThresholds, LodTier

pytestmark = pytest.mark.gl


def _cluster(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_node_buffer(rng.uniform(-5, 5, n), rng.uniform(-5, 5, n), intensity=0.5)


def _chain_edges(n: int) -> np.ndarray:
    edges = np.zeros(n - 1, EDGE_DTYPE)
    edges["src"], edges["dst"] = np.arange(n - 1), np.arange(1, n)
    edges["confidence"] = np.linspace(0, 1, n - 1)
    return edges


def test_visuals_follow_the_tier(globe_scene):
    from scythe_desktop.render.cluster import ClusterLayer

    layer = ClusterLayer(globe_scene.root, LodThresholds(instanced=10, volume=20, field_only=30, max_edges=4))
    layer.set_field(np.ones((4, 4, 4), np.float32))

    layer.set_snapshot(_cluster(8), _chain_edges(8))
    assert layer.plan.tier == LodTier.FULL
    assert layer.nodes.visible and layer.edges.visible and layer.edges.count == 7
    assert not layer.field.visible and not layer.centroid.visible

    layer.set_snapshot(_cluster(15), _chain_edges(15))
    assert layer.plan.tier == LodTier.INSTANCED and layer.edges.count == 4

    layer.set_snapshot(_cluster(25))
    assert layer.plan.tier == LodTier.VOLUME
    assert layer.nodes.visible and layer.field.visible and not layer.edges.visible

    layer.set_snapshot(_cluster(35))
    assert layer.plan.tier == LodTier.FIELD_ONLY
    assert not layer.nodes.visible and layer.field.visible and layer.centroid.visible


def test_a_delta_that_crosses_a_threshold_switches_the_tier_and_shows_the_centroid(globe_scene):
    from scythe_desktop.render.cluster import ClusterLayer

    layer = ClusterLayer(globe_scene.root, LodThresholds(instanced=10, volume=20, field_only=30))
    swarm = NodeSwarm(_cluster(29))
    layer.set_snapshot(swarm.nodes)
    assert layer.plan.tier == LodTier.VOLUME
    add = np.zeros(1, DELTA_DTYPE)
    add["node"], add["op"] = swarm.next_id, DeltaOp.ADD
    add["dx"], add["dy"], add["dz"] = lonlat_to_unit(0.0, 0.0)
    rows = swarm.apply_delta(add)
    assert layer.apply_rows(swarm.nodes, rows) == "full"  # the row count changed
    assert layer.plan.tier == LodTier.FIELD_ONLY

    globe_scene.fly_to(0, 0)
    img = globe_scene.render_offscreen()
    centre = globe_scene.world_to_canvas(layer.centroid, lonlat_to_unit([0.0], [0.0], 0.003))[0]
    assert np.allclose(centre, (100, 80), atol=8)  # the cluster straddles lon/lat 0
    white = img[60:100, 80:120, :3].min(axis=-1) > 200
    assert white.sum() > 10  # the white centroid ring is drawn ...
    cyan = (img[..., 0] < 50) & (img[..., 2] > 200)
    assert cyan.sum() == 0  # ... and the (cyan) nodes are not
