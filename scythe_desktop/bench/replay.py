"""``scythe bench replay``: seeking, replay throughput, recording overhead and file size of a simulated run.

One run records ``duration`` of the ``regional`` scenario (1 h; 2 min with ``--quick``, which uses
``tutorial``) with ``scythe simulate``'s machinery and the default recorder settings, then measures:

* ``seek_ms_p99`` (p50, max): restoring the node state at random times — ``Timeline.play(t)``'s
  catch-up events decoded and applied to a fresh ``NodeSwarm``, what the console does on a scrub —
  against ``read_from_start_ms``, the same state built by reading from the start (the baseline);
* ``replay_vs_live_throughput``: frames per second decoded from the file by a full replay ÷ frames per
  second the live stream carries (frames / seconds of log time);
* ``record_overhead_pct``: the share of a live stream's time that recording it takes — seconds the
  recorder is busy writing 3 min of frames (made beforehand, so the world's cost is not counted) ÷
  those 3 min. A live stream is paced by its tick rate, so this is the throughput it loses only if the
  recorder shared its thread; on its worker thread the stream waits for nothing while this is < 100%;
* ``simulate_overhead_pct``: the worst case, a CPU-bound faster-than-real-time stream (``scythe
  simulate``) with a ``RecordingWorker`` on vs off, on the same cores (best of two each, the
  worker's drain at close included);
* ``bytes_per_hour_mb``: file size scaled to one hour.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from scythe_desktop.client.grpc_client import decode
from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.recording.reader import Recording
from scythe_desktop.recording.simulate import Simulation, record_event
from scythe_desktop.recording.timeline import ReplayEvent, Timeline
from scythe_desktop.recording.writer import Recorder, RecordingWorker

_NS = 1_000_000_000
TICK_HZ = 5.0


def _apply(swarm: NodeSwarm, event: ReplayEvent) -> None:
    frame = event.frame
    if frame is None:
        return
    decoded = decode(frame)
    if not isinstance(decoded, core_frames.Frame):
        return  # an observer list
    if decoded.kind == core_frames.FrameKind.KEYFRAME:
        swarm.load_keyframe(decoded.data)
    elif decoded.kind == core_frames.FrameKind.DELTA:
        swarm.apply_delta(decoded.data)


def _record(path: Path, scenario: str, ticks: int) -> float:
    t0 = time.perf_counter()
    with Recorder(path, metadata={"source": "bench"}) as rec:
        for ev in Simulation(scenario, 1, None, tick_hz=TICK_HZ).run(ticks):
            record_event(rec, ev)
    return time.perf_counter() - t0


def _stream_seconds(scenario: str, ticks: int, out: Path | None) -> float:
    """Wall time to produce ``ticks`` ticks of frames, handing them to a recording worker when ``out``."""
    sim = Simulation(scenario, 2, None, tick_hz=TICK_HZ)
    t0 = time.perf_counter()
    if out is None:
        for _ev in sim.run(ticks):
            pass
    else:
        worker = RecordingWorker(Recorder(out, overwrite=True))
        for ev in sim.run(ticks):
            if ev.frame is not None:
                worker.write_frame(ev.frame, ev.log_time_ns)
        worker.close()
    return time.perf_counter() - t0


def _recorder_busy_seconds(scenario: str, ticks: int, out: Path) -> tuple[float, float]:
    """(seconds the recorder spends writing ``ticks`` ticks of frames, seconds of log time they cover)."""
    events = [ev for ev in Simulation(scenario, 3, None, tick_hz=TICK_HZ).run(ticks) if ev.frame is not None]
    t0 = time.perf_counter()
    with Recorder(out, overwrite=True) as rec:
        for ev in events:
            rec.write_frame(ev.frame, ev.log_time_ns)  # type: ignore[arg-type]
    return time.perf_counter() - t0, ticks / TICK_HZ


def _seek_ms(rec: Recording, t_ns: int) -> float:
    t0 = time.perf_counter()
    swarm = NodeSwarm()
    for e in Timeline(rec).play(t_ns):
        if not e.catch_up:
            break
        _apply(swarm, e)
    return (time.perf_counter() - t0) * 1e3


def _from_start_ms(rec: Recording, t_ns: int) -> float:
    t0 = time.perf_counter()
    swarm = NodeSwarm()
    for e in Timeline(rec).play():
        if e.log_time_ns > t_ns:
            break
        _apply(swarm, e)
    return (time.perf_counter() - t0) * 1e3


def run(quick: bool = False) -> dict[str, Any]:
    scenario = "tutorial" if quick else "regional"
    duration_s = 120.0 if quick else 3600.0
    ticks = int(duration_s * TICK_HZ)
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory(prefix="scythe-bench-replay-") as tmp:
        path = Path(tmp) / "run.mcap"
        record_s = _record(path, scenario, ticks)
        size = path.stat().st_size
        with Recording(path) as rec:
            span = rec.end_ns - rec.start_ns
            seeks = [_seek_ms(rec, rec.start_ns + int(rng.integers(0, span))) for _ in range(20 if quick else 100)]
            baseline_at = [rec.start_ns + int(rng.integers(span // 4, span)) for _ in range(2 if quick else 3)]
            from_start = [_from_start_ms(rec, t) for t in baseline_at]
            seek_same = [_seek_ms(rec, t) for t in baseline_at]
            t0 = time.perf_counter()
            swarm = NodeSwarm()
            frames = 0
            for e in Timeline(rec).play():
                _apply(swarm, e)
                frames += e.frame is not None
            decode_s = time.perf_counter() - t0
            counts = dict(rec.message_counts)
        overhead_ticks = min(ticks, int(180 * TICK_HZ))
        busy_s, live_s = min(_recorder_busy_seconds(scenario, overhead_ticks, Path(tmp) / "busy.mcap")
                             for _ in range(2))
        off = min(_stream_seconds(scenario, overhead_ticks, None) for _ in range(2))
        on = min(_stream_seconds(scenario, overhead_ticks, Path(tmp) / "overhead.mcap") for _ in range(2))
    live_fps = frames / (span / _NS)
    replay_fps = frames / decode_s
    return {
        "scenario": scenario,
        "duration_s": duration_s,
        "simulate_and_record_s": round(record_s, 2),
        "file_mb": round(size / 1e6, 2),
        "bytes_per_hour_mb": round(size / 1e6 * 3600.0 / duration_s, 1),
        "bytes_per_hour_mb_target": 400.0,
        "messages": counts,
        "seek_ms_p50": round(float(np.percentile(seeks, 50)), 2),
        "seek_ms_p99": round(float(np.percentile(seeks, 99)), 2),
        "seek_ms_p99_target": 100.0,
        "seek_ms_max": round(max(seeks), 2),
        "read_from_start_ms": round(float(np.mean(from_start)), 1),
        "seek_ms_same_targets": round(float(np.mean(seek_same)), 2),
        "seek_speedup_vs_read_from_start": round(float(np.mean(from_start) / np.mean(seek_same)), 1),
        "live_frames_per_s": round(live_fps, 2),
        "replay_frames_per_s": round(replay_fps, 1),
        "replay_vs_live_throughput": round(replay_fps / live_fps, 1),
        "replay_vs_live_throughput_target": 1.0,
        "recorder_busy_s_per_live_s": round(busy_s / live_s, 4),
        "record_overhead_pct": round(busy_s / live_s * 100.0, 2),
        "record_overhead_pct_target": 10.0,
        "simulate_ticks_per_s_recording_off": round(overhead_ticks / off, 1),
        "simulate_ticks_per_s_recording_on": round(overhead_ticks / on, 1),
        "simulate_overhead_pct": round((on - off) / off * 100.0, 1),
    }
