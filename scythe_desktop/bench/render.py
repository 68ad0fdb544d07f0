"""``scythe bench render``: the instanced node visual against VisPy's stock ``Markers``, same run, same GL.

Every figure is a median over repeats. Uploads are deferred by VisPy, so an upload is timed as the call
plus the draw that performs it, finished with ``glFinish`` (the issue's definition); the ``*_flush_ms``
companions time the call plus only the GL command flush (the upload without rasterising the frame), which
isolates the transfer from the per-vertex draw cost that software GL adds. Frames are drawn into an
offscreen framebuffer at 1280x800 (no read-back). The baseline gets its colours and sizes precomputed
outside the timing, which favours it.

Display: GL needs an X server. With no ``DISPLAY`` the benchmark starts a private Xvfb
(:func:`~scythe_desktop.render.display.x_display`) before VisPy creates its Qt application, and stops it at
the end; with a ``DISPLAY`` it uses that one (a desktop, or the Xvfb of ``xvfb-run``).

The issue's ``ui_lag_p99_ms`` (the console's event-loop lag while 100k-node keyframes stream at 10 Hz) is
measured by ``scythe bench ui`` in a child process and merged into this object under its own keys.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from scythe_desktop.bench.swarms import random_swarm
from scythe_desktop.bench.ui import measure_in_child
from scythe_desktop.core.layout import COL_INTENSITY, COL_THREAT, DELTA_DTYPE, DeltaOp
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.render.display import x_display


def _marker_style(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the stock path needs per point: an RGBA colour and a size computed on the CPU."""
    from scythe_desktop.render.nodes import THREAT_HIGH_RGBA, THREAT_LOW_RGBA, THREAT_MEDIUM_RGBA

    threat = nodes[:, COL_THREAT]
    colors = np.where(
        (threat > 1.5)[:, None],
        np.asarray(THREAT_HIGH_RGBA, np.float32),
        np.where((threat > 0.5)[:, None], np.asarray(THREAT_MEDIUM_RGBA, np.float32), np.asarray(THREAT_LOW_RGBA)),
    ).astype(np.float32)
    sizes = (1.5 + 4.0 * nodes[:, COL_INTENSITY]).astype(np.float32)
    return colors, sizes


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples)


def _five_percent_delta(swarm: NodeSwarm, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(swarm)
    rows = rng.choice(n, n // 20, replace=False)
    delta = np.zeros(rows.size, DELTA_DTYPE)
    delta["node"], delta["op"] = swarm.ids[rows], DeltaOp.UPDATE
    delta["dx"] = rng.normal(0, 1e-3, rows.size)
    delta["dy"] = rng.normal(0, 1e-3, rows.size)
    return delta


def _measure(quick: bool) -> dict[str, object]:
    from vispy.scene.visuals import Markers

    from scythe_desktop.render.backend import gl_renderer
    from scythe_desktop.render.fields import FieldBox, VolumeField
    from scythe_desktop.render.nodes import Nodes
    from scythe_desktop.render.scene import GlobeScene

    n = 2_000 if quick else 100_000
    vol = 16 if quick else 64
    size = (320, 200) if quick else (1280, 800)
    repeats = 2 if quick else 5

    scene = GlobeScene(size=size)
    nodes_a, nodes_b = random_swarm(n, 1), random_swarm(n, 2)
    colors, sizes = _marker_style(nodes_a)

    ours = Nodes(parent=scene.root)
    markers = Markers(parent=scene.root)
    markers.visible = False

    # Warm up both paths (shader compilation, first allocation) before timing.
    ours.set_nodes(nodes_a)
    scene.draw_frame()
    ours.visible, markers.visible = False, True
    markers.set_data(nodes_a[:, :3], size=sizes, face_color=colors, edge_width=0)
    scene.draw_frame()

    # Baseline: Markers.set_data + the draw that uploads.
    def markers_upload_and_draw() -> None:
        markers.set_data(nodes_a[:, :3], size=sizes, face_color=colors, edge_width=0)
        scene.draw_frame()

    def markers_upload_and_flush() -> None:
        markers.set_data(nodes_a[:, :3], size=sizes, face_color=colors, edge_width=0)
        scene.flush_uploads()

    markers_upload = _median_ms(markers_upload_and_draw, repeats)
    markers_upload_flush = _median_ms(markers_upload_and_flush, repeats)
    markers_frame = _median_ms(scene.draw_frame, repeats)

    markers.visible, ours.visible = False, True
    buffers = [nodes_a, nodes_b]
    counter = iter(range(10**6))

    def upload_and_draw() -> None:
        ours.set_nodes(buffers[next(counter) % 2])
        scene.draw_frame()

    def upload_and_flush() -> None:
        ours.set_nodes(buffers[next(counter) % 2])
        scene.flush_uploads()

    our_upload = _median_ms(upload_and_draw, repeats)
    our_upload_flush = _median_ms(upload_and_flush, repeats)
    our_frame = _median_ms(scene.draw_frame, repeats)

    swarm = NodeSwarm(nodes_a)
    ours.set_nodes(swarm.nodes)
    scene.draw_frame()
    delta_samples, delta_flush_samples, plans = [], [], []
    for i in range(2 * repeats):
        rows = swarm.apply_delta(_five_percent_delta(swarm, seed=i))
        plans.append(ours.policy.plan(rows, n))
        t0 = time.perf_counter()
        ours.update_rows(swarm.nodes, rows)
        if i % 2:
            scene.flush_uploads()
            delta_flush_samples.append((time.perf_counter() - t0) * 1e3)
        else:
            scene.draw_frame()
            delta_samples.append((time.perf_counter() - t0) * 1e3)

    field = np.random.default_rng(3).random((vol, vol, vol), dtype=np.float32)
    volume = VolumeField(scene.root)
    volume.set_field(field, FieldBox(half_extent=1.1))
    scene.draw_frame()
    frame_vol = _median_ms(scene.draw_frame, repeats)
    renderer = gl_renderer()
    scene.close()

    return {
        "nodes": n,
        "canvas": list(size),
        "gl_renderer": renderer,
        "upload_100k_ms": round(our_upload, 3),
        "markers_upload_100k_ms": round(markers_upload, 3),
        "upload_vs_markers": round(markers_upload / our_upload, 2),
        "upload_vs_markers_target": 5,
        "upload_flush_100k_ms": round(our_upload_flush, 3),
        "markers_upload_flush_100k_ms": round(markers_upload_flush, 3),
        "upload_flush_vs_markers": round(markers_upload_flush / our_upload_flush, 2),
        "frame_100k_ms": round(our_frame, 2),
        "markers_frame_100k_ms": round(markers_frame, 2),
        "frame_vs_markers": round(markers_frame / our_frame, 2),
        "frame_vs_markers_target": 2,
        "delta_upload_5pct_ms": round(statistics.median(delta_samples), 3),
        "delta_upload_5pct_flush_ms": round(statistics.median(delta_flush_samples), 3),
        "delta_upload_5pct_plan": "full" if plans[0] is None else f"{len(plans[0])} runs",
        "volume": vol,
        "frame_ms_100k_vol64": round(frame_vol, 2),
    }


def run(quick: bool) -> dict[str, object]:
    with x_display():
        result = _measure(quick)
    # ui_lag_*, what ``scythe bench ui`` measures, in a child process: it needs a fresh Qt application of its
    # own, not the one this process drew the benchmarks with.
    result.update(measure_in_child(quick))
    return result
