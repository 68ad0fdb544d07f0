"""``ui_lag_p99_ms``: how late the console's event loop runs while 100k-node keyframes stream at 10 Hz.

A 10 ms ``QTimer`` heartbeat measures its own lateness (actual interval minus 10 ms) in the real main
window, connected through the real client to a :mod:`~scythe_desktop.bench.keyframe_pump` in another
process. Four phases, same window, same run:

* ``ui_lag_*`` — streaming with the console's defaults: on a software GL renderer the window draws an even
  subsample of at most ``SOFTWARE_GL_NODE_BUDGET`` nodes (``ui_lag_nodes_drawn``); the figure with the
  target (≤ 50 ms);
* ``ui_lag_p99_ms_every_node`` — streaming, every node drawn ("Draw every node" on);
* ``ui_lag_p99_ms_nodes_hidden`` — streaming with the node visual hidden (the globe still draws): the stream
  thread, the hand-over and the GUI-thread apply path without rasterising sprites;
* ``ui_lag_p99_ms_redraw_only`` — no stream, every node redrawn at 10 Hz: the baseline cost of drawing alone.

With Mesa's software GL a 100k-node frame costs hundreds of ms on 2 shared cores, so the every-node figures
are draw-bound; on a GPU a draw costs ~1 ms.

``scythe bench ui`` runs it (see :mod:`scythe_desktop.bench.ui`); it needs an X display and the GL stack.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HEARTBEAT_MS = 10
LAG_TARGET_MS = 50.0


def start_pump(nodes: int, hz: float) -> tuple[subprocess.Popen[str], int]:
    """Start a keyframe pump process; returns it and its port. Stop it with :func:`stop_pump`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scythe_desktop.bench.keyframe_pump", "--nodes", str(nodes), "--hz", str(hz)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"keyframe pump did not start (said {line!r})")
    return proc, int(line.split()[1])


def stop_pump(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Heartbeat:
    """A precise QTimer that records how late each of its ticks came."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval_s = interval_ms / 1000.0
        self.lateness_ms: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        self.lateness_ms.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last - self.interval_s) * 1000.0))
        self._last = now


def _run_for(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> None:
    """Run the event loop until ``predicate()`` holds (checked every 20 ms) or fail after ``timeout_s``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: loop.quit() if predicate() else None)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    check.start()
    if not predicate():
        loop.exec()
    check.stop()
    if not predicate():
        raise TimeoutError(f"condition not met within {timeout_s} s")


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure_ui_lag(quick: bool) -> dict[str, Any]:
    """Run the three phases and return the figures (requires an X display)."""
    from scythe_desktop.render.backend import use_render_backend

    use_render_backend()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from scythe_desktop.console.main_window import MainWindow
    from scythe_desktop.console.sources import open_source, parse_source
    from scythe_desktop.render.backend import gl_renderer

    nodes, hz, seconds = (10_000, 10.0, 2.0) if quick else (100_000, 10.0, 10.0)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    proc, port = start_pump(nodes, hz)
    settings_dir = tempfile.TemporaryDirectory()
    window: Any = None
    try:
        connection = open_source(parse_source(f"grpc://127.0.0.1:{port}"))
        settings = QSettings(str(Path(settings_dir.name) / "bench.ini"), QSettings.Format.IniFormat)
        window = MainWindow(connection, settings)
        window.resize(1280, 800)
        window.show()
        window.start()
        wait_until(lambda: window.frames_applied >= 2, 120.0)
        beat = Heartbeat()
        draws = [0]
        window.scene.canvas.events.draw.connect(lambda _event: draws.__setitem__(0, draws[0] + 1))

        def phase() -> tuple[list[float], float]:
            """Heartbeat lateness (ms) over one phase, and canvas draws per second."""
            draws[0] = 0
            beat.start()
            _run_for(seconds)
            beat.stop()
            return list(beat.lateness_ms), draws[0] / seconds

        applied0, received0, dropped0 = window.frames_applied, window.stream.frames_received, window.frames_dropped
        streaming, draws_streaming = phase()
        applied = window.frames_applied - applied0
        received = window.stream.frames_received - received0
        dropped = window.frames_dropped - dropped0
        stride = window.globe.draw_stride
        drawn = window.globe.nodes.count

        window.all_nodes_action.setChecked(True)
        every_node, draws_every_node = phase()

        window.globe.nodes.visible = False
        hidden, draws_hidden = phase()
        window.globe.nodes.visible = True

        window.stream.stop()
        redraw = QTimer()
        redraw.setInterval(int(1000 / hz))
        redraw.timeout.connect(window.scene.canvas.update)
        redraw.start()
        redraw_only, draws_redraw = phase()
        redraw.stop()
        app.processEvents()
        window.scene.canvas.set_current()
        renderer = gl_renderer()
    finally:
        if window is not None:
            window.close()
            window.shutdown()
        stop_pump(proc)
        settings_dir.cleanup()
    return {
        "gl_renderer": renderer,
        "ui_lag_p99_ms": round(_p(streaming, 99), 2),
        "ui_lag_p99_ms_target": LAG_TARGET_MS,
        "ui_lag_p50_ms": round(_p(streaming, 50), 2),
        "ui_lag_max_ms": round(max(streaming, default=float("nan")), 2),
        "ui_lag_nodes": nodes,
        "ui_lag_nodes_drawn": drawn,
        "ui_lag_draw_stride": stride,
        "ui_lag_draws_per_s": round(draws_streaming, 2),
        "ui_lag_p99_ms_every_node": round(_p(every_node, 99), 2),
        "ui_lag_draws_per_s_every_node": round(draws_every_node, 2),
        "ui_lag_p99_ms_nodes_hidden": round(_p(hidden, 99), 2),
        "ui_lag_draws_per_s_nodes_hidden": round(draws_hidden, 2),
        "ui_lag_p99_ms_redraw_only": round(_p(redraw_only, 99), 2),
        "ui_lag_draws_per_s_redraw_only": round(draws_redraw, 2),
        "ui_lag_heartbeats": len(streaming),
        "ui_lag_stream_hz": hz,
        "ui_lag_keyframes_received_per_s": round(received / seconds, 2),
        "ui_lag_keyframes_applied_per_s": round(applied / seconds, 2),
        "ui_lag_keyframes_dropped_stale": dropped,
        "ui_lag_seconds_per_phase": seconds,
    }


__all__ = ["LAG_TARGET_MS", "Heartbeat", "measure_ui_lag", "start_pump", "stop_pump", "wait_until"]

if __name__ == "__main__":  # the child process of ``scythe bench ui`` on a private X server
    import json

    print(json.dumps(measure_ui_lag(quick="--quick" in sys.argv[1:])))
