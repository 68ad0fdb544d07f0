"""Bad input never stops the console: unreachable orchestrators, refused tokens, malformed frames."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from scythe_desktop.client.source import SourceError, parse_source
from scythe_desktop.console.model.mailbox import FrameMailbox
from scythe_desktop.console.workers import StreamWorker
from scythe_desktop.core.frames import FrameKind, encode_delta, encode_keyframe
from scythe_desktop.core.layout import empty_deltas, make_node_buffer
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def orchestrator() -> Iterator[Orchestrator]:
    orch = Orchestrator(ServerConfig(scenario="tutorial", seed=1, port=free_port(), tick_hz=10.0))
    yield orch
    orch.stop(grace=0)


@pytest.mark.gl
def test_unreachable_orchestrator_is_reported_then_the_console_connects(
    make_window: Any, qtbot: Any, orchestrator: Orchestrator
) -> None:
    token = orchestrator.issue_refresh_token("tester", "operator")
    window = make_window(f"grpc://127.0.0.1:{orchestrator.config.port}", token=token)
    qtbot.waitUntil(lambda: window._status_state.text() == "reconnecting", timeout=30_000)
    assert "UNAVAILABLE" in window.connection_dock.field("last problem")
    assert window.frames_applied == 0
    orchestrator.start()  # the orchestrator comes up: the console connects by itself
    qtbot.waitUntil(lambda: window.frames_applied > 0 and len(window.globe.swarm) > 0, timeout=60_000)
    qtbot.waitUntil(lambda: window._status_state.text() == "streaming", timeout=30_000)
    assert window.connection_dock.field("transport") == "loopback, local credentials"


@pytest.mark.gl
@pytest.mark.parametrize("which", ["forged", "expired"])
def test_a_refused_token_is_shown_and_the_console_keeps_running(
    make_window: Any, qtbot: Any, orchestrator: Orchestrator, which: str
) -> None:
    orchestrator.start()
    if which == "forged":
        token = Orchestrator(ServerConfig(scenario="tutorial")).issue_refresh_token("mallory", "admin")
    else:
        token = orchestrator.authority.issue("tester", "operator", kind="refresh", ttl_s=-60.0)
    window = make_window(f"grpc://127.0.0.1:{orchestrator.config.port}", token=token)
    qtbot.waitUntil(lambda: "UNAUTHENTICATED" in window.connection_dock.field("last problem"), timeout=30_000)
    message = window.connection_dock.field("last problem")
    assert token not in message  # tokens never appear in messages
    assert window.isVisible() and window.frames_applied == 0
    # The event loop still runs: the fps timer keeps updating the status bar.
    before = window._status_fps.text()
    window._status_fps.setText("probe")
    qtbot.waitUntil(lambda: window._status_fps.text() != "probe", timeout=5_000)
    assert before


def test_a_malformed_frame_is_reported_and_dropped_and_the_stream_goes_on(qtbot: Any) -> None:
    mailbox = FrameMailbox()
    worker = StreamWorker(lambda _on_state: None, mailbox)  # type: ignore[arg-type, return-value]
    problems: list[str] = []
    worker.problem.connect(problems.append)
    nodes = make_node_buffer([0.0, 10.0], [0.0, 5.0])
    worker._offer(WireFrame(1, pb.KEYFRAME, 0, 0, encode_keyframe(nodes, 1)))
    worker._offer(WireFrame(2, pb.DELTA, 1, 1, b"\x00" * 30))  # truncated garbage
    assert problems and "malformed frame seq 2" in problems[-1]
    assert mailbox.waiting_for_keyframe  # the node chain is broken: wait for the next keyframe
    worker._offer(WireFrame(3, pb.OBSERVERS, 0, 1, b"\xff\xff\xff"))  # not an ObserverList
    assert "malformed frame seq 3" in problems[-1]
    worker._offer(WireFrame(4, pb.KEYFRAME, 0, 2, encode_keyframe(nodes, 4)))
    worker._offer(WireFrame(5, pb.DELTA, 4, 3, encode_delta(empty_deltas(0), 5)))
    batch = mailbox.take()
    assert batch is not None and batch.keyframe is not None and batch.keyframe[0] == 4
    assert [d.seq for d in batch.deltas] == [5]
    assert FrameKind.KEYFRAME not in batch.latest


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("grpc://host-without-port", "grpc://HOST:PORT"),
        ("grpc://user:secret@host:50051", "must not carry credentials"),
        ("replay:", "needs a file name"),
        ("ftp://x:1", "'embedded', 'grpc://HOST:PORT' or 'replay:FILE'"),
    ],
)
def test_bad_source_values_are_refused_by_name(text: str, fragment: str) -> None:
    with pytest.raises(SourceError, match=None) as info:
        parse_source(text)
    assert fragment in str(info.value)


def test_a_missing_recording_is_refused_naming_the_file(tmp_path: Any) -> None:
    from scythe_desktop.console.sources import open_source

    with pytest.raises(SourceError, match="cannot replay") as info:
        open_source(parse_source(f"replay:{tmp_path / 'rec.mcap'}"))
    assert str(tmp_path / "rec.mcap") in str(info.value)
