"""``scythe bench ui``: the console's event-loop lag while 100k-node keyframes stream (see :mod:`.ui_lag`).

Display: with a ``DISPLAY`` (a desktop, or ``xvfb-run``) the measurement runs in this process. Without one,
a private Xvfb is started (:func:`~scythe_desktop.render.display.x_display`) and the measurement
runs in a child process on it — Qt keeps its X connection until the process ends, so the X server must
outlive the Qt application, not the other way round. The JSON carries the GL renderer so software-GL
figures are never mistaken for GPU ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from scythe_desktop.render.display import x_display


def run(quick: bool) -> dict[str, object]:
    if os.environ.get("DISPLAY"):
        from scythe_desktop.bench.ui_lag import measure_ui_lag

        return measure_ui_lag(quick)
    return measure_in_child(quick)


def measure_in_child(quick: bool) -> dict[str, object]:
    """The same measurement in a child process (with its own Qt application), on this ``DISPLAY`` or, without
    one, on a private Xvfb that outlives the child."""
    with x_display():
        child = subprocess.run(
            [sys.executable, "-m", "scythe_desktop.bench.ui_lag", *(["--quick"] if quick else [])],
            capture_output=True, text=True, check=False,
        )
    if child.returncode != 0:
        raise RuntimeError(f"ui lag measurement failed: {child.stderr[-2000:]}")
    result: dict[str, object] = json.loads(child.stdout.strip().splitlines()[-1])
    return result
