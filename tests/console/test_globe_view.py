"""GlobeView applies frame batches to the render layer: keyframe once, deltas as changed rows, edges, grids."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.console.model.mailbox import FrameMailbox
from scythe_desktop.core.frames import FrameKind
from scythe_desktop.core.layout import COL_X, DELTA_DTYPE, EDGE_DTYPE, DeltaOp, make_node_buffer

pytestmark = pytest.mark.gl


def nodes(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    return make_node_buffer(rng.uniform(-30, 30, n), rng.uniform(-30, 30, n), threat=rng.uniform(0, 2, n))


def test_a_keyframe_uploads_once_and_a_small_delta_only_its_rows(view: object) -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, nodes(2000))
    edges = np.zeros(3, EDGE_DTYPE)
    edges["src"], edges["dst"], edges["confidence"] = [0, 1, 2], [1, 2, 3], [0.9, 0.5, 0.1]
    box.put(FrameKind.EDGES, 2, edges)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert report.keyframe and report.upload == "full" and not report.problems
    assert view.nodes.count == 2000 and view.edges.count == 3  # type: ignore[attr-defined]
    delta = np.zeros(1, DELTA_DTYPE)
    delta["node"], delta["op"], delta["dx"] = 7, DeltaOp.UPDATE, 0.01
    before = view.swarm.nodes[7, COL_X]  # type: ignore[attr-defined]
    box.put(FrameKind.DELTA, 3, delta, base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert (report.deltas, report.rows, report.upload) == (1, 1, "partial")
    assert view.swarm.nodes[7, COL_X] == pytest.approx(before + 0.01)  # type: ignore[attr-defined]
    view.scene.draw_frame()  # type: ignore[attr-defined]


def test_a_delta_naming_an_unknown_node_is_reported_and_changes_nothing(view: object) -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, nodes(10))
    view.apply(box.take())  # type: ignore[attr-defined]
    snapshot = view.swarm.nodes.copy()  # type: ignore[attr-defined]
    delta = np.zeros(1, DELTA_DTYPE)
    delta["node"], delta["op"] = 99, DeltaOp.UPDATE
    box.put(FrameKind.DELTA, 2, delta, base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert report.problems and "unknown node id 99" in report.problems[0]
    np.testing.assert_array_equal(view.swarm.nodes, snapshot)  # type: ignore[attr-defined]


def test_the_uncertainty_grid_is_draped_north_up(view: object) -> None:
    grid = np.zeros((90, 180), np.float32)
    grid[:10] = 1.0  # engine and wire layout: row 0 is the north edge
    box = FrameMailbox()
    box.put(FrameKind.GRID, 1, grid)
    view.apply(box.take())  # type: ignore[attr-defined]
    assert view.grids.active == "uncertainty"  # type: ignore[attr-defined]
    shown, _ = view.grids._grids["uncertainty"]  # type: ignore[attr-defined]
    # Render takes the same layout (its GL test checks where the rows land), so nothing is flipped here.
    np.testing.assert_array_equal(shown, grid)


def test_a_draw_budget_draws_an_even_subsample_and_keeps_it_in_step_with_deltas(view: object) -> None:
    box = FrameMailbox()
    box.put(FrameKind.KEYFRAME, 1, nodes(1000))
    view.set_draw_budget(300)  # type: ignore[attr-defined]
    view.apply(box.take())  # type: ignore[attr-defined]
    k = view.draw_stride  # type: ignore[attr-defined]
    assert k == 4 and view.nodes.count == 250  # type: ignore[attr-defined]
    delta = np.zeros(2, DELTA_DTYPE)
    delta["node"], delta["op"], delta["dx"] = [8, 9], DeltaOp.UPDATE, 0.02
    box.put(FrameKind.DELTA, 2, delta, base_seq=1)
    report = view.apply(box.take())  # type: ignore[attr-defined]
    assert report.upload == "partial"
    np.testing.assert_array_equal(view.nodes.nodes, view.swarm.nodes[::k])  # type: ignore[attr-defined]
    removal = np.zeros(3, DELTA_DTYPE)
    removal["node"], removal["op"] = [0, 1, 2], DeltaOp.REMOVE
    box.put(FrameKind.DELTA, 3, removal, base_seq=2)
    view.apply(box.take())  # type: ignore[attr-defined]
    np.testing.assert_array_equal(view.nodes.nodes, view.swarm.nodes[:: view.draw_stride])  # type: ignore[attr-defined]
    view.set_draw_budget(None)  # type: ignore[attr-defined]
    assert view.draw_stride == 1 and view.nodes.count == len(view.swarm)  # type: ignore[attr-defined]
