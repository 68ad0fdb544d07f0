"""Per-cluster LOD in the live view: membership stays in step with the swarm; FIELD_ONLY clusters draw a
centroid instead of their nodes; thresholds switch tiers at once (pixels read back under Xvfb)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.console.model.cluster_lod import ClusterMembership, edge_selection, lod_layout
from scythe_desktop.console.model.mailbox import FrameMailbox
from scythe_desktop.core.frames import FrameKind, decode, encode_delta, encode_membership
from scythe_desktop.core.layout import (
    DELTA_DTYPE,
    EDGE_DTYPE,
    MEMBERSHIP_DTYPE,
    DeltaOp,
    lonlat_to_unit,
    make_node_buffer,
)
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.render.lod import LodThresholds, LodTier, lod_tiers


def _pairs(ids: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    m = np.zeros(len(ids), dtype=MEMBERSHIP_DTYPE)
    m["node"], m["cluster"] = ids, clusters
    return m


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 12))
def test_membership_stays_in_step_with_the_swarm_across_random_deltas(seed: int, n: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    swarm = NodeSwarm(make_node_buffer(rng.uniform(-90, 90, n), rng.uniform(-45, 45, n)))
    truth = {i: int(c) for i, c in enumerate(rng.integers(0, 5, n))}  # the sender's id -> cluster
    membership = ClusterMembership()
    first = _pairs(np.arange(n), np.array(list(truth.values())))
    assert membership.apply(decode(encode_membership(first, 1)).data, swarm.next_id) == 0
    for _ in range(steps):
        ids = swarm.ids
        removed = rng.choice(ids, size=min(len(ids), int(rng.integers(0, 4))), replace=False)
        adds = int(rng.integers(0, 4))
        delta = np.zeros(len(removed) + adds, DELTA_DTYPE)
        delta["node"][: len(removed)], delta["op"][: len(removed)] = removed, DeltaOp.REMOVE
        delta["node"][len(removed):] = np.arange(swarm.next_id, swarm.next_id + adds)
        delta["op"][len(removed):] = DeltaOp.ADD
        xyz = lonlat_to_unit(rng.uniform(-90, 90, adds), rng.uniform(-45, 45, adds))
        delta["dx"][len(removed):], delta["dy"][len(removed):], delta["dz"][len(removed):] = xyz.T
        new_ids = np.arange(swarm.next_id, swarm.next_id + adds)
        swarm.apply_delta(decode(encode_delta(delta, 2)).data)
        for i in removed.tolist():
            del truth[i]
        # The sender names added ids and a few reassigned survivors.
        alive = np.array(sorted(truth), dtype=np.int64)
        moved = rng.choice(alive, size=min(len(alive), int(rng.integers(0, 3))), replace=False)
        named = np.concatenate([new_ids, moved]).astype(np.int64)
        clusters = rng.integers(0, 5, len(named))
        truth.update(zip(named.tolist(), clusters.tolist(), strict=True))
        assert membership.apply(decode(encode_membership(_pairs(named, clusters), 3)).data, swarm.next_id) == 0
        assert membership.of_ids(swarm.ids).tolist() == [truth[i] for i in swarm.ids.tolist()]


def test_later_pairs_win_unknown_ids_read_minus_one_and_ids_past_the_swarm_are_ignored() -> None:
    membership = ClusterMembership()
    assert membership.apply(_pairs(np.array([3, 1, 3]), np.array([7, 2, 9])), id_limit=10) == 0
    assert membership.of_ids(np.array([0, 1, 3, 40])).tolist() == [-1, 2, 9, -1]
    # An id past the swarm's ids is ignored and counted, so a bad frame cannot make the array huge.
    assert membership.apply(_pairs(np.array([2, 2**32 - 1]), np.array([5, 5])), id_limit=10) == 1
    assert membership.of_ids(np.array([2, 2**32 - 1])).tolist() == [5, -1]
    with pytest.raises(ValueError, match="membership must have dtype"):
        membership.apply(np.zeros(2, dtype=DELTA_DTYPE), id_limit=10)


def test_layout_hides_field_only_clusters_and_keeps_unknown_rows() -> None:
    nodes = make_node_buffer(np.r_[np.full(8, 10.0), np.full(3, -40.0), 0.0], np.zeros(12))
    cluster = np.r_[np.zeros(8, np.int32), np.ones(3, np.int32), -1].astype(np.int32)
    layout = lod_layout(nodes, cluster, LodThresholds(instanced=2, volume=4, field_only=6))
    assert layout.tiers.tolist() == [LodTier.FIELD_ONLY, LodTier.INSTANCED]
    assert layout.rows is not None and layout.rows.tolist() == [8, 9, 10, 11]
    assert layout.marker_clusters.tolist() == [0]
    np.testing.assert_allclose(layout.marker_lonlat, [[10.0, 0.0]], atol=1e-6)
    everything = lod_layout(nodes, cluster, LodThresholds(instanced=2, volume=4, field_only=9))
    assert everything.rows is None and everything.marker_clusters.size == 0


def test_edges_follow_the_source_cluster_tier() -> None:
    nodes = make_node_buffer(np.zeros(9), np.zeros(9))
    cluster = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2], np.int32)  # 2, 4 and 3 nodes
    edges = np.zeros(6, EDGE_DTYPE)
    edges["src"] = [0, 2, 3, 4, 5, 6]
    edges["dst"] = [1, 3, 4, 5, 2, 7]
    edges["confidence"] = [0.1, 0.9, 0.2, 0.8, 0.3, 0.5]
    t = LodThresholds(instanced=3, volume=5, field_only=10, max_edges=2)
    layout = lod_layout(nodes, cluster, t)
    assert layout.tiers.tolist() == [LodTier.FULL, LodTier.INSTANCED, LodTier.INSTANCED]
    # FULL: every edge; INSTANCED: the 2 strongest of cluster 1 (0.9, 0.8) and cluster 2's only one
    assert edge_selection(edges, layout, t)["src"].tolist() == [0, 2, 4, 6]
    t = LodThresholds(instanced=3, volume=3, field_only=10, max_edges=2)
    layout = lod_layout(nodes, cluster, t)
    assert layout.tiers.tolist() == [LodTier.FULL, LodTier.VOLUME, LodTier.VOLUME]
    assert edge_selection(edges, layout, t)["src"].tolist() == [0]  # VOLUME clusters draw no edges


# ------------------------------------------------------------------------------------------------ GL

BIG, SMALL = 60, 40  # nodes of the cluster at lon -25 and of the one at lon +25


def _red(img: np.ndarray) -> np.ndarray:
    return (img[..., 0] > 180) & (img[..., 1] < 90) & (img[..., 2] < 90)  # threat > 1.5 sprites


def _white(img: np.ndarray) -> np.ndarray:
    return img[..., :3].min(axis=-1) > 200


def _window(mask: np.ndarray, xy: np.ndarray, r: int = 14) -> int:
    x, y = round(float(xy[0])), round(float(xy[1]))
    return int(mask[max(0, y - r) : y + r, max(0, x - r) : x + r].sum())


@pytest.mark.gl
def test_a_field_only_cluster_draws_a_centroid_not_its_nodes_and_thresholds_switch_tiers(view: object) -> None:
    rng = np.random.default_rng(3)
    lon = np.r_[rng.uniform(-27, -23, BIG), rng.uniform(23, 27, SMALL)]
    lat = rng.uniform(-2, 2, BIG + SMALL)
    nodes = make_node_buffer(lon, lat, intensity=1.0, threat=2.0)
    cluster = np.r_[np.zeros(BIG), np.ones(SMALL)].astype(np.int32)
    view.set_lod_thresholds(LodThresholds(instanced=10, volume=20, field_only=50))  # type: ignore[attr-defined]
    box = FrameMailbox()
    edges = np.zeros(15, EDGE_DTYPE)  # 10 inside the big cluster, 5 inside the small one
    edges["src"] = np.r_[np.arange(10), BIG + np.arange(5)]
    edges["dst"] = edges["src"] + 1
    edges["confidence"] = np.linspace(0.1, 0.9, 15)
    box.put(FrameKind.KEYFRAME, 1, nodes)
    box.put(FrameKind.EDGES, 2, edges)
    box.put(FrameKind.MEMBERSHIP, 3, _pairs(np.arange(BIG + SMALL), cluster), base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert not report.problems
    assert view.lod.tiers.tolist() == [LodTier.FIELD_ONLY, LodTier.VOLUME]  # type: ignore[attr-defined]
    assert view.nodes.count == SMALL and view.centroids.count == 1  # type: ignore[attr-defined]
    assert view.edges.count == 0  # type: ignore[attr-defined]  # neither tier draws edges

    scene = view.scene  # type: ignore[attr-defined]
    scene.fly_to(0.0, 0.0)
    big, small = scene.world_to_canvas(view.nodes, lonlat_to_unit([-25.0, 25.0], [0.0, 0.0]))  # type: ignore[attr-defined]
    img = scene.render_offscreen()
    assert _window(_red(img), big) == 0  # the FIELD_ONLY cluster draws no node sprites ...
    assert _window(_white(img), big) > 5  # ... but its centroid ring
    assert _window(_red(img), small) > 20  # the VOLUME cluster draws its nodes
    assert _window(_white(img), small) < _window(_white(img), big)

    # A delta on a node of the drawn cluster uploads only its row of the drawn copy.
    delta = np.zeros(1, DELTA_DTYPE)
    delta["node"], delta["op"], delta["dx"] = BIG + 5, DeltaOp.UPDATE, 0.001
    box.put(FrameKind.DELTA, 3, delta, base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert report.upload == "partial"
    np.testing.assert_array_equal(view.nodes.nodes, view.swarm.nodes[BIG:])  # type: ignore[attr-defined]

    view.set_lod_thresholds(LodThresholds(instanced=10, volume=20, field_only=100))  # type: ignore[attr-defined]
    assert view.lod.tiers.tolist() == [LodTier.VOLUME, LodTier.VOLUME]  # type: ignore[attr-defined]
    assert view.nodes.count == BIG + SMALL and view.centroids.count == 0  # type: ignore[attr-defined]
    img = scene.render_offscreen()
    assert _window(_red(img), big) > 20 and _window(_red(img), small) > 20
    assert _window(_white(img), big) < 5

    view.set_lod_thresholds(LodThresholds(instanced=50, volume=100, field_only=200, max_edges=3))  # type: ignore[attr-defined]
    assert view.lod.tiers.tolist() == [LodTier.INSTANCED, LodTier.FULL]  # type: ignore[attr-defined]
    assert view.edges.count == 3 + 5  # type: ignore[attr-defined]  # the big one's 3 strongest, all the small one's


@pytest.mark.gl
def test_the_live_window_knows_every_rows_cluster_and_hides_a_field_only_one(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=None)
    globe = window.globe

    def every_row_placed() -> bool:
        return len(globe.swarm) > 0 and bool((globe.membership.of_ids(globe.swarm.ids) >= 0).all())

    qtbot.waitUntil(every_row_placed, timeout=30_000)
    counts = np.bincount(globe.membership.of_ids(globe.swarm.ids))
    biggest = int(np.argmax(counts))
    globe.set_lod_thresholds(LodThresholds(instanced=1, volume=1, field_only=int(counts.max())))
    assert globe.lod.tiers[biggest] == LodTier.FIELD_ONLY
    hidden = np.flatnonzero(globe.lod.cluster_of_row == biggest)
    assert globe.lod.rows is not None and not np.isin(hidden, globe.lod.rows).any()
    assert globe.centroids.count == int((globe.lod.tiers == LodTier.FIELD_ONLY).sum()) >= 1
    seq = window.last_seq
    qtbot.waitUntil(lambda: window.last_seq > seq and every_row_placed(), timeout=30_000)  # stays in step
    now = np.bincount(globe.membership.of_ids(globe.swarm.ids))
    assert globe.lod.tiers.tolist() == lod_tiers(now, globe.lod_thresholds).tolist()


@pytest.mark.gl
def test_membership_naming_ids_the_swarm_never_had_is_reported_not_stored(view: object) -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, make_node_buffer(np.zeros(3), np.zeros(3)))
    box.put(FrameKind.MEMBERSHIP, 2, _pairs(np.array([0, 1, 2, 4_000_000_000]), np.array([1, 1, 1, 2])), base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert report.problems == ["membership named 1 unknown node ids (at or past 3); ignored"]
    assert view.membership.of_ids(view.swarm.ids).tolist() == [1, 1, 1]  # type: ignore[attr-defined]


@pytest.mark.gl
def test_stored_thresholds_drive_the_globe_and_the_clusters_dock_tier(make_window: Any, qtbot: Any,
                                                                       settings_path: Any) -> None:
    from PySide6.QtCore import QSettings

    stored = QSettings(str(settings_path), QSettings.Format.IniFormat)
    for key, value in {"instanced": 5, "volume": 10, "field_only": 20, "max_edges": 7}.items():
        stored.setValue(f"lod/{key}", value)
    stored.sync()
    window = make_window(policy=None)
    expected = LodThresholds(instanced=5, volume=10, field_only=20, max_edges=7)
    assert window.globe.lod_thresholds == expected
    qtbot.waitUntil(lambda: window.snapshot is not None and len(window.snapshot.clusters) > 0, timeout=30_000)
    rows = window.snapshot.clusters
    assert rows["lod"].tolist() == lod_tiers(rows["node_count"], expected).tolist()  # the dock's tier column


@pytest.mark.gl
def test_bad_stored_thresholds_are_reported_and_defaults_used(make_window: Any, settings_path: Any) -> None:
    from PySide6.QtCore import QSettings

    stored = QSettings(str(settings_path), QSettings.Format.IniFormat)
    stored.setValue("lod/volume", 5)  # below instanced (100): not a valid ordering
    stored.sync()
    window = make_window(policy=None, start=False)
    assert window.globe.lod_thresholds == LodThresholds()
    assert "stored LOD thresholds ignored" in window.statusBar().currentMessage()
