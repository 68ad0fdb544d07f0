"""The console on recordings: replaying a `scythe simulate` file, the timeline, read-only decisions, the Record
toggle on a live source, and files that are not recordings.

Real files made by real `scythe` subprocesses, real windows under pytest-xvfb's X server, no sleeps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from scythe_desktop.core.frames import FrameKind
from scythe_desktop.core.frames import decode as decode_core
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording
from scythe_desktop.recording.timeline import Timeline
from tests.console.conftest import NearestClusterDeploys

#: Log seconds of the test recording (5 ticks/s: 50 ticks, keyframes every 15 ticks, seek points every 2 s).
DURATION_S = 10


def scythe(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scythe_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "tutorial.mcap"
    done = scythe("simulate", "--scenario", "tutorial", "--seed", "3", "--policy", "greedy", "--duration",
                  f"{DURATION_S}s", "--keyframe-every", "15", "--no-progress", "--out", str(path))
    assert done.returncode == 0, done.stderr
    return path


def state_at(path: Path, offset_s: float, extra_node_frames: int = 0) -> np.ndarray:
    """The node buffer a replay restores at ``offset_s`` (the seek's catch-up), plus the next node frames."""
    swarm = NodeSwarm()
    with Recording(path) as rec:
        pending = extra_node_frames
        for event in Timeline(rec).play(rec.start_ns + int(offset_s * 1e9)):
            if event.frame is None or event.frame.kind not in (FrameKind.KEYFRAME, FrameKind.DELTA):
                continue
            if not event.catch_up:
                if pending == 0:
                    break
                pending -= 1
            decoded = decode_core(event.frame.payload)
            if decoded.kind == FrameKind.KEYFRAME:
                swarm.load_keyframe(decoded.data)
            else:
                swarm.apply_delta(decoded.data)
    return swarm.nodes.copy()


def catch_up_count(path: Path, offset_s: float, topic: str) -> int:
    """How many ``topic`` messages a seek to ``offset_s`` re-sends to restore the state there."""
    with Recording(path) as rec:
        return sum(1 for event in Timeline(rec).play(rec.start_ns + int(offset_s * 1e9))
                   if event.catch_up and event.topic == topic)


def shows(window: Any, expected: np.ndarray) -> bool:
    nodes = window.globe.swarm.nodes
    return nodes.shape == expected.shape and bool(np.array_equal(nodes, expected))


def test_replay_window_plays_seeks_steps_and_is_read_only(make_window: Any, recording: Path, qtbot: Any) -> None:
    window = make_window(f"replay:{recording}")
    source = window.connection.replay
    assert source is not None and window.timeline is not None
    qtbot.waitUntil(lambda: len(window.globe.swarm) > 0, timeout=30_000)

    # Read-only: nothing can be decided, and the controls say why.
    for widget in (window.decisions_dock.confirm_button, window.decisions_dock.reject_button,
                   window.decisions_dock.automate):
        assert not widget.isEnabled()
        assert "read-only" in widget.toolTip()
    assert not window.confirm_action.isEnabled() and not window.automate_action.isEnabled()
    assert not window.record_action.isEnabled()
    assert not window.overlay_actions["coverage"].isEnabled()
    assert "cluster table" in window.decisions_dock.automate_status.text()
    assert recording.name in window.windowTitle()

    # The timeline spans the recording, with a marker per decision.
    timeline = window.timeline
    assert source.bookmarks, "greedy decided nothing in the test recording"
    assert len(timeline.slider.markers) == len(source.bookmarks)
    assert timeline.slider.maximum() == round(source.duration_s / 0.01)

    timeline.toggle_play()
    assert source.paused
    target = 5.3  # between seek points: the catch-up applies deltas after a keyframe or checkpoint
    timeline.seek(target)
    expected = state_at(recording, target)
    qtbot.waitUntil(lambda: shows(window, expected), timeout=30_000)
    qtbot.waitUntil(lambda: abs(source.position_s - target) < 1e-6, timeout=10_000)
    timeline.refresh()
    assert timeline.slider.value() == round(target / 0.01)
    assert "paused" in timeline.position.text()
    # The history holds exactly the decisions made up to then; the proposals in force came with the catch-up.
    decided = [b for b in source.bookmarks if b.offset_s <= target]
    assert 0 < len(decided) < len(source.bookmarks)
    assert len(window.decisions_dock.history_rows()) == len(decided)
    assert [row[1] for row in window.decisions_dock.history_rows()] == [b.outcome for b in decided]
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0, timeout=10_000)
    # The metrics strips start again at a seek with the catch-up's samples only (older generations dropped).
    samples = catch_up_count(recording, target, schemas.TOPIC_METRICS)
    assert samples > 0
    qtbot.waitUntil(lambda: window.metrics_dock.plot.samples == samples, timeout=10_000)
    assert np.isfinite(window.metrics_dock.plot.latest("total entropy"))
    window.confirm(window.decisions_dock.proposals[0])  # refused here, nothing sent
    assert "read-only" in window.statusBar().currentMessage()

    # Step: exactly one more node frame.
    timeline.step()
    expected_next = state_at(recording, target, extra_node_frames=1)
    assert not np.array_equal(expected_next, expected)  # a step that changes nothing would prove nothing
    qtbot.waitUntil(lambda: shows(window, expected_next), timeout=10_000)
    assert source.paused

    # Two seeks in a row (backwards, then forwards): the state is the second one's, whatever was in flight.
    timeline.seek(1.0)
    timeline.seek(8.7)
    expected_late = state_at(recording, 8.7)
    assert not np.array_equal(expected_late, expected_next)
    qtbot.waitUntil(lambda: shows(window, expected_late), timeout=30_000)

    # Speed, play and loop: from near the end it comes round to the start.
    timeline.speed.setCurrentIndex(timeline.speed.findData(4.0))
    assert source.speed == 4.0
    timeline.toggle_play()
    qtbot.waitUntil(lambda: source.position_s > 8.8, timeout=30_000)
    timeline.loop.setChecked(True)
    timeline.seek(source.duration_s - 0.3)
    qtbot.waitUntil(lambda: source.position_s < 1.0, timeout=30_000)


