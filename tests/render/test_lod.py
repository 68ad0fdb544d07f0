"""LOD tiers switch exactly at the configured node counts (pure numpy, no display)."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import EDGE_DTYPE, make_node_buffer
from scythe_desktop.render.lod import (
    LodThresholds,
    LodTier,
    cluster_centroid,
    lod_plan,
    lod_tiers,
    strongest_edges,
)


def test_default_tiers_switch_at_100_300_and_700_nodes():
    counts = [0, 99, 100, 299, 300, 699, 700, 10**6]
    expected = [LodTier.FULL, LodTier.FULL, LodTier.INSTANCED, LodTier.INSTANCED]
    expected += [LodTier.VOLUME, LodTier.VOLUME, LodTier.FIELD_ONLY, LodTier.FIELD_ONLY]
    assert lod_tiers(counts).tolist() == [int(t) for t in expected]


def test_thresholds_are_configurable():
    t = LodThresholds(instanced=10, volume=20, field_only=30)
    assert lod_tiers([9, 10, 19, 20, 29, 30], t).tolist() == [0, 1, 1, 2, 2, 3]


def test_each_tier_draws_what_the_seed_specifies():
    full, inst, vol, field = (lod_plan(n) for n in (50, 150, 500, 900))
    assert (full.draw_nodes, full.draw_edges, full.edge_limit, full.draw_field) == (True, True, None, False)
    assert (inst.draw_nodes, inst.draw_edges, inst.edge_limit, inst.draw_field) == (True, True, 256, False)
    assert (vol.draw_nodes, vol.draw_edges, vol.draw_field, vol.draw_centroid) == (True, False, True, False)
    assert (field.draw_nodes, field.draw_edges, field.draw_field, field.draw_centroid) == (False, False, True, True)


def test_inconsistent_thresholds_are_rejected_naming_them():
    with pytest.raises(ValueError, match="instanced=300"):
        LodThresholds(instanced=300, volume=200)
    with pytest.raises(ValueError, match="node counts"):
        lod_tiers([-1])


def test_limited_edges_keep_the_highest_confidence_ones_in_order():
    edges = np.zeros(6, EDGE_DTYPE)
    edges["src"] = np.arange(6)
    edges["confidence"] = [0.1, 0.9, 0.5, 0.95, 0.2, 0.6]
    kept = strongest_edges(edges, 3)
    assert kept["src"].tolist() == [1, 3, 5]
    assert strongest_edges(edges, None) is edges
    assert strongest_edges(edges, 0).size == 0


def test_centroid_of_a_regional_cluster_is_its_middle():
    nodes = make_node_buffer([10, 20, 30], [40, 50, 60])
    lon, lat = cluster_centroid(nodes)
    assert 15 < lon < 25 and 45 < lat < 55
