"""``GetField`` without stalling the world: bounded sizes, a work budget per identity, computed on a snapshot.

A grid or volume used to be computed under the world lock, so three viewers asking in a loop stretched the
frame gaps of every stream from 0.5 s to 3.8 s. Now, in order:

1. the request is checked (kind, sizes) → INVALID_ARGUMENT; every size allowed fits the client's receive
   limit (a grid has at most :data:`MAX_GRID_CELLS` float32 cells, the volume at most 96³);
2. its *work* is estimated — cells × clusters (uncertainty, occlusion), cells × observers (coverage),
   nodes + voxels (volume) — and a request over :data:`MAX_FIELD_WORK` is RESOURCE_EXHAUSTED, saying to ask
   for a smaller field;
3. the caller's identity pays the work from its token bucket (:data:`WORK_PER_S`, burst one largest request)
   → RESOURCE_EXHAUSTED with the seconds to wait; at most :data:`IN_FLIGHT_PER_IDENTITY` of its requests run
   at once, and at most :data:`FIELD_WORKERS` fields are computed server-wide (a few more may queue briefly);
4. the world host copies what the field needs under its lock (:class:`~scythe_desktop.engine.field_snapshot.
   FieldSnapshot`, microseconds to milliseconds) and the field is computed from the copy outside it.

A request is a :class:`FieldAsk` and the answer a :class:`FieldAnswer` (the field as a core frame);
:mod:`scythe_desktop.orchestrator.wire` translates the ``FieldRequest``/``FieldReply`` messages. Knows the world host
and the frame codec; not gRPC, protobuf, servers or channels.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from scythe_desktop.core import frames as core_frames
from scythe_desktop.orchestrator.rate_limit import TokenBuckets
from scythe_desktop.orchestrator.requests import Verdict
from scythe_desktop.protocol.limits import CLIENT_MAX_RECEIVE_BYTES, REPLY_OVERHEAD_BYTES

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.world_host import WorldHost

MAX_GRID_HEIGHT: Final = 1024
MAX_GRID_WIDTH: Final = 2048
#: float32 cells whose reply still fits the client's receive limit (header and message framing included).
MAX_GRID_CELLS: Final = (CLIENT_MAX_RECEIVE_BYTES - REPLY_OVERHEAD_BYTES) // 4
MAX_VOLUME: Final = 96  # 96³ float32 = 3.5 MB
#: Point × cluster evaluations (or the like) one request may ask for: a few seconds of one core.
MAX_FIELD_WORK: Final = 128_000_000
#: What each identity earns a second: the console's own fields cost about a tenth of it.
WORK_PER_S: Final = 32_000_000.0
IN_FLIGHT_PER_IDENTITY: Final = 2
#: Fields computed at once, server-wide: leave the other core(s) to the tick thread and the streams.
FIELD_WORKERS: Final = max(1, (os.cpu_count() or 2) // 2)
#: Requests that may wait for a worker (each holds a gRPC thread), and for how long.
MAX_WAITING: Final = 8
WAIT_S: Final = 5.0

assert MAX_VOLUME**3 <= MAX_GRID_CELLS, "the largest volume must fit the client's receive limit too"

GRIDS: Final = ("coverage", "occlusion", "uncertainty")
VOLUME: Final = "volume"


@dataclass(frozen=True, slots=True)
class FieldAsk:
    """One GetField request: a grid (``kind`` in :data:`GRIDS`, height × width) or the volume (size³). A kind
    the contract does not know arrives as its number (``"17"``) and is refused by name."""

    kind: str
    height: int = 0
    width: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class FieldAnswer:
    tick: int
    frame: bytes  # a core grid or field frame (core.frames)


class FieldRefused(Exception):
    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """The knobs above, in one value (tests shrink them)."""

    max_work: int = MAX_FIELD_WORK
    work_per_s: float = WORK_PER_S
    in_flight_per_identity: int = IN_FLIGHT_PER_IDENTITY
    workers: int = FIELD_WORKERS
    max_waiting: int = MAX_WAITING
    wait_s: float = WAIT_S


def _invalid(message: str) -> FieldRefused:
    return FieldRefused(Verdict.INVALID_ARGUMENT, message)


def _busy(message: str) -> FieldRefused:
    return FieldRefused(Verdict.RESOURCE_EXHAUSTED, message)


def _check(request: FieldAsk) -> None:
    if request.kind == VOLUME:
        if not 1 <= request.size <= MAX_VOLUME:
            raise _invalid(f"size must be in 1..{MAX_VOLUME}, got {request.size}")
        return
    if request.kind not in GRIDS:
        raise _invalid(f"kind must be COVERAGE, OCCLUSION, UNCERTAINTY or VOLUME, got {request.kind.upper()}")
    if not 1 <= request.height <= MAX_GRID_HEIGHT:
        raise _invalid(f"height must be in 1..{MAX_GRID_HEIGHT}, got {request.height}")
    if not 1 <= request.width <= MAX_GRID_WIDTH:
        raise _invalid(f"width must be in 1..{MAX_GRID_WIDTH}, got {request.width}")
    if request.height * request.width > MAX_GRID_CELLS:
        raise _invalid(f"height × width must be at most {MAX_GRID_CELLS:,} cells (the reply must fit the client's "
                       f"{CLIENT_MAX_RECEIVE_BYTES // (1 << 20)} MiB receive limit), got "
                       f"{request.height * request.width:,}")


class FieldDesk:
    """Answers GetField for the world host; see the module docstring. Thread-safe."""

    def __init__(self, host: WorldHost, limits: FieldLimits = FieldLimits(),
                 on_snapshot: Callable[[], None] | None = None) -> None:
        self._host = host
        self.limits = limits
        self._on_snapshot = on_snapshot  # tests: runs between the snapshot and the computation
        self._budget = TokenBuckets(limits.work_per_s, float(limits.max_work))
        self._workers = threading.BoundedSemaphore(limits.workers)
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._waiting = 0

    def work(self, request: FieldAsk) -> int:
        """The estimated cost of a (checked) request for the world as it is now."""
        clusters, observers, nodes = self._host.field_sizes()
        if request.kind == VOLUME:
            return nodes + request.size**3
        terms = {"coverage": observers, "occlusion": clusters + len(self._host.scenario.regions),
                 "uncertainty": clusters}[request.kind]
        return request.height * request.width * max(1, terms)

    def fetch(self, subject: str, request: FieldAsk) -> FieldAnswer:
        _check(request)
        work = self.work(request)
        if work > self.limits.max_work:
            raise _busy(f"this field would take ~{work:,} evaluations on this world, over the "
                               f"{self.limits.max_work:,} one request may ask for; ask for a smaller grid or volume")
        with self._slot(subject):
            wait = self._budget.take(subject, work)
            if wait > 0:
                raise _busy(f"GetField budget of {subject!r} spent (each identity earns "
                                   f"{self.limits.work_per_s:,.0f} evaluations a second); retry in {wait:.1f} s")
            with self._worker():
                return self._compute(request)

    @contextmanager
    def _slot(self, subject: str) -> Iterator[None]:
        with self._lock:
            if self._in_flight[subject] >= self.limits.in_flight_per_identity:
                raise _busy(f"{subject!r} already has {self._in_flight[subject]} GetField requests running; "
                                   "wait for one to finish")
            self._in_flight[subject] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[subject] -= 1
                if not self._in_flight[subject]:
                    del self._in_flight[subject]

    @contextmanager
    def _worker(self) -> Iterator[None]:
        if not self._workers.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.limits.max_waiting:
                    raise _busy("the server is computing as many fields as it may; retry shortly")
                self._waiting += 1
            try:
                got = self._workers.acquire(timeout=self.limits.wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise _busy(f"no field worker was free within {self.limits.wait_s:g} s; retry shortly")
        try:
            yield
        finally:
            self._workers.release()

    def _compute(self, request: FieldAsk) -> FieldAnswer:
        volume = request.kind == VOLUME
        snapshot = self._host.field_snapshot(with_nodes=volume)  # the only part under the world lock
        if self._on_snapshot is not None:
            self._on_snapshot()
        tick = snapshot.tick
        if volume:
            data = np.ascontiguousarray(snapshot.volume(request.size), dtype=np.float32)
            return FieldAnswer(tick, core_frames.encode_field(data, tick))
        h, w = request.height, request.width
        fn = {"coverage": snapshot.coverage_grid, "occlusion": snapshot.occlusion_grid,
              "uncertainty": snapshot.uncertainty_grid}[request.kind]
        grid = np.ascontiguousarray(fn(h, w), dtype=np.float32)
        return FieldAnswer(tick, core_frames.encode_grid(grid, tick))


__all__ = ["GRIDS", "MAX_FIELD_WORK", "MAX_GRID_CELLS", "MAX_GRID_HEIGHT", "MAX_GRID_WIDTH", "MAX_VOLUME", "VOLUME",
           "FieldAnswer", "FieldAsk", "FieldDesk", "FieldLimits", "FieldRefused"]
