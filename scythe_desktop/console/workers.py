"""Worker threads of the console and their hand-over to the GUI thread.

* :class:`StreamWorker` runs the blocking gRPC frame stream (``OrchestratorClient.frames``) in its own
  ``QThread``, decodes every frame off the GUI thread and drops it into a :class:`FrameMailbox`; it emits
  ``framesReady`` only when the mailbox goes from empty to non-empty, so one notification at most is ever
  queued however fast frames arrive. Errors a retry cannot fix (a refused token, say) are reported and the
  stream is tried again after a pause, so the console keeps running and reconnects by itself.
* :class:`PeriodicWorker` calls a function every ``interval_s`` seconds in its own thread (policy
  inference, the cluster table, fields) and hands the newest result over through a :class:`LatestSlot`;
  a result for an older generation than one already delivered is dropped.
* :class:`CallWorker` runs blocking calls (the action RPCs) one after another off the GUI thread, from a
  bounded queue, and reports each outcome by a queued signal.

Only the GUI thread touches widgets and GL: workers emit signals carrying immutable values (the GUI
connects with the default auto connection, which queues across threads). :func:`stop_thread` ends a worker
and waits for its thread, so closing the window leaves nothing running; a thread stuck in work that cannot
be cancelled is logged and abandoned, never a reason for closing to fail or the process to abort.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from scythe_desktop.client.grpc_client import ConnectionState, OrchestratorError, decode
from scythe_desktop.client.source import SourceClient
from scythe_desktop.console.model.mailbox import OBSERVERS_KIND, FrameMailbox
from scythe_desktop.core.frames import Frame, FrameError, FrameKind
from scythe_desktop.protocol.wire import WireFrame

T = TypeVar("T")

log = logging.getLogger(__name__)
#: Worker threads that did not stop in time (see :func:`stop_thread`).
_abandoned: list[QThread] = []

#: Pause before opening the stream again after an error a retry inside the client could not fix.
RETRY_PAUSE_S = 2.0


class LatestSlot(Generic[T]):
    """Holds the newest value of a producer; ``put`` returns ``True`` when the slot was empty (notify)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None
        self._full = False

    def put(self, value: T) -> bool:
        with self._lock:
            was_empty = not self._full
            self._value, self._full = value, True
            return was_empty

    def take(self) -> T | None:
        with self._lock:
            value, self._value, self._full = self._value, None, False
            return value


def _start_in_thread(worker: QObject, name: str) -> QThread:
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)  # type: ignore[attr-defined]
    thread.start()
    return thread


def stop_thread(thread: QThread | None, stop: Callable[[], None], timeout_ms: int = 10_000) -> bool:
    """Ask a worker to stop (``stop`` must be callable from the GUI thread) and wait for its thread.

    Returns ``False`` when the thread is still running after ``timeout_ms`` (its work blocked in something
    that could not be cancelled). Closing must not fail because of it: the thread is logged and abandoned.
    Qt aborts the process when a running ``QThread`` object is destroyed, which Python would do when the
    worker is dropped or at exit, so the abandoned thread is handed to the main thread's ``QThread`` object
    (C++ ownership, never deleted while the process lives); the process can still exit normally.
    """
    if thread is None:
        return True
    stop()
    thread.quit()
    if thread.wait(timeout_ms):
        return True
    log.error("worker thread %r did not stop within %d ms; abandoning it", thread.objectName(), timeout_ms)
    app = QCoreApplication.instance()
    if app is not None:
        thread.setParent(app.thread())
    else:  # no application, so no owner to hand it to: at least never let Python's GC destroy it
        _abandoned.append(thread)
    return False