def test_record_toggle_writes_a_clean_recording_with_the_confirmed_decision(
        make_window: Any, qtbot: Any, tmp_path: Path) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0 and window.frames_applied > 0, timeout=30_000)
    path = tmp_path / "session.mcap"
    assert window.start_recording(path)
    assert window.record_action.isChecked()
    status = window.findChild(type(window._status_record), "recordStatus")
    assert status.isVisible() and "REC session.mcap" in status.text()
    assert not window.start_recording(tmp_path / "second.mcap")  # one at a time

    window.decisions_dock.table.selectRow(0)
    proposal = window.decisions_dock.selected_proposal()
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000) as logged:
        qtbot.mouseClick(window.decisions_dock.confirm_button, Qt.MouseButton.LeftButton)
    assert logged.args[0] == "confirmed" and logged.args[1].startswith("ok"), logged.args

    with qtbot.waitSignal(window.recordingSaved, timeout=30_000) as saved:
        window.stop_recording()
        assert not window.record_action.isChecked()
    assert saved.args == [str(path), ""]
    assert not status.isVisible()

    check = scythe("recording", "check", "--json", str(path))
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["cleanly_closed"] is True
    channels = report["channels"]
    assert channels[schemas.TOPIC_DECISIONS]["messages"] == 1
    assert channels[schemas.TOPIC_KEYFRAMES]["messages"] >= 1
    assert channels[schemas.TOPIC_PROPOSALS]["messages"] >= 1
    with Recording(path) as rec:
        (message,) = rec.messages([schemas.TOPIC_DECISIONS])
    decision = schemas.Decision.FromString(message.data)
    assert (decision.outcome, decision.ok, decision.proposal.target) == ("confirmed", True, proposal.target)
    assert decision.who.startswith("operator:") and decision.observer_id >= 0


def test_a_file_that_is_not_a_recording_is_reported_and_the_console_goes_on(
        make_window: Any, recording: Path, qtbot: Any, tmp_path: Path) -> None:
    window = make_window(f"replay:{recording}")
    qtbot.waitUntil(lambda: window.frames_applied > 0, timeout=30_000)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording\n")
    problem = window.open_recording(notes)
    assert problem is not None and str(notes) in problem and "MCAP" in problem, problem
    assert str(notes) in window.statusBar().currentMessage()
    missing = window.open_recording(tmp_path / "missing.mcap")
    assert missing is not None and "cannot open" in missing
    assert window.isVisible() and window.successor is None
    applied = window.frames_applied
    qtbot.waitUntil(lambda: window.frames_applied > applied, timeout=30_000)  # still playing

    # A good file replaces the window with one replaying it.
    with qtbot.waitSignal(window.replacedBy, timeout=30_000):
        assert window.open_recording(recording) is None
    successor = window.successor
    try:
        qtbot.waitUntil(lambda: len(successor.globe.swarm) > 0, timeout=30_000)
        assert not window.isVisible()
        assert successor.connection.replay.path == recording
    finally:
        successor.close()


