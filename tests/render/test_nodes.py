"""The instanced node visual: pixels, colours, deltas and partial uploads, read back from the framebuffer."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import DELTA_DTYPE, DeltaOp, make_node_buffer
from scythe_desktop.core.swarm import NodeSwarm

pytestmark = pytest.mark.gl


def rgba(color: tuple[float, float, float, float]) -> np.ndarray:
    """A shader colour as the 8-bit RGBA the framebuffer returns."""
    return np.round(np.asarray(color) * 255).astype(np.int16)


def _pixel(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    return img[round(xy[1] - 0.5), round(xy[0] - 0.5)].astype(np.int16)


def _near(a: np.ndarray, b: np.ndarray, tol: int = 3) -> bool:
    return bool(np.abs(a.astype(np.int16) - b.astype(np.int16)).max() <= tol)


def test_known_nodes_appear_at_expected_pixels_with_threat_colours(globe_scene):
    from scythe_desktop.render.nodes import THREAT_HIGH_RGBA, THREAT_LOW_RGBA, THREAT_MEDIUM_RGBA, Nodes

    nodes = make_node_buffer([20, 30, 10], [-5, 5, 8], intensity=1.0, threat=[0.2, 1.0, 1.9])
    visual = Nodes(nodes, parent=globe_scene.root)
    globe_scene.fly_to(20, -5)
    img = globe_scene.render_offscreen()
    assert img.shape == (160, 200, 4)

    # The node the camera looks at is drawn at the centre of the canvas.
    assert _near(img[80, 100], rgba(THREAT_LOW_RGBA))
    expected = globe_scene.world_to_canvas(visual, nodes[:, :3])
    assert np.allclose(expected[0], (100, 80), atol=0.5)
    for xy, colour in zip(expected, (THREAT_LOW_RGBA, THREAT_MEDIUM_RGBA, THREAT_HIGH_RGBA), strict=True):
        assert _near(_pixel(img, xy), rgba(colour)), (xy, _pixel(img, xy), colour)
    # Intensity 1 gives a 5.5-pixel sprite: pixels 5 away from a node are background.
    assert (_pixel(img, expected[1] + (5, 0))[:3] == 0).all()
    # Only the three sprites are drawn: about three discs of diameter 5.5.
    lit = int((img[..., :3].max(axis=-1) > 0).sum())
    assert 3 * 12 <= lit <= 3 * 36


def test_sprite_size_follows_intensity(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    small = make_node_buffer([0], [0], intensity=0.0)
    Nodes(small, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    area_small = int((globe_scene.render_offscreen()[..., :3].max(axis=-1) > 0).sum())

    big = make_node_buffer([0], [0], intensity=1.0, size=4.0)  # 1.5 + 4 + 4 = 9.5 pixels across
    Nodes(big, parent=globe_scene.root)
    area_big = int((globe_scene.render_offscreen()[..., :3].max(axis=-1) > 0).sum())
    assert 1 <= area_small <= 4
    assert 50 <= area_big <= 100


def _move_delta(node_id: int, d_xyz: np.ndarray) -> np.ndarray:
    delta = np.zeros(1, DELTA_DTYPE)
    delta["node"], delta["op"] = node_id, DeltaOp.UPDATE
    delta["dx"], delta["dy"], delta["dz"] = d_xyz
    return delta


def test_delta_moves_node_on_screen(globe_scene):
    from scythe_desktop.render.nodes import THREAT_HIGH_RGBA, Nodes

    swarm = NodeSwarm(make_node_buffer(np.linspace(-40, 40, 5), 0.0, intensity=0.6, threat=0.0))
    swarm.apply_delta(_thr_delta(2, 2.0))
    visual = Nodes(swarm.nodes, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    before = globe_scene.render_offscreen()
    old_xy = globe_scene.world_to_canvas(visual, swarm.nodes[2:3, :3])[0]
    assert _near(_pixel(before, old_xy), rgba(THREAT_HIGH_RGBA))

    target = make_node_buffer([3.0], [12.0])[0, :3]
    rows = swarm.apply_delta(_move_delta(2, target - swarm.nodes[2, :3]))
    assert rows.tolist() == [2]
    assert visual.update_rows(swarm.nodes, rows) == "partial"
    after = globe_scene.render_offscreen()
    new_xy = globe_scene.world_to_canvas(visual, swarm.nodes[2:3, :3])[0]
    assert np.linalg.norm(new_xy - old_xy) > 10
    assert _near(_pixel(after, new_xy), rgba(THREAT_HIGH_RGBA))
    assert not _near(_pixel(after, old_xy), rgba(THREAT_HIGH_RGBA))


def _thr_delta(node_id: int, threat: float) -> np.ndarray:
    delta = np.zeros(1, DELTA_DTYPE)
    delta["node"], delta["op"], delta["dx"] = node_id, DeltaOp.THREAT, threat
    return delta


def _random_delta(rng: np.random.Generator, swarm: NodeSwarm, clustered: bool) -> np.ndarray:
    n = len(swarm)
    if clustered:
        start = int(rng.integers(0, n - 40))
        rows = np.unique(np.concatenate([np.arange(start, start + 30), rng.integers(0, n, 3)]))
    else:
        rows = np.unique(rng.integers(0, n, n // 2))
    ids = swarm.ids[rows]
    delta = np.zeros(rows.size, DELTA_DTYPE)
    delta["node"], delta["op"] = ids, DeltaOp.UPDATE
    delta["dx"] = rng.normal(0, 0.01, rows.size)
    delta["dy"] = rng.normal(0, 0.01, rows.size)
    return delta


def test_partial_uploads_render_the_same_as_a_full_upload(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    rng = np.random.default_rng(7)
    n = 2000
    swarm = NodeSwarm(
        make_node_buffer(
            rng.uniform(-40, 40, n),
            rng.uniform(-30, 30, n),
            intensity=rng.uniform(0, 1, n),
            threat=rng.uniform(0, 2, n),
        )
    )
    visual = Nodes(swarm.nodes, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    kinds = []
    for step in range(6):
        rows = swarm.apply_delta(_random_delta(rng, swarm, clustered=step % 3 != 2))
        kinds.append(visual.update_rows(swarm.nodes, rows))
        globe_scene.render_offscreen()  # each delta is uploaded by its own draw, as in the app
    assert "partial" in kinds and "full" in kinds
    incremental = globe_scene.render_offscreen()
    visual.set_nodes(swarm.nodes.copy())
    reference = globe_scene.render_offscreen()
    assert (incremental[..., :3].max(axis=-1) > 0).sum() > 500
    np.testing.assert_array_equal(incremental, reference)


def test_visible_range_draws_only_those_rows(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    nodes = make_node_buffer([-10, 0, 10], 0.0, intensity=1.0)
    visual = Nodes(nodes, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    xy = globe_scene.world_to_canvas(visual, nodes[:, :3])
    visual.set_visible_range(1, 2)
    img = globe_scene.render_offscreen()
    lit = [bool(_pixel(img, p)[:3].max() > 0) for p in xy]
    assert lit == [False, True, False]
    visual.set_visible_range(0, 3)
    img = globe_scene.render_offscreen()
    assert all(_pixel(img, p)[:3].max() > 0 for p in xy)
    with pytest.raises(ValueError, match="visible range"):
        visual.set_visible_range(2, 4)


def test_bad_buffers_are_rejected_with_a_clear_error(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    visual = Nodes(make_node_buffer([0, 1], [0, 1]), parent=globe_scene.root)
    with pytest.raises(ValueError, match="float32"):
        visual.set_nodes(np.zeros((3, 6), dtype=np.float64))
    with pytest.raises(ValueError, match=r"shape \(N, 6\)"):
        visual.set_nodes(np.zeros((3, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="rows must lie in"):
        visual.update_rows(visual.nodes, np.array([5]))
