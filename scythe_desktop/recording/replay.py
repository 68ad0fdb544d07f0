"""``ReplaySource``: a recording played like a live orchestrator, with pause, step, seek, speed and loop.

The source yields :class:`~scythe_desktop.recording.timeline.ReplayEvent` objects whose ``frame``
is the very :class:`~scythe_desktop.protocol.wire.WireFrame` the live client's ``frames()`` yields, so the
console decodes and applies replayed frames with the same code as live ones; ``message`` carries the
recorded world info, proposals, decisions and metrics. Run :meth:`ReplaySource.events` in one worker
thread; every control method (:meth:`pause`, :meth:`resume`, :meth:`step`, :meth:`seek`,
:meth:`set_speed`, :meth:`set_loop`, :meth:`stop`) is thread-safe and takes effect at once, even while
the worker waits for the next event's time. A seek restores the exact state at the target (nearest
keyframe or checkpoint at or before it, then the frames up to it, flagged ``catch_up``) and bumps
``generation``: a consumer drops events of an older generation it may still hold. Decisions are
:attr:`ReplaySource.bookmarks` for the timeline. :class:`ReplayClient` puts the read side of
``OrchestratorClient`` (``frames``, ``world_info``, ``list_observers``, ``cancel``, ``close``,
``last_seq``) over a source: it is the replay's :class:`~scythe_desktop.client.source.SourceClient`, and
:class:`ReplaySource` implements :class:`~scythe_desktop.client.source.Source`, so a console built on the
live client replays with no second code path; a recording has no orchestrator (read-only). This module
knows recordings and threads, not Qt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import grpc

from scythe_desktop.client.grpc_client import ConnectionState, OrchestratorError
from scythe_desktop.client.source import Source, SourceError, SourceSpec, StateCallback
from scythe_desktop.protocol import world_wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.protocol.world_wire import ObserverList, WorldInfo
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording, RecordingError
from scythe_desktop.recording.timeline import ReplayEvent, Timeline, decode_event

MIN_SPEED: Final = 0.25
MAX_SPEED: Final = 16.0
_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A decision on the timeline: when (log time), who decided what, and the outcome."""

    log_time_ns: int
    offset_s: float  # from the start of the recording
    label: str
    outcome: str
    who: str


def _bookmark(event: ReplayEvent, start_ns: int) -> Bookmark:
    d: Any = event.message
    what = f"{d.proposal.kind} {d.proposal.target}".strip() or d.request_id
    return Bookmark(event.log_time_ns, (event.log_time_ns - start_ns) / _NS, what, d.outcome, d.who)


