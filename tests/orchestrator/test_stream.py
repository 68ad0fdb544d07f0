"""Streaming from a real orchestrator on loopback: keyframe first, chained deltas, exact chunking,
resume, cancellation and connection states."""

from __future__ import annotations

import secrets
import socket
import threading
from pathlib import Path

import grpc
import numpy as np

from scythe_desktop.client import grpc_client as client_mod
from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.world import World
from scythe_desktop.orchestrator.auth import OPERATOR, TokenAuthority
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.protocol.world_wire import ObserverList

SECRET = secrets.token_hex(32)


def _take(client: OrchestratorClient, n: int, **kwargs: object) -> list[WireFrame]:
    out = []
    for frame in client.frames(**kwargs):  # type: ignore[arg-type]
        out.append(frame)
        if len(out) == n:
            break
    return out


def test_stream_starts_with_a_keyframe_and_deltas_chain_onto_it(client: OrchestratorClient) -> None:
    frames = _take(client, 40)
    assert frames[0].kind == pb.KEYFRAME
    seqs = [f.seq for f in frames]
    assert seqs == sorted(set(seqs))
    swarm = NodeSwarm()
    last_node = 0
    for f in frames:
        decoded = client_mod.decode(f)
        if f.kind == pb.KEYFRAME:
            swarm.load_keyframe(decoded.data)  # type: ignore[union-attr]
            last_node = f.seq
        elif f.kind == pb.DELTA:
            assert f.base_seq == last_node
            swarm.apply_delta(decoded.data)  # type: ignore[union-attr]
            last_node = f.seq
        elif f.kind == pb.OBSERVERS:
            assert isinstance(decoded, ObserverList)
    assert len(swarm) > 0


def test_stream_reproduces_the_world_bit_exactly(tmp_path: Path) -> None:
    """A client applying the stream holds the same node buffer as an identical world stepped alone."""
    handle = start_embedded("tutorial", 5, tick_hz=50.0, keyframe_every=1000, auth_secret=SECRET)
    try:
        with handle.client() as c:
            swarm = NodeSwarm()
            tick = 0
            for f in c.frames(kinds=[pb.KEYFRAME, pb.DELTA]):
                data = client_mod.decode(f).data  # type: ignore[union-attr]
                if f.kind == pb.KEYFRAME:
                    swarm.load_keyframe(data)
                else:
                    swarm.apply_delta(data)
                tick = f.tick
                if tick >= 15:
                    break
    finally:
        handle.stop()
    reference = World("tutorial", 5)
    for _ in range(tick):
        reference.step()
    np.testing.assert_array_equal(swarm.nodes, reference.nodes)


def test_keyframes_chunked_through_the_server_reassemble_exactly() -> None:
    handle = start_embedded("regional", 2, tick_hz=1.0, keyframe_every=1000, chunk_size=64 * 1024, auth_secret=SECRET)
    try:
        with handle.client() as c:
            keyframe = _take(c, 1, kinds=[pb.KEYFRAME])[0]
    finally:
        handle.stop()
    expected = World("regional", 2).nodes
    assert expected.nbytes > 5 * 64 * 1024  # it really travelled in several chunks
    np.testing.assert_array_equal(client_mod.decode(keyframe).data, expected)  # type: ignore[union-attr]


def test_resume_from_a_seq_delivers_exactly_the_frames_after_it(
    client: OrchestratorClient, embedded: EmbeddedOrchestrator
) -> None:
    first = _take(client, 10)
    resumed_from = first[4].seq
    with embedded.client() as other:
        again = _take(other, 5, resume_from_seq=resumed_from)
    assert [f.seq for f in again] == [f.seq for f in first[5:10]]
    assert [f.payload for f in again] == [f.payload for f in first[5:10]]


def test_cancel_from_another_thread_ends_the_stream_and_reports_states(embedded: EmbeddedOrchestrator) -> None:
    states: list[ConnectionState] = []
    streaming = threading.Event()

    def on_state(state: ConnectionState, _detail: str) -> None:
        states.append(state)
        if state is ConnectionState.STREAMING:
            streaming.set()

    c = embedded.client(on_state=on_state)
    ended = threading.Event()

    def run() -> None:
        c.stream(lambda _f: None)
        ended.set()

    threading.Thread(target=run, daemon=True).start()
    assert streaming.wait(10)
    c.cancel()
    assert ended.wait(5)
    assert states == [ConnectionState.CONNECTING, ConnectionState.STREAMING, ConnectionState.CLOSED]
    c.close()


def test_an_action_sent_while_the_server_is_down_is_retried_and_acts_once(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = ServerConfig(scenario="tutorial", port=port, auth_secret=SECRET, state_dir=tmp_path, tick_hz=10.0)
    token = TokenAuthority(SECRET.encode()).issue("ops", OPERATOR, kind="refresh")
    failed = threading.Event()
    c = OrchestratorClient(
        f"127.0.0.1:{port}",
        grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
        refresh_token=token,
        backoff=Backoff(initial_s=0.05, cap_s=0.2),
        action_attempts=200,
    )
    c._channel.subscribe(
        lambda s: failed.set() if s is grpc.ChannelConnectivity.TRANSIENT_FAILURE else None, try_to_connect=True
    )
    replies: list[pb.ActionReply] = []
    worker = threading.Thread(target=lambda: replies.append(c.deploy(-74.0, 40.7, request_id="while-down")))
    worker.start()
    assert failed.wait(30), "the first attempt should have found no server"
    orch = Orchestrator(config)
    orch.start()
    try:
        worker.join(60)
        assert replies and replies[0].ok and not replies[0].replayed
        assert c.deploy(-74.0, 40.7, request_id="while-down").replayed
        assert len(c.list_observers().observers) == 1
    finally:
        c.close()
        orch.stop()


def test_embedded_on_a_unix_socket_streams_and_acts(tmp_path: Path) -> None:
    handle = start_embedded("tutorial", 0, tick_hz=20.0, unix_socket=tmp_path / "orch.sock", auth_secret=SECRET)
    try:
        assert handle.target == f"unix:{tmp_path / 'orch.sock'}"
        with handle.client() as c:
            assert _take(c, 1)[0].kind == pb.KEYFRAME
            assert c.deploy(-74.0, 40.7).ok
    finally:
        handle.stop()