class StreamWorker(QObject):
    """Consumes ``client.frames()`` into ``mailbox``; lives in its own ``QThread`` (see :meth:`start`)."""

    framesReady = Signal()
    stateChanged = Signal(str, str)
    problem = Signal(str)  # a malformed frame or a refused stream, for the status bar
    finished = Signal()

    def __init__(self, client_factory: Callable[[Callable[[ConnectionState, str], None]], SourceClient],
                 mailbox: FrameMailbox) -> None:
        super().__init__()
        self._client_factory = client_factory
        self.mailbox = mailbox
        self._stop = threading.Event()
        self._client_lock = threading.Lock()
        self._client: SourceClient | None = None
        self._thread: QThread | None = None
        self.frames_received = 0

    def start(self) -> None:
        self._thread = _start_in_thread(self, "scythe-stream")

    def stop(self) -> None:
        """Cancel the stream from any thread and wait for the worker's thread to end."""
        stop_thread(self._thread, self._cancel)
        self._thread = None

    def _cancel(self) -> None:
        self._stop.set()
        with self._client_lock:
            if self._client is not None:
                self._client.cancel()

    def _on_state(self, state: ConnectionState, detail: str) -> None:
        self.stateChanged.emit(state.value, detail)

    @Slot()
    def run(self) -> None:
        resume_from = 0
        while not self._stop.is_set():
            client = self._client_factory(self._on_state)
            with self._client_lock:
                self._client = client
            if self._stop.is_set():
                client.cancel()
            try:
                for frame in client.frames(resume_from_seq=resume_from):
                    self._offer(frame)
                    if self._stop.is_set():
                        break
            except OrchestratorError as exc:
                self.problem.emit(f"stream refused: {exc}")
                self.stateChanged.emit(ConnectionState.RECONNECTING.value, str(exc))
            finally:
                resume_from = client.last_seq
                with self._client_lock:
                    self._client = None
                client.close()
            if self._stop.wait(RETRY_PAUSE_S):
                break
        self.stateChanged.emit(ConnectionState.CLOSED.value, "stopped")
        self.finished.emit()

    def _offer(self, frame: WireFrame) -> None:
        self.frames_received += 1
        try:
            decoded = decode(frame)  # the client's decoding, never a second copy of it
            if isinstance(decoded, Frame):
                notify = self.mailbox.put(FrameKind(decoded.kind), frame.seq, decoded.data, base_seq=frame.base_seq)
            else:
                notify = self.mailbox.put(OBSERVERS_KIND, frame.seq, decoded)
        except FrameError as exc:
            self.problem.emit(f"malformed frame seq {frame.seq} dropped: {exc}")
            if frame.carries_nodes:
                self.mailbox.reset_chain()
            return
        if notify:
            self.framesReady.emit()


class PeriodicWorker(QObject, Generic[T]):
    """Calls ``produce(generation)`` every ``interval_s`` in its own thread; the GUI takes :attr:`slot`."""

    ready = Signal()
    problem = Signal(str)

    def __init__(self, name: str, produce: Callable[[int], T], interval_s: float) -> None:
        super().__init__()
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        self.name = name
        self._produce = produce
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: QThread | None = None
        self.slot: LatestSlot[T] = LatestSlot()
        self.generation = 0

    def start(self) -> None:
        self._thread = _start_in_thread(self, f"scythe-{self.name}")

    def stop(self) -> None:
        stop_thread(self._thread, self._halt)
        self._thread = None

    def poke(self) -> None:
        """Run again now instead of at the next interval (e.g. right after an action)."""
        self._wake.set()

    def _halt(self) -> None:
        self._stop.set()
        self._wake.set()

    @Slot()
    def run(self) -> None:
        while not self._stop.is_set():
            self.generation += 1
            try:
                result = self._produce(self.generation)
            except Exception as exc:  # a failing producer must not kill the console; report and go on
                self.problem.emit(f"{self.name}: {exc}")
            else:
                if self.slot.put(result):
                    self.ready.emit()
            self._wake.wait(self._interval_s)
            self._wake.clear()


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What became of one queued call: its ``tag`` (what the GUI needs to match it) and result or error."""

    tag: Any
    result: Any = None
    error: str = ""


class CallWorker(QObject):
    """Runs queued blocking calls in order in its own thread; at most ``max_pending`` wait."""

    done = Signal(object)  # CallOutcome

    def __init__(self, max_pending: int = 32) -> None:
        super().__init__()
        self._queue: queue.Queue[tuple[Any, Callable[[], Any]] | None] = queue.Queue(maxsize=max_pending)
        self._thread: QThread | None = None

    def start(self) -> None:
        self._thread = _start_in_thread(self, "scythe-actions")

    def submit(self, tag: Any, call: Callable[[], Any]) -> bool:
        """Queue ``call``; ``False`` (nothing queued) when ``max_pending`` calls already wait."""
        try:
            self._queue.put_nowait((tag, call))
        except queue.Full:
            return False
        return True

    def stop(self) -> None:
        def wake() -> None:
            while True:  # make room for the sentinel; pending calls are abandoned on shutdown
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)

        stop_thread(self._thread, wake)
        self._thread = None

    @Slot()
    def run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            tag, call = item
            try:
                outcome = CallOutcome(tag, result=call())
            except OrchestratorError as exc:
                outcome = CallOutcome(tag, error=f"{exc.code.name}: {exc.details}")
            except Exception as exc:  # report any failure of one call and keep serving the next
                outcome = CallOutcome(tag, error=f"{type(exc).__name__}: {exc}")
            self.done.emit(outcome)


__all__ = [
    "RETRY_PAUSE_S",
    "CallOutcome",
    "CallWorker",
    "LatestSlot",
    "PeriodicWorker",
    "StreamWorker",
    "stop_thread",
]
