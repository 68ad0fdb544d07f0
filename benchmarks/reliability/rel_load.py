"""R2: 50 streaming clients and operators acting, against one real orchestrator process, for a minute.

The server runs in its own process (``python -m benchmarks.reliability.rel_load serve``): the real
:class:`~scythe_desktop.orchestrator.server.Orchestrator`, with its hub's ``publish`` wrapped to note when each
seq was published (``CLOCK_MONOTONIC`` is shared by processes, so the client side subtracts it from its
arrival time). It prints ``serving PORT`` when it listens and, when its stdin closes, one JSON line with
the publish times. The bench process runs the clients: each streams every frame through the real
client; two operators deploy, raise sampling, relocate and decommission, read observers and a
coverage grid, every 0.1–0.5 s. The server's
RSS is sampled once a second. Figures: ``errors`` (stream errors, reconnects, unexpected action
errors), ``p99_frame_latency_ms`` (publish → client callback), ``rss_growth_after_warmup_mb`` and its
slope, ``lag_skips`` (frames a subscriber skipped to a newer keyframe because it fell behind).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

from benchmarks.reliability.rel_serve import child_env, local_credentials, rss_bytes

#: ≥ 32 random bytes, as scythe serve requires; the server process gets it through its environment (a module
#: constant of its own would be another random secret, and no token would verify).
SECRET = secrets.token_hex(32)


def _serve(scenario: str, tick_hz: float) -> None:
    from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig

    orch = Orchestrator(ServerConfig(scenario=scenario, tick_hz=tick_hz, auth_secret=os.environ["SCYTHE_AUTH_SECRET"],
                                      max_subscribers=64))
    published: dict[int, int] = {}
    publish = orch.hub.publish

    def noted(seq: int, kind: int, payload: bytes, **kw: Any) -> None:
        publish(seq, kind, payload, **kw)
        published[seq] = time.monotonic_ns()

    orch.hub.publish = noted  # type: ignore[method-assign]
    port = orch.start()
    # The hub's ring (bounded by design) is most of the memory a server legitimately gains while it fills.
    ring: list[tuple[float, int]] = []
    done = threading.Event()

    def sample_ring() -> None:
        while not done.wait(1.0):
            ring.append((time.monotonic(), orch.hub._bytes))

    sampler = threading.Thread(target=sample_ring, daemon=True)
    sampler.start()
    print(f"serving {port}", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    done.set()
    sampler.join()
    orch.stop()
    print(json.dumps({"published": published, "ring": ring}), flush=True)


def run_load(clients: int, seconds: float, seed: int, *, scenario: str = "regional", tick_hz: float = 10.0,
             operators: int = 2) -> dict[str, Any]:
    from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient, OrchestratorError
    from scythe_desktop.orchestrator import auth
    from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

    load_before = os.getloadavg()[0]  # the machine is shared: latency figures mean little without this
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.reliability.rel_load", "serve", scenario, str(tick_hz)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**child_env(), "SCYTHE_AUTH_SECRET": SECRET})
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        raise RuntimeError(f"load server did not start: {line!r}")
    target = f"127.0.0.1:{int(line.split()[1])}"
    authority = auth.TokenAuthority(SECRET.encode())
    stop = threading.Event()
    lock = threading.Lock()
    arrivals: list[list[tuple[int, int, int]]] = [[] for _ in range(clients)]
    errors: list[str] = []
    lag_skips = [0]
    all_connected = threading.Barrier(clients + 1)

    def stream(i: int) -> None:
        def on_state(state: ConnectionState, detail: str) -> None:
            if state is ConnectionState.RECONNECTING:
                with lock:
                    errors.append(f"client {i} reconnecting: {detail}")

        c = OrchestratorClient(target, local_credentials(), refresh_token=authority.issue(f"viewer-{i}", auth.VIEWER,
                               kind="refresh"), on_state=on_state, seed=seed + i, backoff=Backoff(0.02, 0.2))
        mine = arrivals[i]
        first = True
        last = 0
        try:
            for frame in c.frames():
                mine.append((frame.seq, frame.kind, time.monotonic_ns()))
                if last and frame.seq != last + 1:
                    with lock:
                        lag_skips[0] += frame.seq - last - 1
                last = frame.seq
                if first:
                    first = False
                    all_connected.wait(120)
                if stop.is_set():
                    break
        except OrchestratorError as exc:
            with lock:
                errors.append(f"client {i}: {exc}")
        finally:
            c.close()

    acted = [0]

    def operate(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        c = OrchestratorClient(target, local_credentials(),
                               refresh_token=authority.issue(f"operator-{k}", auth.OPERATOR, kind="refresh"))
        info = c.world_info()
        regions = list(info.regions)
        try:
            while not stop.is_set():
                r = rng.choice(regions)
                lon, lat = rng.uniform(r.lon_min, r.lon_max), rng.uniform(r.lat_min, r.lat_max)
                try:
                    oid = c.deploy(lon, lat).observer_id
                    c.increase_sampling(oid)
                    c.relocate(oid, rng.uniform(r.lon_min, r.lon_max), rng.uniform(r.lat_min, r.lat_max))
                    c.decommission(oid)
                    with lock:
                        acted[0] += 4
                except OrchestratorError as exc:
                    if exc.code.name not in ("FAILED_PRECONDITION", "NOT_FOUND"):
                        with lock:
                            errors.append(f"operator {k}: {exc}")
                c.list_observers()
                c.field(pb.COVERAGE, height=45, width=90)
                stop.wait(rng.uniform(0.1, 0.5))  # pacing: a busy operator, not a tight loop
        finally:
            c.close()

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    all_connected.wait(120)
    ops = [threading.Thread(target=operate, args=(k,), daemon=True) for k in range(operators)]
    for t in ops:
        t.start()
    rss: list[tuple[float, int]] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        rss.append((time.monotonic() - t0, rss_bytes(proc.pid)))
        stop.wait(1.0)  # the sampling period, not synchronisation
    stop.set()
    for t in ops + threads:
        t.join(60)
    proc.stdin.close()
    report = json.loads(proc.stdout.readline())
    published = {int(k): v for k, v in report["published"].items()}
    ring_warm = [b for t, b in report["ring"] if t - t0 >= seconds * 0.25]
    proc.wait(60)
    samples = [(kind, (ns - published[seq]) / 1e6) for mine in arrivals for seq, kind, ns in mine if seq in published]
    latencies = np.array([ms for _k, ms in samples])
    by_kind = {}
    for kind in sorted({k for k, _ms in samples}):
        values = np.array([ms for k, ms in samples if k == kind])
        by_kind[pb.FrameKind.Name(kind)] = round(float(np.percentile(values, 99)), 2)
    warm = [b for t, b in rss if t >= seconds * 0.25]
    slope = 0.0
    if len(warm) >= 3:
        xs = np.array([t for t, _b in rss if t >= seconds * 0.25])
        slope = float(np.polyfit(xs, np.array(warm) / 2**20, 1)[0]) * 60.0
    return {
        "clients": clients,
        "seconds": seconds,
        "scenario": scenario,
        "tick_hz": tick_hz,
        "errors": len(errors),
        "error_examples": errors[:5],
        "frames_delivered": int(latencies.size),
        "clients_without_frames": sum(1 for mine in arrivals if not mine),
        "p50_frame_latency_ms": round(float(np.percentile(latencies, 50)), 2) if latencies.size else None,
        "p99_frame_latency_ms": round(float(np.percentile(latencies, 99)), 2) if latencies.size else None,
        "p99_frame_latency_ms_by_kind": by_kind,
        "lag_skips": lag_skips[0],
        "actions": acted[0],
        "rss_after_warmup_mb": round(warm[0] / 2**20, 1) if warm else None,
        "rss_end_mb": round(rss[-1][1] / 2**20, 1) if rss else None,
        "rss_growth_after_warmup_mb": round((warm[-1] - warm[0]) / 2**20, 1) if warm else None,
        "rss_slope_mb_per_min": round(slope, 2),
        "rss_every_10s_mb": [round(b / 2**20, 1) for t, b in rss if int(t) % 10 == 0],
        "hub_ring_growth_after_warmup_mb": round((ring_warm[-1] - ring_warm[0]) / 2**20, 1) if ring_warm else None,
        "hub_ring_end_mb": round(report["ring"][-1][1] / 2**20, 1) if report["ring"] else None,
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "seed": seed,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        _serve(sys.argv[2], float(sys.argv[3]))
