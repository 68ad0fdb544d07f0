"""A long session must not grow the console's memory: counts of GL objects, scene nodes and rows stay bounded.

Deterministic counts, not RSS: after a warm-up cycle, many more keyframes, deltas (with ADD churn),
edges, grids, observer and proposal refreshes must leave the number of live VisPy GL objects (Python
side and the GL objects the GLIR parser holds in the driver), scene nodes and tracked Python objects
where they were; the decision history keeps at most its limit of rows.
"""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

import numpy as np
import pytest

from scythe_desktop.console.model.mailbox import FrameMailbox
from scythe_desktop.console.model.snapshots import OBSERVER_DTYPE
from scythe_desktop.core.frames import FrameKind
from scythe_desktop.core.layout import DELTA_DTYPE, EDGE_DTYPE, DeltaOp, make_node_buffer
from scythe_desktop.engine.actions import Deploy, Focus
from scythe_desktop.engine.proposals import Proposal


def _gl_objects() -> Counter[str]:
    from vispy.gloo.globject import GLObject

    gc.collect()
    return Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, GLObject))


def _driver_objects(view: Any) -> int:
    """GL objects the GLIR parser holds (the real buffers, textures and programs in the driver)."""
    from vispy.gloo.glir import JUST_DELETED

    parser = view.scene.canvas.context.shared.parser
    return sum(1 for ob in parser._objects.values() if ob is not JUST_DELETED)


def _scene_nodes(view: Any) -> int:
    count, stack = 0, [view.scene.canvas.scene]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.children)
    return count


def _cycle(view: Any, box: FrameMailbox, seq: int, rng: np.random.Generator) -> int:
    """One keyframe interval: keyframe + edges + grid + observers, deltas with churn, new proposals, draws."""
    n = int(rng.integers(1500, 2500))  # the size changes: buffers must be resized, not added
    box.put(FrameKind.KEYFRAME, seq, make_node_buffer(rng.uniform(-60, 60, n), rng.uniform(-60, 60, n)))
    edges = np.zeros(20, EDGE_DTYPE)
    edges["src"], edges["dst"], edges["confidence"] = np.arange(20), np.arange(1, 21), 0.5
    box.put(FrameKind.EDGES, seq + 1, edges)
    box.put(FrameKind.GRID, seq + 2, rng.uniform(0, 1, (18, 36)).astype(np.float32))
    view.apply(box.take())
    observers = np.zeros(int(rng.integers(2, 6)), OBSERVER_DTYPE)
    observers["observer_id"] = np.arange(len(observers))
    observers["lon"], observers["lat"] = rng.uniform(-90, 90, len(observers)), rng.uniform(-45, 45, len(observers))
    observers["observer_type"], observers["load"] = "radar", rng.uniform(0, 1, len(observers))
    view.set_observers(observers, selected=0)
    view.set_cluster_centres(np.arange(3), np.array([0.0, 20.0, 40.0]), np.array([0.0, 10.0, -10.0]))
    base, next_id = seq, n
    for k in range(3):
        delta = np.zeros(60, DELTA_DTYPE)
        delta["op"][:40], delta["node"][:40], delta["dx"][:40] = DeltaOp.UPDATE, rng.choice(n, 40, replace=False), 0.001
        delta["op"][40:], delta["node"][40:] = DeltaOp.ADD, np.arange(next_id, next_id + 20)  # the swarm grows
        delta["dx"][40:], delta["dy"][40:], delta["dz"][40:] = 0.0, 0.0, 1.0
        next_id += 20
        box.put(FrameKind.DELTA, seq + 3 + k, delta, base_seq=base)
        base = seq + 3 + k
        report = view.apply(box.take())
        assert not report.problems, report.problems
    proposals = [
        Proposal(Deploy(float(rng.uniform(-90, 90)), float(rng.uniform(-45, 45))), "t", 0.5, 2.0, 0.9, "why", "p"),
        Proposal(Focus(0, int(rng.integers(0, 3))), "t", 0.2, 0.0, 0.5, "why", "p"),
    ][: int(rng.integers(1, 3))]
    view.set_proposals(proposals)
    view.set_drift(rng.uniform(-1, 1, (int(rng.integers(5, 30)), 4)))
    view.scene.draw_frame()
    return seq + 10


@pytest.mark.gl
def test_many_keyframes_deltas_and_overlay_refreshes_do_not_grow_gl_objects_or_scene_nodes(view: Any) -> None:
    view.show_drift = True
    box, rng, seq = FrameMailbox(), np.random.default_rng(7), 1
    for _ in range(3):  # warm-up: every visual has been shown and drawn once (lazy GL objects exist now)
        seq = _cycle(view, box, seq, rng)
    gl_before, driver_before, nodes_before = _gl_objects(), _driver_objects(view), _scene_nodes(view)
    gc.collect()
    tracked_before = len(gc.get_objects())
    for _ in range(25):
        seq = _cycle(view, box, seq, rng)
    gl_after, driver_after, nodes_after = _gl_objects(), _driver_objects(view), _scene_nodes(view)
    tracked_after = len(gc.get_objects())
    assert gl_after == gl_before, f"GL objects grew: {gl_before} -> {gl_after}"
    assert driver_after <= driver_before, f"GL objects in the driver grew: {driver_before} -> {driver_after}"
    assert nodes_after == nodes_before, f"scene nodes grew: {nodes_before} -> {nodes_after}"
    # 25 cycles retaining anything per cycle (a frame, a report, a view) would add hundreds of objects.
    assert tracked_after - tracked_before < 200, f"tracked Python objects grew by {tracked_after - tracked_before}"


def test_the_decision_history_keeps_only_its_newest_rows(qtbot: Any) -> None:
    from scythe_desktop.console.widgets.decisions_dock import HISTORY_LIMIT, DecisionsDock

    assert HISTORY_LIMIT >= 100  # a working day's worth of decisions is still on screen
    dock = DecisionsDock(history_limit=50)
    qtbot.addWidget(dock)
    proposal = Proposal(Deploy(1.0, 2.0), "lon 1.0, lat 2.0", 0.5, 2.0, 0.9, "why", "p")
    for i in range(230):
        dock.add_history(f"decision {i}", proposal, "ok")
    rows = dock.history_rows()
    assert len(rows) == 50
    assert [r[1] for r in rows] == [f"decision {i}" for i in range(180, 230)]  # oldest dropped, order kept
    with pytest.raises(ValueError, match="history_limit"):
        DecisionsDock(history_limit=0)
