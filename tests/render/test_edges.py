"""Edges are drawn between node rows with confidence as alpha."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import EDGE_DTYPE, make_node_buffer

pytestmark = pytest.mark.gl


def _edges(pairs: list[tuple[int, int]], confidence: list[float]) -> np.ndarray:
    edges = np.zeros(len(pairs), EDGE_DTYPE)
    edges["src"], edges["dst"] = np.array(pairs).T
    edges["confidence"] = confidence
    return edges


def test_confident_edges_are_brighter_than_doubtful_ones(globe_scene):
    from scythe_desktop.render.edges import Edges

    nodes = make_node_buffer([-20, 20, -20, 20], [10, 10, -10, -10])
    edges = Edges(globe_scene.root, rgb=(1.0, 1.0, 1.0), min_alpha=0.0)
    edges.set_edges(nodes, _edges([(0, 1), (2, 3)], [1.0, 0.25]))
    globe_scene.fly_to(0, 0)
    img = globe_scene.render_offscreen()
    xy = globe_scene.world_to_canvas(edges.line, nodes[:, :3])
    top_row, bottom_row = round(xy[0, 1] - 0.5), round(xy[2, 1] - 0.5)
    # Brightest pixel near each line's middle (a 1-pixel line may fall on either of two rows).
    top = img[top_row - 1 : top_row + 2, 95:105, 0].max()
    bottom = img[bottom_row - 1 : bottom_row + 2, 95:105, 0].max()
    assert top > 240
    assert 40 < bottom < 90  # 0.25 of white over black


def test_edges_to_missing_rows_are_rejected_naming_the_edge(globe_scene):
    from scythe_desktop.render.edges import Edges

    edges = Edges(globe_scene.root)
    with pytest.raises(ValueError, match=r"edge 1 joins rows 1->5, but the cluster has 2 nodes"):
        edges.set_edges(make_node_buffer([0, 1], [0, 1]), _edges([(0, 1), (1, 5)], [1.0, 1.0]))
    edges.set_edges(make_node_buffer([0, 1], [0, 1]), np.zeros(0, EDGE_DTYPE))
    assert edges.count == 0 and not edges.visible
