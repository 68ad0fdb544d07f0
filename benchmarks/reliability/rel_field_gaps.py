"""Frame gaps while viewers hammer ``GetField``: does computing fields still stall the world's stream?

A real ``scythe serve`` process (``regional``, 5 Hz, as shipped) streams to one client that notes the arrival
time of every node frame (keyframe or delta) on ``CLOCK_MONOTONIC``; meanwhile three viewers, each with its own
identity (tokens signed with the server's key file), call GetField in a loop over the largest grids the server
allows (coverage, occlusion, uncertainty at 1000 × 1000) and the largest volume, as fast as the server answers
or refuses them. The figure is the 99th percentile of the gaps between consecutive node frames; a run without
viewers in the same process gives the baseline. Knows processes, clients and clocks.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from benchmarks.reliability.rel_serve import ServeProcess, local_credentials

VIEWERS = 3
REQUESTS = (("coverage", 1000, 1000, 0), ("occlusion", 1000, 1000, 0), ("uncertainty", 1000, 1000, 0),
            ("volume", 0, 0, 96))


def _viewer_loop(client: Any, stop: threading.Event, counts: dict[str, int], lock: threading.Lock) -> None:
    from scythe_desktop.client.grpc_client import OrchestratorError

    for kind, h, w, size in itertools.cycle(REQUESTS):
        if stop.is_set():
            return
        try:
            client.field(kind, height=h, width=w, size=size)
            outcome = "answered"
        except OrchestratorError as exc:
            if stop.is_set():
                return
            outcome = "refused_" + exc.code.name.lower()
            if exc.code is grpc.StatusCode.RESOURCE_EXHAUSTED:
                stop.wait(0.05)  # a client backing off as told, not a busy loop in this process
        with lock:
            counts[outcome] = counts.get(outcome, 0) + 1


def _gaps(server: ServeProcess, seconds: float, viewers: int) -> dict[str, Any]:
    from scythe_desktop.client.grpc_client import Backoff, OrchestratorClient
    from scythe_desktop.orchestrator import auth
    from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

    authority = auth.TokenAuthority((server.workdir / "auth.key").read_bytes().strip())
    arrivals: list[float] = []
    stream = OrchestratorClient(server.target, local_credentials(), refresh_token=server.token("viewer"),
                                backoff=Backoff(initial_s=0.02, cap_s=0.2))
    clients = [OrchestratorClient(server.target, local_credentials(), timeout_s=60.0,
                                  refresh_token=authority.issue(f"field-viewer-{i}", auth.VIEWER, kind="refresh"))
               for i in range(viewers)]
    stop = threading.Event()
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def on_frame(frame: Any) -> None:
        if frame.kind in (pb.KEYFRAME, pb.DELTA):
            arrivals.append(time.monotonic())

    streamer = threading.Thread(target=lambda: stream.stream(on_frame), daemon=True)
    streamer.start()
    threads = [threading.Thread(target=_viewer_loop, args=(c, stop, counts, lock), daemon=True) for c in clients]
    for t in threads:
        t.start()
    stop.wait(seconds)  # the measurement window itself
    stop.set()
    for c in clients:
        c.cancel()
    stream.cancel()
    for t in (*threads, streamer):
        t.join(timeout=60)
    for c in (*clients, stream):
        c.close()
    gaps = np.diff(np.asarray(arrivals[1:]))  # from the second frame: the first waits for the connection
    p99 = float(np.percentile(gaps, 99)) * 1e3 if gaps.size else None
    return {"p99": round(p99, 1) if p99 is not None else None,
            "max": round(float(gaps.max()) * 1e3, 1) if gaps.size else None,
            "frames": len(arrivals), "requests": counts}


def run_field_gaps(workdir: Path, seconds: float, *, scenario: str = "regional", tick_hz: float = 5.0
                   ) -> dict[str, Any]:
    server = ServeProcess(workdir, scenario=scenario, tick_hz=tick_hz, keyframe_every=50)
    server.start()
    try:
        baseline = _gaps(server, max(2.0, seconds / 4), 0)
        loaded = _gaps(server, seconds, VIEWERS)
    finally:
        server.stop()
    return {
        "frame_gap_p99_ms_with_field_requests": loaded["p99"],
        "frame_gap_max_ms_with_field_requests": loaded["max"],
        "frame_gap_p99_ms_without_field_requests": baseline["p99"],
        "field_requests": loaded["requests"],
        "field_load_seconds": seconds,
        "field_load_scenario": scenario,
        "field_load_tick_hz": tick_hz,
        "frames_during_field_load": loaded["frames"],
    }


__all__ = ["run_field_gaps"]
