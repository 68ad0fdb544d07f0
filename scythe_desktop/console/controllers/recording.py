"""The Record toggle: a live source recorded into an MCAP file on a stream and a thread of its own.

:class:`RecordingController` starts a :class:`~scythe_desktop.recording.session.RecordingSession`, writes the
operator's decisions and the proposals and metrics as they refresh, shows the file's size and length in the
status bar, and stops it off the GUI thread (``saved`` says when the file is finished, with an error text or
""). At shutdown it finishes the file on the calling thread. GUI thread only, except the stopper thread,
which reports back through a queued signal.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from scythe_desktop.client.source import Source
from scythe_desktop.console.model.snapshots import WorldSnapshot
from scythe_desktop.console.widgets.timeline import format_offset
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording.session import RecordingSession
from scythe_desktop.recording.writer import decision_message


def default_recording_path() -> Path:
    """Where the Record toggle suggests saving: a timestamped file in the user's data directory."""
    folder = platformdirs.user_data_path("scythe-desktop", "SCYTHE") / "recordings"
    return folder / time.strftime("scythe-%Y%m%d-%H%M%S.mcap")


def size_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "—"
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


class RecordingController(QObject):
    #: (path, error or "") once a recording is closed; queued from the stopper thread.
    saved = Signal(str, str)
    _stopped = Signal(str, str)

    def __init__(self, source: Source, status: QLabel, notify: Callable[[str], None], who: Callable[[str], str],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self._source, self._status, self._notify, self._who = source, status, notify, who
        self._parent = parent
        self.session: RecordingSession | None = None
        self.action: QAction | None = None
        self._started = 0.0
        self._stopper: threading.Thread | None = None
        self._recorded_proposals: tuple[Proposal, ...] = ()
        self.latest_snapshot: WorldSnapshot | None = None
        self._evader_tick = -1  # the last tick whose evader moves are in the recording
        self._stopped.connect(self._on_stopped)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._show_status)

    def bind_action(self, action: QAction) -> None:
        self.action = action
        if self._source.live:
            action.setToolTip("Record this session (frames, proposals, your decisions) to a file (Ctrl+R)")
        else:
            action.setEnabled(False)
            action.setToolTip("A recording is already a recording: Record works on live sources")

    def _check(self, on: bool) -> None:
        if self.action is not None:
            self.action.setChecked(on)

    def toggle(self, on: bool) -> None:
        if not on:
            self.stop()
            return
        suggested = default_recording_path()
        suggested.parent.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self._parent, "Record to", str(suggested), "MCAP recordings (*.mcap)")
        if not path or not self.start(path, overwrite=True):  # the dialog asked about replacing
            self._check(False)

    def start(self, path: str | Path, *, overwrite: bool = False) -> bool:
        """Record the live source into ``path``; False (and why, in the status bar) if not."""
        if not self._source.live:
            self._notify("Record works on live sources, not on a recording")
            return False
        if self.session is not None or self._stopper is not None:
            self._notify("a recording is still running or being saved")
            return False
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            session = RecordingSession(self._source.orchestrator(), path, overwrite=overwrite,
                                       metadata={"operator": self._who("confirmed"), "recorder": "scythe console"})
        except (OSError, ValueError) as exc:
            self._notify(f"cannot record to {path}: {exc}")
            self._check(False)
            return False
        session.start()
        self.session, self._started, self._recorded_proposals = session, time.monotonic(), ()
        # The evader moves of the snapshots' windows that are older than this recording stay out of it.
        self._evader_tick = self.latest_snapshot.tick if self.latest_snapshot is not None else -1
        if self.latest_snapshot is not None:
            self.record_snapshot(self.latest_snapshot)
        self._check(True)
        self._status.setVisible(True)
        self._show_status()
        self._timer.start()
        self._notify(f"recording to {path}")
        return True

    def stop(self) -> None:
        """Stop recording; the file is finished on a worker thread (``saved`` says when)."""
        session = self.session
        self._check(False)
        if session is None:
            return
        self.session = None
        self._timer.stop()
        self._status.setText(f"saving {session.path.name}…")
        self._stopper = threading.Thread(target=self._finish, args=(session,), name="scythe-record-stop", daemon=True)
        self._stopper.start()

    def shutdown(self) -> None:
        """The window closes: finish the file here (the queue is short) and wait for a stopper."""
        self._timer.stop()
        if self.session is not None:
            session, self.session = self.session, None
            self._finish(session, notify=False)
        if self._stopper is not None:
            self._stopper.join()
            self._stopper = None

    def _finish(self, session: RecordingSession, notify: bool = True) -> None:
        """Runs on the stopper thread (or at shutdown): drain the queue and close the file."""
        error = ""
        try:
            session.stop()
        except Exception as exc:  # a disk error must reach the operator, not kill the thread silently
            error = f"{type(exc).__name__}: {exc}"
        if session.error is not None and not error:
            error = f"the recording stream ended early: {session.error}"
        if notify:
            self._stopped.emit(str(session.path), error)

    def _on_stopped(self, path: str, error: str) -> None:
        if self._stopper is not None:
            self._stopper.join()  # it has emitted: it is ending now
            self._stopper = None
        self._status.setVisible(False)
        if error:
            self._notify(f"recording {path} ended with a problem: {error}")
        else:
            self._notify(f"recording saved to {path} ({size_text(Path(path))})")
        self.saved.emit(path, error)

    def _show_status(self) -> None:
        session = self.session
        if session is None:
            return
        elapsed = time.monotonic() - self._started
        self._status.setText(f"● REC {session.path.name} · {size_text(session.path)} · {format_offset(elapsed)}")
        self._status.setToolTip(str(session.path))

    def record_decision(self, decision: str, proposal: Proposal, *, ok: bool, reason: str,
                        observer_id: int | None = None, cost_per_hour: float = 0.0) -> None:
        if self.session is None:
            return
        tick = self.latest_snapshot.tick if self.latest_snapshot is not None else 0
        self.session.write_decision(decision_message(
            proposal, who=self._who(decision), outcome=decision, reason=reason, ok=ok, tick=tick,
            observer_id=observer_id, cost_per_hour=cost_per_hour))

    def record_snapshot(self, snap: WorldSnapshot) -> None:
        self.latest_snapshot = snap
        if self.session is None:
            return
        self.session.write_metrics(snap.tick, snap.metrics)
        if snap.proposals != self._recorded_proposals:
            self._recorded_proposals = snap.proposals
            policy = snap.proposals[0].policy if snap.proposals else ""
            self.session.write_proposals(snap.proposals, snap.tick, policy)
        # Each snapshot carries the evader's last ticks: the ticks new since the last one go on the evader channel
        # (stamped when the snapshot arrives, at most one poll after the move).
        new = [m for m in snap.evader_moves if m[0] > self._evader_tick]
        for tick, moves in itertools.groupby(new, key=lambda m: m[0]):
            self.session.write_evader_moves(tick, snap.evader, [m[1:] for m in moves])
        if new:
            self._evader_tick = new[-1][0]


__all__ = ["RecordingController", "default_recording_path", "size_text"]