@pytest.mark.gl
def test_scythe_source_replay_shows_a_simulated_recording(recording: Path, tmp_path: Path, qapp: object) -> None:
    # What a new user runs after `scythe simulate … --out run.mcap` (screenshot mode so it ends by itself).
    out = tmp_path / "replay.png"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}  # keep QSettings out of the user's
    done = scythe("--source", f"replay:{recording}", "--screenshot", str(out), "--frames", "3", timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size > 10_000 and f"wrote {out}" in done.stdout


def test_scythe_source_replay_of_a_bad_file_says_so_in_one_line(tmp_path: Path, qapp: object) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording\n")
    done = scythe("--source", f"replay:{notes}", timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(notes) in lines[0] and "Traceback" not in done.stderr, done.stderr


def test_a_replayed_adversarial_world_marks_the_evaders_moves_and_tallies_activations(
    make_window: Any, tmp_path: Path, qtbot: Any
) -> None:
    path = tmp_path / "adversarial.mcap"
    done = scythe("simulate", "--scenario", "adversarial", "--evader", "decoy", "--seed", "2", "--duration", "8s",
                  "--no-progress", "--out", str(path))
    assert done.returncode == 0, done.stderr
    with Recording(path) as rec:
        recorded = [schemas.EvaderMoves.FromString(m.data) for m in rec.messages([schemas.TOPIC_EVADER])]
        assert rec.metadata["evader"] == "decoy"
    assert any(m.kind == "decoy" for msg in recorded for m in msg.moves)
    window = make_window(f"replay:{path}")
    marks = window.globe.evader_marks
    qtbot.waitUntil(lambda: marks.count > 0, timeout=30_000)
    assert any(v.visible for v in marks.visuals)
    # Caught and evaded appear as strips of their own once the recording's metrics carry them.
    qtbot.waitUntil(lambda: "activations evaded" in window.metrics_dock.plot.names, timeout=10_000)
    assert np.isfinite(window.metrics_dock.plot.latest("activations caught"))
    # The layer's toggle hides every marker, and brings them back.
    window.menus.evader.setChecked(False)
    assert not any(v.visible for v in marks.visuals)
    window.menus.evader.setChecked(True)
    assert any(v.visible for v in marks.visuals)


def test_a_live_adversarial_world_marks_the_evaders_moves_tallies_and_records_them(
    make_window: Any, tmp_path: Path, qtbot: Any
) -> None:
    window = make_window(scenario="adversarial", embedded_options={"tick_hz": 40.0})
    path = tmp_path / "live-adversarial.mcap"
    assert window.start_recording(path)
    marks = window.globe.evader_marks
    # The embedded orchestrator's table carries the evader's last moves: the layer shows them live.
    qtbot.waitUntil(lambda: marks.count > 0, timeout=60_000)
    assert window.live_evader.trail.counts["activate"] + window.live_evader.trail.counts["decoy"] > 0
    qtbot.waitUntil(lambda: "activations evaded" in window.metrics_dock.plot.names, timeout=10_000)
    assert np.isfinite(window.metrics_dock.plot.latest("activations caught"))
    window.menus.evader.setChecked(False)
    assert not any(v.visible for v in marks.visuals)
    window.menus.evader.setChecked(True)
    with qtbot.waitSignal(window.recordingSaved, timeout=30_000) as saved:
        window.stop_recording()
    assert saved.args == [str(path), ""]
    with Recording(path) as rec:
        recorded = [schemas.EvaderMoves.FromString(m.data) for m in rec.messages([schemas.TOPIC_EVADER])]
    # Each tick at most once on the evader channel, however many polls its window was in.
    ticks = [m.tick for m in recorded]
    assert ticks == sorted(set(ticks)) and recorded and all(m.evader == "evade-when-watched" for m in recorded)
    assert all(move.kind in ("quiet", "activate", "shift", "decoy") for m in recorded for move in m.moves)
