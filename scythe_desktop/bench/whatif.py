"""``scythe bench whatif``: how exact and how fast a what-if branch is, from the command line and in the console.

One parent recording of ``regional`` (12 min of log time, the brain deciding every 5 ticks, world checkpoints
every 60 s; ``--quick``: 2 min of ``tutorial``, greedy) is made with ``scythe simulate``'s machinery and timed:
that is the baseline, ``simulate_speed_vs_real_time``. Then:

* ``branch_identical_until_divergence``: 1 if (a) a branch that replays the recorded decisions from the
  first world checkpoint reproduces every later frame of the recording, byte for byte, and (b) a branch with
  the first decision after 1 min flipped reproduces every frame until that decision. Target 1.
* ``branch_speed_vs_real_time``: a 10-min branch at 1 min with that decision flipped (the recorded decisions
  after it): log seconds of the branch ÷ wall seconds of the whole ``run_branch`` call (resume, the copied
  past, the re-simulated future, the file). Target ≥ 100. ``branch_speed_vs_real_time_brain``: the same branch
  with the brain deciding from 1 min on. ``branch_vs_simulate_speed``: the first ÷ the baseline.
* ``console_branch_ready_s``: in the console replaying the parent (real window, X display or a private Xvfb),
  from ``WhatIfController.start`` at 1 min with the brain for 10 min to both futures on screen. Target ≤ 10.
  ``console_branch_ready_s_flip``: the same with the decision flipped instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scythe_desktop.engine.policies import load_policy
from scythe_desktop.recording.branch import BranchSpec, run_branch
from scythe_desktop.recording.decisions import read_decisions
from scythe_desktop.recording.reader import Recording
from scythe_desktop.recording.simulate import Simulation, record_event
from scythe_desktop.recording.writer import Recorder
from scythe_desktop.render.display import x_display

TICK_HZ = 5.0


def _sizes(quick: bool) -> tuple[str, str, float, float, float]:
    """(scenario, parent policy, parent seconds, branch point s, branch seconds)."""
    return ("tutorial", "greedy", 120.0, 20.0, 60.0) if quick else ("regional", "brain", 720.0, 60.0, 600.0)


def make_parent(path: Path, quick: bool) -> float:
    """Record the parent; returns its speed (log seconds per wall second)."""
    scenario, policy, seconds, _, _ = _sizes(quick)
    sim = Simulation(scenario, 7, load_policy(policy), tick_hz=TICK_HZ, world_state_every=300)
    started = time.perf_counter()
    with Recorder(path, metadata=sim.metadata(policy)) as rec:
        for ev in sim.run(round(seconds * TICK_HZ)):
            record_event(rec, ev)
    return seconds / (time.perf_counter() - started)


def _timed_branch(parent: Path, spec: BranchSpec, out: Path) -> tuple[Any, float]:
    started = time.perf_counter()
    result = run_branch(parent, spec, out, overwrite=True)
    return result, time.perf_counter() - started


def run(quick: bool) -> dict[str, object]:
    scenario, policy, seconds, at_s, branch_s = _sizes(quick)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parent = folder / "parent.mcap"
        simulate_speed = make_parent(parent, quick)
        with Recording(parent) as rec:
            flip = next(d for d in read_decisions(rec) if d.took and d.tick >= at_s * TICK_HZ)
        whole, _ = _timed_branch(parent, BranchSpec(at_tick=0, policy="recorded"), folder / "whole.mcap")
        flipped, flip_wall = _timed_branch(
            parent, BranchSpec(flips=(flip.id,), duration_ticks=round(branch_s * TICK_HZ)), folder / "flip.mcap")
        _, brain_wall = _timed_branch(
            parent, BranchSpec(at_tick=flip.tick, policy=policy, duration_ticks=round(branch_s * TICK_HZ)),
            folder / "brain.mcap")
        identical = (whole.first_divergence_tick is None and whole.identical_until_divergence
                     and flipped.identical_until_divergence and flipped.first_divergence_tick == flip.tick)
        console = console_ready_s(parent, flip.tick / TICK_HZ, policy, branch_s)
        console_flip = console_ready_s(parent, flip.tick / TICK_HZ, f"flip:{flip.id}", branch_s)
    flip_speed = branch_s / flip_wall
    return {
        "scenario": scenario,
        "parent_policy": policy,
        "parent_s": seconds,
        "branch_s": branch_s,
        "branch_at_s": flip.tick / TICK_HZ,
        "branch_identical_until_divergence": int(identical),
        "branch_identical_until_divergence_target": 1,
        "frames_checked_whole_recording": whole.frames_checked,
        "frames_checked_until_divergence": flipped.frames_checked,
        "branch_speed_vs_real_time": round(flip_speed, 1),
        "branch_speed_vs_real_time_target": 100,
        "branch_speed_vs_real_time_brain": round(branch_s / brain_wall, 1),
        "simulate_speed_vs_real_time": round(simulate_speed, 1),
        "branch_vs_simulate_speed": round(flip_speed / simulate_speed, 2),
        "console_branch_ready_s": round(console, 2),
        "console_branch_ready_s_target": 10.0,
        "console_branch_ready_s_flip": round(console_flip, 2),
    }


def console_ready_s(parent: Path, at_s: float, policy: str, branch_s: float) -> float:
    """Seconds from ``WhatIfController.start`` to both futures on screen, in a real console window."""
    args = [sys.executable, "-m", "scythe_desktop.bench.whatif", str(parent), str(at_s), policy, str(branch_s)]
    if os.environ.get("DISPLAY"):
        child = subprocess.run(args, capture_output=True, text=True, check=False)
    else:
        with x_display():  # the X server outlives the child's Qt application (see bench/ui.py)
            child = subprocess.run(args, capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise RuntimeError(f"console what-if measurement failed: {child.stderr[-2000:]}")
    return float(json.loads(child.stdout.strip().splitlines()[-1])["ready_s"])


def _measure_in_console(parent: Path, at_s: float, policy: str, branch_s: float) -> float:
    from scythe_desktop.render.backend import use_render_backend

    use_render_backend()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from scythe_desktop.bench.ui_lag import wait_until
    from scythe_desktop.console.main_window import MainWindow
    from scythe_desktop.console.sources import open_source, parse_source

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
        window: Any = MainWindow(open_source(parse_source(f"replay:{parent}")), settings)
        try:
            window.resize(1280, 800)
            window.show()
            window.start()
            wait_until(lambda: len(window.globe.swarm) > 0, 120.0)
            shown: list[float] = []
            window.whatif.ready.connect(lambda _pair: shown.append(time.monotonic()))
            started = time.monotonic()
            if policy.startswith("flip:"):
                window.whatif.start(None, None, (int(policy.removeprefix("flip:")),), branch_s,
                                    out=Path(tmp) / "branch.mcap")
            else:
                window.whatif.start(at_s, policy, (), branch_s, out=Path(tmp) / "branch.mcap")
            wait_until(lambda: bool(shown) or not window.whatif.running, 1800.0)
            app.processEvents()
            if not shown:
                raise RuntimeError(f"the branch failed: {window.whatif.dock.summary.text()}")
            return shown[0] - started
        finally:
            window.close()
            window.shutdown()


if __name__ == "__main__":  # the child process of console_ready_s
    path, at, name, length = sys.argv[1:5]
    print(json.dumps({"ready_s": _measure_in_console(Path(path), float(at), name, float(length))}))
