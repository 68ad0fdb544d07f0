"""``RecordingSession``: record a live orchestrator on a stream and thread of its own.

What ``scythe record`` and the console's Record toggle share. The session opens its own frame stream
with ``resume_from_seq=0``, which the orchestrator starts at its latest keyframe, so a recording
switched on at any moment is complete from its first message, whatever the console's own stream is
doing. Frames are stamped with the wall clock (Unix ns) when they arrive and handed to a
:class:`~scythe_desktop.recording.writer.RecordingWorker`; the caller adds what only it knows —
the operator's decisions, the policy's proposals — from any thread. :meth:`stop` ends the stream,
writes what is queued and closes the file cleanly. This module knows the client and the recorder,
not Qt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording.writer import Recorder, RecordingWorker


class RecordingSession:
    """Records ``client``'s stream into ``path`` (which must not exist unless ``overwrite``).

    ``client`` must be a client of its own (the session cancels it on :meth:`stop`). Recorder options
    (``keyframe_interval_s``, ``flush_interval_s``, ``on_flush``, …) pass through. Raises
    ``FileExistsError``/``OSError`` when the file cannot be created.
    """

    def __init__(self, client: OrchestratorClient, path: str | Path, *, metadata: Mapping[str, str] | None = None,
                 clock: Callable[[], int] = time.time_ns, **recorder_options: Any) -> None:
        self.path = Path(path)
        self._client = client
        self._clock = clock
        self.recorder = Recorder(self.path, metadata={"source": client.target, **(metadata or {})},
                                 **recorder_options)
        self._worker = RecordingWorker(self.recorder)
        self._thread = threading.Thread(target=self._run, name=f"record {self.path.name}", daemon=True)
        #: Why the stream ended early (a refused token, say), or None.
        self.error: OrchestratorError | None = None

    def start(self) -> None:
        """Start streaming on the session's thread (world info first)."""
        self._thread.start()

    def _run(self) -> None:
        wrote_info = self._write_world_info()
        try:
            for frame in self._client.frames(resume_from_seq=0):
                self._worker.write_frame(frame, self._clock())
                if not wrote_info:  # the server was not reachable yet at start: one more try
                    wrote_info = self._write_world_info() or True
        except OrchestratorError as exc:
            self.error = exc

    def _write_world_info(self) -> bool:
        try:
            info = self._client.world_info()
        except OrchestratorError:
            return False
        self._worker.submit(self.recorder.write_world_info, info, self._clock())
        return True

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the stream ends by itself or ``timeout_s`` passes; True when it ended."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def write_decision(self, decision: Message, log_time_ns: int | None = None) -> None:
        """A ``Decision`` (see ``writer.decision_message``); stamped now unless a time is given."""
        self._worker.write_decision(decision, self._clock() if log_time_ns is None else log_time_ns)

    def write_proposals(self, proposals: Iterable[Proposal], tick: int, policy: str = "") -> None:
        self._worker.submit(self.recorder.write_proposals, list(proposals), tick, self._clock(), policy)

    def write_metrics(self, tick: int, values: Mapping[str, float]) -> None:
        self._worker.submit(self.recorder.write_metrics, tick, dict(values), self._clock())

    def write_evader_moves(self, tick: int, evader: str, moves: Iterable[tuple[str, int, float, float]]) -> None:
        """An adversarial world's evader moves of ``tick``: (kind, cluster id, lon, lat) each."""
        self._worker.submit(self.recorder.write_evader_moves, tick, evader, list(moves), self._clock())

    def stop(self) -> None:
        """End the stream, write everything queued and close the file cleanly (blocks until it has)."""
        self._client.cancel()
        if self._thread.ident is not None:  # started
            self._thread.join()
        self._worker.close()
        self._client.close()
