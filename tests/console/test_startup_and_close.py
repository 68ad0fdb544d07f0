"""First frame before the policy, and closing while the orchestrator is stuck loading one.

The orchestrator loads its policy at the first ``Propose`` (torch and SB3: seconds of CPU); the console
must draw its first frame before asking, say "loading policy…" while it waits, and close at once even when
the load never ends. The loader here is a real function given through the policy seam, blocked on an event.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Slot

from scythe_desktop.console.main_window import LOADING_POLICY
from scythe_desktop.console.workers import stop_thread
from scythe_desktop.engine.policies.base import Policy
from tests.console.conftest import NearestClusterDeploys, running_qthreads


class BlockingLoader:
    """A policy loader that waits for ``release``; records how many frames the window had applied."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.policy = policy
        self.window: Any = None
        self.frames_when_asked: int | None = None

    def __call__(self) -> Policy | None:
        self.frames_when_asked = self.window.frames_applied if self.window is not None else None
        self.entered.set()
        self.release.wait(120)
        return self.policy


@pytest.mark.gl
def test_the_policy_is_asked_for_only_after_the_first_frame(make_window: Any, qtbot: Any) -> None:
    loader = BlockingLoader(NearestClusterDeploys())
    window = make_window(policy=loader, start=False)
    loader.window = window
    window.start()
    try:
        qtbot.waitUntil(loader.entered.is_set, timeout=60_000)
        assert loader.frames_when_asked is not None and loader.frames_when_asked >= 1
        assert window.statusBar().currentMessage() == LOADING_POLICY
    finally:
        loader.release.set()
    qtbot.waitUntil(lambda: window.snapshot is not None and len(window.snapshot.proposals) > 0, timeout=60_000)
    assert window.statusBar().currentMessage() != LOADING_POLICY


@pytest.mark.gl
def test_closing_while_the_policy_load_blocks_stops_every_thread(make_window: Any, qtbot: Any) -> None:
    loader = BlockingLoader()
    window = make_window(policy=loader)
    try:
        qtbot.waitUntil(loader.entered.is_set, timeout=60_000)
        assert window.insight is not None and window.insight._thread is not None
        insight_thread = window.insight._thread
        problems: list[str] = []  # reported from the worker thread as it ends
        window.insight.problem.connect(problems.append, Qt.ConnectionType.DirectConnection)
        window.close()  # the insight worker is inside Propose, which waits for the blocked loader
        assert window._closed
        assert not insight_thread.isRunning()
        assert running_qthreads() == []
        # The call was cancelled by the close, not left to run into its deadline.
        assert not any("DEADLINE_EXCEEDED" in p for p in problems), problems
    finally:
        loader.release.set()


class Blocked(QObject):
    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release

    @Slot()
    def run(self) -> None:
        self.release.wait(120)


def test_stop_thread_gives_up_on_a_stuck_worker_without_failing(qtbot: Any, caplog: Any) -> None:
    release = threading.Event()
    worker, thread = Blocked(release), QThread()
    thread.setObjectName("stuck-worker")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    try:
        with caplog.at_level(logging.ERROR, logger="scythe_desktop.console.workers"):
            assert stop_thread(thread, lambda: None, timeout_ms=50) is False  # nothing cancels this one
        assert "'stuck-worker' did not stop" in caplog.text
        app = QCoreApplication.instance()
        assert app is not None and thread.parent() is app.thread()  # Qt owns it: never destroyed running
    finally:
        release.set()
    assert thread.wait(60_000)


ABANDON = """
import sys, threading
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot
from scythe_desktop.console.workers import stop_thread
app = QCoreApplication([])
never = threading.Event()
class W(QObject):
    @Slot()
    def run(self):
        never.wait()
thread, worker = QThread(), W()
thread.setObjectName("stuck")
worker.moveToThread(thread)
thread.started.connect(worker.run)
thread.start()
print("stopped" if stop_thread(thread, lambda: None, timeout_ms=50) else "abandoned", flush=True)
del thread, worker
sys.exit(3)
"""


def test_a_process_with_an_abandoned_worker_still_exits_with_its_own_code() -> None:
    out = subprocess.run([sys.executable, "-c", ABANDON], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "abandoned"
    assert out.returncode == 3, out.stderr[-2000:]  # not 134: Qt did not abort on a running QThread
    assert "Destroyed while thread" not in out.stderr


@pytest.mark.gl
def test_a_window_that_never_draws_still_gets_proposals(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys(), start=False)
    window.hide()  # a hidden canvas does not paint: only the fallback after the first frame asks
    draws: list[object] = []
    window.scene.canvas.events.draw.connect(draws.append)
    window.start()
    qtbot.waitUntil(lambda: window.snapshot is not None and len(window.snapshot.proposals) > 0, timeout=60_000)
    assert window.frames_applied >= 1 and draws == []
