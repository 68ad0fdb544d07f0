"""What if in the console: branch a replay at the current time, both futures on screen, follow the other one.

A real `scythe simulate` file, a real window under pytest-xvfb's X server, the branch run on the controller's
worker thread; waits on signals, no sleeps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scythe_desktop.recording.reader import Recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "tutorial.mcap"
    done = subprocess.run([sys.executable, "-m", "scythe_desktop", "simulate", "--scenario", "tutorial", "--seed",
                           "3", "--policy", "greedy", "--duration", "30s", "--keyframe-every", "10",
                           "--world-state-interval", "4s", "--no-progress", "--out", str(path)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return path


def test_both_futures_appear_and_the_other_one_can_be_followed(make_window: Any, recording: Path, qtbot: Any,
                                                               tmp_path: Path) -> None:
    window = make_window(f"replay:{recording}")
    qtbot.waitUntil(lambda: len(window.globe.swarm) > 0, timeout=30_000)
    whatif = window.whatif
    assert whatif is not None and not whatif.dock.isVisible()
    out = tmp_path / "branch.mcap"
    with qtbot.waitSignal(whatif.ready, timeout=120_000) as ready:
        assert whatif.start(6.0, "static-grid", (), 20.0, out=out) == out
        assert whatif.dock.isVisible() and whatif.dock.progress.isVisible()
    pair = ready.args[0]
    assert pair.shown == recording and pair.other == out and pair.branch_s == 6.0
    with Recording(out) as rec:
        assert rec.metadata["parent"] == recording.name and rec.metadata["policy"] == "static-grid"
    # Both timelines: two series per strip over the common time, the branch point, where the decisions differ.
    plot = whatif.dock.plot
    assert plot.seconds.size == 26 * 5 and plot.seconds[-1] == 26.0
    shown, other = plot.series["cost_total"]
    assert shown.shape == other.shape == plot.seconds.shape
    assert np.array_equal(shown[plot.seconds <= 6.0], other[plot.seconds <= 6.0])
    assert pair.first_divergence_s is not None and pair.first_divergence_s >= 6.0
    assert plot.branch_s == 6.0 and plot.marks_s and min(plot.marks_s) >= 6.0
    assert "Two futures from 6s" in whatif.dock.summary.text()
    assert whatif.ready_s > 0 and not whatif.running
    # The other future's observers as ghosts at the replay's time.
    window.timeline.seek(20.0)
    qtbot.waitUntil(lambda: window.connection.replay.position_s >= 20.0, timeout=30_000)
    expected = len(pair.other_observers.at(window.connection.replay.start_ns + int(20.0e9)))
    assert expected > 0
    qtbot.waitUntil(lambda: window.globe.branch_ghosts.count == len(
        pair.other_observers.at(window.connection.replay.start_ns
                                + int(window.connection.replay.position_s * 1e9))), timeout=10_000)

    # Follow the branch: the window is replaced by one on the branch, with the parent as the other future.
    whatif.follow()
    successor = window.successor
    assert successor is not None
    try:
        assert successor.connection.replay.path == out
        assert successor.whatif.pair.shown == out and successor.whatif.pair.other == recording
        assert successor.whatif.pair.shown_is_branch and successor.whatif.dock.isVisible()
        assert "its parent" in successor.whatif.dock.summary.text()
    finally:
        successor.close()
        successor.shutdown()


def test_a_branch_that_cannot_be_made_says_why(make_window: Any, recording: Path, qtbot: Any,
                                               tmp_path: Path) -> None:
    window = make_window(f"replay:{recording}")
    whatif = window.whatif
    with qtbot.waitSignal(whatif.finished, timeout=60_000) as done:
        whatif.start(None, None, (9999,), 10.0, out=tmp_path / "never.mcap")
    assert "decision #9999 does not exist" in done.args[0]
    assert "decision #9999 does not exist" in whatif.dock.summary.text()
    assert whatif.pair is None and not (tmp_path / "never.mcap").exists()