class ReplaySource(Source):
    """Plays one recording; see the module docstring. Raises :class:`RecordingError` for a bad file.

    ``paced=False`` delivers events as fast as the consumer takes them (tests, export); pause, step
    and seek still apply. ``start_paused`` waits for :meth:`resume` or :meth:`step` before the first
    event after the initial state.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        loop: bool = False,
        paced: bool = True,
        start_paused: bool = False,
    ) -> None:
        self.path = Path(path)
        self._recording = Recording(self.path)
        self.start_ns = self._recording.start_ns
        self.end_ns = self._recording.end_ns
        self.metadata = dict(self._recording.metadata)
        try:
            self.bookmarks: list[Bookmark] = [
                _bookmark(decode_event(m, self.path), self.start_ns)
                for m in self._recording.messages([schemas.TOPIC_DECISIONS])
            ]
            first_info = next(self._recording.messages([schemas.TOPIC_WORLD_INFO]), None)
            self._world_info: Any = None if first_info is None else decode_event(first_info, self.path).message
            first_observers = next(self._recording.messages([schemas.TOPIC_OBSERVERS]), None)
            self._observers: WireFrame | None = (
                None if first_observers is None else decode_event(first_observers, self.path).frame
            )
        except RecordingError:
            self._recording.close()
            raise
        self._check_speed(speed)
        self._cond = threading.Condition()
        self._speed = speed
        self._loop = loop
        self._paced = paced
        self._paused = start_paused
        self._steps = 0
        self._stopped = False
        self._running = False  # events() is reading the file
        self._seek_to: int | None = self.start_ns
        self._generation = 0
        self._position_ns = self.start_ns
        self._log_anchor_ns = self.start_ns
        self._wall_anchor = time.monotonic()
        #: Receives the recorded non-frame events (proposals, decisions, metrics, world info) on the
        #: streaming thread; set by the console before it starts streaming.
        self.on_replay_event: Callable[[ReplayEvent], None] | None = None
        meta = self.metadata
        what = ", ".join(f"{key} {meta[key]}" for key in ("scenario", "seed", "policy") if meta.get(key))
        self.description = {
            "source": f"recording {self.path.name}" + (f" ({what})" if what else ""),
            "address": str(self.path),
            "transport": f"file, {self.duration_s:.1f} s of log time, {len(self.bookmarks)} decisions",
            "token": "none needed (read-only replay)",
        }

    # --------------------------------------------------------------------------------- Source interface

    @property
    def live(self) -> bool:
        return False

    @property
    def replay(self) -> ReplaySource:
        return self

    def client(self, on_state: StateCallback | None = None) -> ReplayClient:
        return ReplayClient(self, on_state=on_state, on_event=self._forward)

    def _forward(self, event: ReplayEvent) -> None:
        if self.on_replay_event is not None:
            self.on_replay_event(event)

    # ------------------------------------------------------------------------------------ properties

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / _NS

    @property
    def position_s(self) -> float:
        """Log time of the last delivered event, in seconds from the start."""
        with self._cond:
            return (self._position_ns - self.start_ns) / _NS

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    @property
    def speed(self) -> float:
        with self._cond:
            return self._speed

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    @property
    def world_info(self) -> pb.WorldInfo | None:
        """The latest recorded world info delivered so far (the file's first one before that)."""
        with self._cond:
            info: pb.WorldInfo | None = self._world_info
            return info

    @property
    def observers(self) -> pb.ObserverList | None:
        """The latest recorded observer list delivered so far (the file's first one before that)."""
        with self._cond:
            frame = self._observers
        return None if frame is None else pb.ObserverList.FromString(frame.payload)

    # -------------------------------------------------------------------------------------- controls

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._steps = 0
            self._reanchor(self._position_ns)
            self._cond.notify_all()

    def step(self) -> None:
        """While paused: deliver the events up to and including the next node frame (keyframe or delta)."""
        with self._cond:
            self._steps += 1
            self._cond.notify_all()

    def seek(self, offset_s: float) -> None:
        """Jump to ``offset_s`` seconds from the start (clamped to the recording); keeps paused/playing."""
        if offset_s != offset_s:  # NaN
            raise ValueError("seek offset must be a number, got nan")
        target = self.start_ns + int(max(0.0, offset_s) * _NS)
        with self._cond:
            self._seek_to = min(target, self.end_ns)
            self._cond.notify_all()

    def set_speed(self, speed: float) -> None:
        """Playback rate, ``MIN_SPEED``..``MAX_SPEED`` (1.0 is real time)."""
        self._check_speed(speed)
        with self._cond:
            self._reanchor(self._position_ns)
            self._speed = speed
            self._cond.notify_all()

    def set_loop(self, loop: bool) -> None:
        with self._cond:
            self._loop = loop
            self._cond.notify_all()

    def stop(self) -> None:
        """End :meth:`events` (from any thread) and close the file once it has returned."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # ----------------------------------------------------------------------------------------- events

    def events(self, *, hold_at_end: bool = False) -> Iterator[ReplayEvent]:
        """The recording's events, paced by log time and the controls, until :meth:`stop` or the end.
        Run it once, on one thread; it closes the file when it returns.

        With ``hold_at_end`` (what a console wants) the end pauses instead of returning, so a seek or
        :meth:`resume` (which restarts from the start) can go on; with loop on, the end restarts.
        """
        with self._cond:
            if self._stopped or self._running:
                return  # closed, or another thread plays this source: one reader per open file
            self._running = True
        timeline = Timeline(self._recording)
        it: Iterator[ReplayEvent] = iter(())
        generation = 0
        try:
            while True:
                with self._cond:
                    if self._stopped:
                        return
                    if self._seek_to is not None:
                        target, self._seek_to = self._seek_to, None
                        self._generation += 1
                        generation = self._generation
                        self._position_ns = target
                        self._reanchor(target)
                        # The very start needs no catch-up: play it paced like everything else.
                        it = timeline.play(None if target == self.start_ns else target)
                event = next(it, None)
                if event is None:
                    if not self._at_end(hold_at_end):
                        return
                    continue
                if not event.catch_up and not self._wait_turn(event):
                    continue  # a seek or stop came while waiting: this event is superseded
                with self._cond:
                    self._position_ns = max(self._position_ns, event.log_time_ns)
                    if event.topic == schemas.TOPIC_WORLD_INFO:
                        self._world_info = event.message
                    elif event.topic == schemas.TOPIC_OBSERVERS:
                        self._observers = event.frame
                yield replace(event, generation=generation)
        finally:
            with self._cond:
                self._stopped = True
            self._recording.close()

    def close(self) -> None:
        """Stop; the file closes now, or when a running :meth:`events` has returned."""
        with self._cond:
            self._stopped = True
            running = self._running
            self._cond.notify_all()
        if not running:
            self._recording.close()

    # -------------------------------------------------------------------------------------- internals

    @staticmethod
    def _check_speed(speed: float) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be in [{MIN_SPEED}, {MAX_SPEED}], got {speed!r}")

    def _reanchor(self, log_ns: int) -> None:
        self._log_anchor_ns = log_ns
        self._wall_anchor = time.monotonic()

    def _at_end(self, hold: bool) -> bool:
        """At the end of the recording: restart (loop), wait for a control (hold), or finish (False)."""
        with self._cond:
            if self._loop:
                if self._seek_to is None:
                    self._seek_to = self.start_ns
                return True
            if not hold:
                return False
            self._paused = True
            while not self._stopped and self._seek_to is None and self._paused:
                self._cond.wait()
            if self._seek_to is None and not self._stopped:
                self._seek_to = self.start_ns  # resume at the end plays again from the start
            return True

    def _wait_turn(self, event: ReplayEvent) -> bool:
        """Block until ``event`` is due; False when a seek or stop makes it moot."""
        with self._cond:
            while True:
                if self._stopped or self._seek_to is not None:
                    return False
                if self._paused:
                    if self._steps > 0:
                        if event.is_node_frame:
                            self._steps -= 1
                        self._reanchor(event.log_time_ns)
                        return True
                    self._cond.wait()
                    continue
                if not self._paced:
                    return True
                due = self._wall_anchor + (event.log_time_ns - self._log_anchor_ns) / _NS / self._speed
                delay = due - time.monotonic()
                if delay <= 0:
                    return True
                self._cond.wait(delay)


class ReplayClient:
    """The read side of :class:`~scythe_desktop.client.grpc_client.OrchestratorClient` over a :class:`ReplaySource`.

    :meth:`frames` yields the recorded frames (what the live client yields) under the source's
    controls, holding at the end until :meth:`cancel`; other recorded events go to ``on_event`` (on
    the streaming thread), so proposals and decisions can fill a read-only decisions dock. Several
    clients may share one source (the console makes one for its stream thread and one for calls), but
    only one may stream. Actions raise :class:`OrchestratorError` (FAILED_PRECONDITION): a recording is read-only.
    """

    def __init__(
        self,
        source: ReplaySource,
        *,
        on_state: Callable[[ConnectionState, str], None] | None = None,
        on_event: Callable[[ReplayEvent], None] | None = None,
    ) -> None:
        self.source = source
        self.target = f"replay:{source.path}"
        self.last_seq = 0
        self._on_state = on_state
        self._on_event = on_event
        self._cancelled = threading.Event()
        self._streaming = False

    @property
    def subject(self) -> str:
        return "replay"

    def frames(self, *, resume_from_seq: int | None = None, kinds: Iterable[int] = ()) -> Iterator[WireFrame]:
        """Every recorded frame, paced and controlled by the source; ``resume_from_seq`` is ignored (a
        replay is positioned by :meth:`ReplaySource.seek`)."""
        wanted = frozenset(kinds)
        if self._cancelled.is_set():
            return
        self._streaming = True
        if self._cancelled.is_set():  # cancel() ran between the check and the flag
            return
        self._state(ConnectionState.STREAMING, self.target)
        try:
            for event in self.source.events(hold_at_end=True):
                frame = event.frame
                if frame is None:
                    if self._on_event is not None:
                        self._on_event(event)
                    continue
                if wanted and frame.kind not in wanted:
                    continue
                self.last_seq = frame.seq
                yield frame
        finally:
            self._state(ConnectionState.CLOSED, "replay stopped")

    def world_info(self) -> WorldInfo:
        info = self.source.world_info
        if info is None:
            raise OrchestratorError(grpc.StatusCode.NOT_FOUND, f"{self.source.path} holds no world info")
        return world_wire.world_info(info)

    def list_observers(self) -> ObserverList:
        observers = self.source.observers
        return ObserverList() if observers is None else world_wire.observer_list(observers)

    def cancel(self) -> None:
        """End :meth:`frames` (from any thread); like the live client, it cannot stream again. Only the
        client that streams stops the shared source."""
        self._cancelled.set()
        if self._streaming:
            self.source.stop()

    def close(self) -> None:
        self.cancel()

    def __enter__(self) -> ReplayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _refuse(self, *_args: object, **_kwargs: object) -> Any:
        raise OrchestratorError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{self.source.path} is a recording: replay is read-only, no action is sent",
        )

    # A recording is read-only: any action asked of it is refused with the same error as a live refusal.
    act = deploy = relocate = increase_sampling = focus = decommission = set_guardrails = _refuse

    def _state(self, state: ConnectionState, detail: str) -> None:
        if self._on_state is not None:
            self._on_state(state, detail)


def open_replay(spec: SourceSpec) -> ReplaySource:
    """The ``replay:FILE`` source; a file that is not a usable recording raises :class:`SourceError`
    with the reader's message (file and problem)."""
    assert spec.path is not None
    try:
        return ReplaySource(spec.path)
    except RecordingError as exc:
        raise SourceError(f"cannot replay: {exc}") from exc
