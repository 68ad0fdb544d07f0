"""What if, in a replay: branch the recording at the current time in a child process, then show both futures.

:class:`WhatIfController` asks (:class:`~scythe_desktop.console.widgets.whatif_dock.WhatIfDialog`), runs
``scythe whatif`` as a child process (a ``QProcess``: the branch is CPU-bound Python, and in this process it
would fight the GUI thread for the interpreter lock; its progress lines arrive through the event loop, and a
branch that fails cannot take the console with it), reads both files' figures on a loader thread, then fills
the What-if dock (both futures' strips, the branch point, where the decisions differ, the replay's position)
and draws the other future's observers as ghosts on the globe at the replay's
time. "Follow the other future" replaces the window with one replaying the other recording, at the same time,
with the roles swapped. Branches are written next to the Record toggle's recordings. GUI thread only, except
:meth:`_load`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog

from scythe_desktop.console.controllers.recording import default_recording_path
from scythe_desktop.console.model.branch_view import TwoFutures
from scythe_desktop.console.widgets.timeline import format_offset
from scythe_desktop.console.widgets.whatif_dock import WhatIfDialog, WhatIfDock
from scythe_desktop.engine.policies import POLICIES
from scythe_desktop.recording.durations import format_duration
from scythe_desktop.recording.reader import Recording, RecordingError
from scythe_desktop.recording.replay import ReplaySource

if TYPE_CHECKING:
    from scythe_desktop.console.main_window import MainWindow

CURSOR_MS = 250
DEFAULT_BRANCH_S = 600.0


class WhatIfController(QObject):
    finished = Signal(object)  # TwoFutures, or the problem's text (queued from the loader thread)
    #: Both futures are on screen (tests and the bench wait on it).
    ready = Signal(object)

    def __init__(self, window: MainWindow, source: ReplaySource) -> None:
        super().__init__(window)
        self._window, self.source = window, source
        self.dock = WhatIfDock(window)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.followRequested.connect(self.follow)
        self.pair: TwoFutures | None = None
        self.running = False
        self.started_at = 0.0
        self.ready_s = float("nan")  # from start() to both futures shown
        self.finished.connect(self._on_finished)
        self._process: QProcess | None = None
        self._out = Path()
        self._cursor = QTimer(self)
        self._cursor.setInterval(CURSOR_MS)
        self._cursor.timeout.connect(self._follow_position)

    @property
    def tick_hz(self) -> float:
        return float(self.source.metadata.get("tick_hz", "5"))

    def open_dialog(self) -> None:
        s = self.source
        decisions = [(i, f"#{i} {format_offset(b.offset_s)} {b.label}")
                     for i, b in enumerate(s.bookmarks, start=1) if b.offset_s <= s.position_s]
        policies = [p for p in ("brain", "greedy", "greedy-reward", "rollout", "static-grid", "ppo")
                    if p in POLICIES] + ["recorded"]
        dialog = WhatIfDialog(s.position_s, min(DEFAULT_BRANCH_S, max(1.0, s.duration_s - s.position_s)), policies,
                              decisions, self._window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            at_s, policy, flips, duration_s = dialog.values()
        except ValueError as exc:
            self._window.notify(f"What if: {exc}")
            return
        self.start(at_s, policy, flips, duration_s)

    def start(self, at_s: float | None, policy: str | None, flips: tuple[int, ...], duration_s: float,
              out: Path | None = None) -> Path | None:
        """Branch in the background (one at a time); returns the file it will write, or None if one runs."""
        if self.running:
            self._window.notify("What if: a branch is already running")
            return None
        folder = default_recording_path().parent
        out = out or folder / f"{self.source.path.stem}.whatif-{time.strftime('%Y%m%d-%H%M%S')}.mcap"
        args = ["whatif", str(self.source.path), "--out", str(out), "--duration", f"{duration_s:g}",
                "--no-progress", "--progress-lines"]
        if at_s is not None:
            args += ["--at", f"{at_s:g}"]
        if policy is not None:
            args += ["--policy", policy]
        for decision_id in flips:
            args += ["--flip", str(decision_id)]
        self.running, self.started_at, self._out = True, time.monotonic(), out
        self.dock.show()
        self.dock.raise_()
        self.dock.summary.setText(f"Branching {self.source.path.name} into {out.name} …")
        self.dock.show_progress(0, 1)
        out.parent.mkdir(parents=True, exist_ok=True)
        program, prefix = _scythe_command()
        self._process = process = QProcess(self)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_exit)
        process.start(program, [*prefix, *args])
        return out

    def _on_output(self) -> None:
        process = self._process
        if process is None:
            return
        while process.canReadLine():
            line = bytes(process.readLine().data()).decode(errors="replace").split()
            if len(line) == 3 and line[0] == "progress":
                self.dock.show_progress(int(line[1]), int(line[2]))

    def _on_exit(self, code: int, _status: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        problem = bytes(process.readAllStandardError().data()).decode(errors="replace").strip()
        process.deleteLater()
        if code != 0:
            lines = [ln for ln in problem.splitlines() if ln.strip()]
            self.finished.emit(lines[-1].removeprefix("scythe whatif: ") if lines else f"exit status {code}")
            return
        # Reading both files' figures and observers takes a moment: off the GUI thread.
        threading.Thread(target=self._load, args=(self._out,), name="whatif-load", daemon=True).start()

    def _load(self, out: Path) -> None:
        try:
            with Recording(out) as rec:
                branch_s = int(rec.metadata["branch_tick"]) / self.tick_hz
            pair: object = TwoFutures.load(self.source.path, out, branch_s)
        except (RecordingError, OSError, KeyError, ValueError) as exc:
            pair = f"{out}: {exc}"
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile: the file is written all the same
            self.finished.emit(pair)

    def _on_finished(self, outcome: object) -> None:
        self.running = False
        if isinstance(outcome, str):
            self.dock.show_problem(outcome)
            self._window.notify(f"What if: {outcome}")
            return
        assert isinstance(outcome, TwoFutures)
        self.show(outcome)
        self.ready_s = time.monotonic() - self.started_at

    def show(self, pair: TwoFutures) -> None:
        """Put ``pair`` on screen: the strips, the summary, the ghosts at the replay's time."""
        self.pair = pair
        seconds, series = pair.series()
        self.dock.plot.set_data(seconds, series, pair.branch_s, pair.divergence_marks_s)
        diverge = pair.first_divergence_s
        other = "its parent" if pair.shown_is_branch else "the branch"
        self.dock.summary.setText(
            f"Two futures from {format_duration(pair.branch_s)}: this recording and {other} ({pair.other.name}). "
            + ("The figures never diverge." if diverge is None else
               f"The figures diverge at {format_duration(diverge)}; "
               f"{len(pair.comparison.decision_differences)} decision ticks differ. Orange rings: the other "
               "future's observers now."))
        self.dock.progress.setVisible(False)
        self.dock.follow.setEnabled(True)
        self.dock.show()
        self.dock.raise_()
        self._follow_position()
        self._cursor.start()
        self.ready.emit(pair)

    def _follow_position(self) -> None:
        if self.pair is None:
            return
        position = self.source.position_s
        self.dock.plot.set_cursor(position)
        self._window.globe.branch_ghosts.set_positions(
            self.pair.other_observers.at(self.source.start_ns + int(position * 1e9)))

    def follow(self) -> None:
        """Replay the other future from the same time, with this one as the ghosts."""
        if self.pair is None:
            return
        position = self.source.position_s
        window = self._window
        if (problem := window.open_recording(self.pair.other)) is not None:
            window.notify(f"What if: {problem}")
            return
        successor = window.successor
        if successor is not None and successor.whatif is not None and successor.timeline is not None:
            successor.whatif.show(self.pair.swapped())
            successor.timeline.seek(position)

    def stop(self) -> None:
        """Stop following the replay; a branch still running is killed (its file is left incomplete)."""
        self._cursor.stop()
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.waitForFinished(5000)
            self.running = False


def _scythe_command() -> tuple[str, list[str]]:
    """How to run ``scythe``: the frozen binary accepts ``-m`` like an interpreter (packaging/scythe_entry.py)."""
    return sys.executable, ["-m", "scythe_desktop"]


__all__ = ["WhatIfController"]
