"""R1: a client streams and an operator acts while ``scythe serve`` is SIGKILLed and restarted, again and again.

One real server process with a state directory; after each kill the same command starts it again on
the same port and state. A kill happens after a random number of frames (seeded) of the current life,
while an operator thread keeps deploying and decommissioning with fresh request ids (the client retries
each with the same id across the outage). Figures:

* ``restarts_survived`` — restarts after which the stream delivered frames again;
* ``max_resume_s`` — longest time from the restarted server's ``serving`` line to the client's first
  frame of the new life (the client's own reconnect; ``max_outage_s`` adds the process start-up);
* ``frames_lost`` — seqs missing inside one connection, or a reconnect gap *not* covered by a keyframe
  (a gap that begins with a fresh keyframe is the documented resume: the keyframe is the whole state);
* ``frames_duplicated`` — frames whose seq was not above the previous one;
* ``duplicate_actions`` — request ids the audit log shows as acted more than once, plus observers alive
  beyond what the acknowledged replies account for (a deploy applied twice leaves one extra).

The module knows the client, the server command line and the audit table, not the server's insides.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.reliability.rel_serve import ServeProcess, local_credentials
from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient, OrchestratorError
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame

#: A deploy target inside the tutorial's allowed regions.
DEPLOY_AT = (-70.0, 40.0)


@dataclass
class _Received:
    seq: int
    kind: int
    base_seq: int
    epoch: int
    at: float


class _Collector:
    """Streams on a thread; the epoch counts reconnects so gaps can be attributed."""

    def __init__(self, client: OrchestratorClient) -> None:
        self.frames: list[_Received] = []
        self.cond = threading.Condition()
        self.epoch = 0
        self.error: BaseException | None = None
        self._client = client
        self.thread = threading.Thread(target=self._run, name="r1-stream", daemon=True)

    def on_state(self, state: ConnectionState, _detail: str) -> None:
        if state is ConnectionState.RECONNECTING:
            with self.cond:
                self.epoch += 1

    def _run(self) -> None:
        try:
            self._client.stream(self._add)
        except BaseException as exc:  # reported as a figure, not lost in a thread
            self.error = exc
        with self.cond:
            self.cond.notify_all()

    def _add(self, frame: WireFrame) -> None:
        with self.cond:
            self.frames.append(_Received(frame.seq, frame.kind, frame.base_seq, self.epoch, time.monotonic()))
            self.cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.error is not None or predicate(), timeout)


@dataclass
class _Operator:
    client: OrchestratorClient
    stop: threading.Event = field(default_factory=threading.Event)
    deploys_ok: int = 0
    decommissions_ok: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                reply = self.client.deploy(*DEPLOY_AT, request_id=f"deploy-{n}")
                self.deploys_ok += 1
                self.client.decommission(reply.observer_id, request_id=f"decommission-{n}")
                self.decommissions_ok += 1
            except OrchestratorError as exc:
                if exc.code.name == "FAILED_PRECONDITION":
                    self.refused += 1
                elif exc.code.name != "CANCELLED":
                    self.errors.append(str(exc))


def audit_duplicates(audit_path: Path) -> int:
    """Request ids acted on (OK, not a replay) more than once for the same subject."""
    with sqlite3.connect(audit_path) as db:
        rows = db.execute(
            "SELECT COUNT(*) FROM (SELECT subject, request_id FROM audit WHERE result = 'OK' AND replayed = 0 "
            "GROUP BY subject, request_id HAVING COUNT(*) > 1)"
        ).fetchone()
    return int(rows[0])


def frame_figures(frames: list[_Received]) -> dict[str, int]:
    lost = duplicated = covered_gaps = 0
    last_node = 0
    chain_breaks = 0
    for prev, cur in itertools.pairwise(frames):
        if cur.seq <= prev.seq:
            duplicated += 1
            continue
        if cur.seq > prev.seq + 1:
            if cur.epoch != prev.epoch and cur.kind == pb.KEYFRAME:
                covered_gaps += 1
            else:
                lost += cur.seq - prev.seq - 1
    for f in frames:
        if f.kind == pb.DELTA and last_node and f.base_seq != last_node:
            chain_breaks += 1
        if f.kind in (pb.KEYFRAME, pb.DELTA):
            last_node = f.seq
    return {
        "frames_lost": lost + chain_breaks,
        "frames_duplicated": duplicated,
        "gaps_covered_by_keyframe": covered_gaps,
    }


def run_restarts(
    workdir: Path, kills: int, seed: int, *, max_frames_between: int = 40, timeout_s: float = 60.0
) -> dict[str, Any]:
    rng = random.Random(seed)
    server = ServeProcess(workdir)
    server.start()
    stream_client = operator_client = None
    try:
        token = server.token("operator")
        backoff = Backoff(initial_s=0.02, cap_s=0.2)
        collector_holder: list[_Collector] = []
        stream_client = OrchestratorClient(
            server.target, local_credentials(), refresh_token=token, backoff=backoff, seed=seed,
            on_state=lambda s, d: collector_holder[0].on_state(s, d),
        )
        collector = _Collector(stream_client)
        collector_holder.append(collector)
        operator_client = OrchestratorClient(
            server.target, local_credentials(), refresh_token=token, backoff=backoff, seed=seed + 1,
            action_attempts=10_000, timeout_s=5.0,
        )
        operator = _Operator(operator_client)
        collector.thread.start()
        op_thread = threading.Thread(target=operator.run, name="r1-operator", daemon=True)
        op_thread.start()
        resumes: list[float] = []
        outages: list[float] = []
        survived = 0
        for _ in range(kills):
            with collector.cond:
                base = len(collector.frames)
            k = rng.randint(1, max_frames_between)
            if not collector.wait_for(lambda b=base, k=k: len(collector.frames) >= b + k, timeout_s):
                break
            killed_at = time.monotonic()
            server.kill9()
            server.start()
            ready = server.ready_at
            ok = collector.wait_for(lambda r=ready: bool(collector.frames) and collector.frames[-1].at >= r, timeout_s)
            if not ok or collector.error is not None:
                break
            with collector.cond:
                first = next(f for f in collector.frames if f.at >= ready)
            resumes.append(first.at - ready)
            outages.append(first.at - killed_at)
            survived += 1
        operator.stop.set()
        op_thread.join(timeout_s)
        with collector.cond:
            frames = list(collector.frames)
        live = len(operator_client.list_observers().observers)
        expected_live = operator.deploys_ok - operator.decommissions_ok
        stream_client.cancel()
        collector.thread.join(timeout_s)
        figures = frame_figures(frames)
        server.stop()
        return {
            "kills": kills,
            "restarts_survived": survived,
            "max_resume_s": round(max(resumes), 3) if resumes else None,
            "median_resume_s": round(sorted(resumes)[len(resumes) // 2], 3) if resumes else None,
            "max_outage_s": round(max(outages), 3) if outages else None,
            "frames_received": len(frames),
            **figures,
            "actions_acknowledged": operator.deploys_ok + operator.decommissions_ok,
            "actions_refused": operator.refused,
            "action_errors": len(operator.errors),
            "action_error_examples": operator.errors[:3],
            "duplicate_actions": audit_duplicates(server.audit_path) + max(0, live - expected_live),
            "observers_live": live,
            "observers_expected": expected_live,
            "stream_error": None if collector.error is None else str(collector.error),
            "token_leaks_in_serve_log": token_leaks(server, (token,)),
            "seed": seed,
        }
    finally:
        for c in (stream_client, operator_client):
            if c is not None:
                c.close()
        server.stop()


def token_leaks(server: ServeProcess, also: tuple[str, ...] = ()) -> int:
    """Pieces (claims, signature) of the server's refresh tokens (its latest ones and ``also``) found in its
    log or audit file."""
    text = server.log_path.read_text(errors="replace")
    if server.audit_path.exists():
        text += server.audit_path.read_bytes().decode("latin-1")
    tokens = [server.token(role) for role in ("viewer", "operator", "admin")] + list(also)
    pieces = {p for t in tokens for p in t.split(".")[1:]}
    return sum(1 for p in pieces if p in text)
