"""kill -9 of a real ``scythe serve`` process mid-stream: the client resumes after the restart with no
lost, duplicated or reordered frames (a gap is always covered by a fresh keyframe), seqs are never
reused, the world continues, and action outcomes survive."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient, OrchestratorError
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame


def local_credentials() -> grpc.ChannelCredentials:
    return grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.port = tmp, port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        key = self.tmp / "auth.key"  # created by the first server, read by the next
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scythe_desktop",
                "serve",
                "--scenario",
                "tutorial",
                "--seed",
                "11",
                "--port",
                str(self.port),
                "--state",
                str(self.tmp / "state"),
                "--auth-key-file",
                str(key),
                "--tick-hz",
                "20",
                "--keyframe-every",
                "30",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the server listens (or dies)
        assert line.startswith("serving tutorial on"), line

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path, free_port())
    s.start()
    yield s
    s.stop()


class Collector:
    """Receives frames on a thread; tests wait on counts, never on time."""

    def __init__(self, client: OrchestratorClient) -> None:
        self.frames: list[WireFrame] = []
        self.states: list[ConnectionState] = []
        self._cond = threading.Condition()
        self._client = client
        self.thread = threading.Thread(target=lambda: client.stream(self._add), daemon=True)

    def _add(self, frame: WireFrame) -> None:
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()

    def wait_until(self, predicate: object, timeout: float = 60.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.frames), timeout), "no such frames in time"  # type: ignore[operator]


def test_resume_after_server_kill_loses_no_frames(server: Server) -> None:
    token = (server.tmp / "state" / "operator.token").read_text().strip()
    client = OrchestratorClient(
        f"127.0.0.1:{server.port}",
        local_credentials(),
        refresh_token=token,
        backoff=Backoff(initial_s=0.02, cap_s=0.2),
        seed=3,
    )
    first = client.deploy(-70.0, 40.0, request_id="deploy-once")
    collector = Collector(client)
    collector.thread.start()
    # Ticks cannot run faster than 20 Hz, so tick 40 is ≥ 2 s in: past at least one checkpoint (every 1 s).
    collector.wait_until(lambda fs: fs and fs[-1].tick >= 40)

    server.kill9()
    with collector._cond:
        before = list(collector.frames)
    server.start()
    collector.wait_until(lambda fs: len(fs) >= len(before) + 25)
    client.cancel()
    collector.thread.join(10)
    frames = collector.frames

    seqs = [f.seq for f in frames]
    assert seqs == sorted(set(seqs)), "a frame was duplicated or reordered"
    after = frames[len(before) :]
    assert after[0].kind == pb.KEYFRAME, "the restart gap must be covered by a fresh keyframe"
    assert after[0].seq > before[-1].seq, "a seq was reused after the restart"
    last_node = 0
    for f in frames:
        if f.kind == pb.DELTA:
            assert f.base_seq == last_node, f"delta {f.seq} does not chain onto node frame {last_node}"
        if f.kind in (pb.KEYFRAME, pb.DELTA):
            last_node = f.seq
    # Within one server life, no frame is skipped.
    for part in (before, after):
        assert [f.seq for f in part] == list(range(part[0].seq, part[-1].seq + 1))
    # The world continued from its checkpoint instead of starting again at tick 0.
    assert after[0].tick > 0

    with OrchestratorClient(f"127.0.0.1:{server.port}", local_credentials(), refresh_token=token) as again:
        replay = again.deploy(-70.0, 40.0, request_id="deploy-once")
        assert replay.replayed and replay.observer_id == first.observer_id
        assert len(again.list_observers().observers) == 1
        assert again.world_info().seed == 11
    client.close()


def test_tokens_never_appear_in_the_server_log(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scythe_desktop",
                "serve",
                "--scenario",
                "tutorial",
                "--port",
                str(port),
                "--state",
                str(tmp_path / "state"),
                "--audit",
                str(tmp_path / "audit.sqlite"),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            tokens = [(tmp_path / "state" / f"{r}.token").read_text().strip() for r in ("viewer", "operator", "admin")]
            with OrchestratorClient(f"127.0.0.1:{port}", local_credentials(), refresh_token=tokens[1]) as c:
                c.deploy(-74.0, 40.7)
                with pytest.raises(OrchestratorError, match="FAILED_PRECONDITION"):
                    c.deploy(100.0, 10.0)
            with (
                OrchestratorClient(f"127.0.0.1:{port}", local_credentials(), refresh_token=tokens[0][:-3] + "xyz") as c,
                pytest.raises(OrchestratorError, match="UNAUTHENTICATED"),
            ):
                c.world_info()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = banner + log_path.read_text() + (tmp_path / "audit.sqlite").read_bytes().decode("latin-1")
    assert "serving tutorial" in text
    for token in tokens:
        for piece in token.split("."):  # not even the signature or the claims part
            assert piece not in text
