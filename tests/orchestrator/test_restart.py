"""kill -9 of a real ``scythe serve`` process mid-stream: the client resumes after the restart with no
lost, duplicated or reordered frames (a gap is always covered by a fresh keyframe), seqs are never
reused, the world continues, and action outcomes survive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.reliability.rel_serve import ServeProcess, local_credentials
from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient, OrchestratorError
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeProcess]:
    s = ServeProcess(tmp_path)
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


def test_resume_after_server_kill_loses_no_frames(server: ServeProcess) -> None:
    token = server.token("operator")
    client = OrchestratorClient(
        server.target,
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

    with OrchestratorClient(server.target, local_credentials(), refresh_token=token) as again:
        replay = again.deploy(-70.0, 40.0, request_id="deploy-once")
        assert replay.replayed and replay.observer_id == first.observer_id
        assert len(again.list_observers().observers) == 1
        assert again.world_info().seed == 11
    client.close()


def test_tokens_never_appear_in_the_server_log(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path)
    server.start()
    try:
        tokens = [server.token(r) for r in ("viewer", "operator", "admin")]
        with OrchestratorClient(server.target, local_credentials(), refresh_token=tokens[1]) as c:
            c.deploy(-74.0, 40.7)
            with pytest.raises(OrchestratorError, match="FAILED_PRECONDITION"):
                c.deploy(100.0, 10.0)
        with (
            OrchestratorClient(server.target, local_credentials(), refresh_token=tokens[0][:-3] + "xyz") as c,
            pytest.raises(OrchestratorError, match="UNAUTHENTICATED"),
        ):
            c.world_info()
    finally:
        server.stop()
    text = server.banner + server.log_path.read_text() + server.audit_path.read_bytes().decode("latin-1")
    assert "serving tutorial" in text
    for token in tokens:
        for piece in token.split("."):  # not even the signature or the claims part
            assert piece not in text
