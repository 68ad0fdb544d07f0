"""Replay: the same frames as live, seeks that restore the exact node buffer, and thread-safe controls."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest

from scythe_desktop.cli import main
from scythe_desktop.client.embedded import EmbeddedOrchestrator
from scythe_desktop.client.grpc_client import ConnectionState, OrchestratorClient, OrchestratorError
from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.layout import DELTA_DTYPE
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.policies import load_policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording
from scythe_desktop.recording.replay import ReplayClient, ReplaySource
from scythe_desktop.recording.session import RecordingSession
from scythe_desktop.recording.simulate import Simulation, record_event
from scythe_desktop.recording.timeline import IdTranslator, ReplayEvent, Timeline
from scythe_desktop.recording.writer import Recorder, RecordingWorker, decision_message

NS = 1_000_000_000
TICKS = 240  # 48 s of log time at 5 Hz: keyframes every 10 s, checkpoints in between


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, WireFrame]]]:
    """A greedy run of the tutorial world recorded to a file, and the live frames it produced."""
    path = tmp_path_factory.mktemp("replay") / "run.mcap"
    sim = Simulation("tutorial", 7, load_policy("greedy"), keyframe_every=50, decide_every=10)
    live: list[tuple[int, WireFrame]] = []
    with Recorder(path, keyframe_interval_s=2.0, chunk_size=64 * 1024) as rec:
        for ev in sim.run(TICKS):
            record_event(rec, ev)
            if ev.frame is not None:
                live.append((ev.log_time_ns, ev.frame))
    return path, live


def _apply(swarm: NodeSwarm, frames: Iterable[WireFrame]) -> NodeSwarm:
    for f in frames:
        if f.kind == pb.KEYFRAME:
            swarm.load_keyframe(core_frames.decode(f.payload).data)
        elif f.kind == pb.DELTA:
            swarm.apply_delta(core_frames.decode(f.payload).data)
    return swarm


def _nodes_at(live: list[tuple[int, WireFrame]], t_ns: int) -> np.ndarray:
    """The node buffer after every live frame logged at or before ``t_ns``."""
    return _apply(NodeSwarm(), (f for t, f in live if t <= t_ns)).nodes.copy()


def test_replay_from_the_start_yields_exactly_the_live_frames(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    with Recording(path) as rec:
        replayed = [(e.log_time_ns, e.frame) for e in Timeline(rec).play() if e.frame is not None]
    assert replayed == live
    # And the node state at every keyframe equals the live state, byte for byte.
    swarm = NodeSwarm()
    for (_, f), (_, g) in zip(replayed, live, strict=True):
        _apply(swarm, [f])
        if f.kind == pb.KEYFRAME:
            assert swarm.nodes.tobytes() == core_frames.decode(g.payload).data.tobytes()


def test_seek_lands_on_the_nearest_seek_point_and_restores_the_full_replay_buffer(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    rng = np.random.default_rng(11)
    with Recording(path) as rec:
        start = rec.start_ns
        checkpoints = [m.log_time_ns for m in rec.messages([schemas.TOPIC_CHECKPOINTS])]
        keyframes = [m.log_time_ns for m in rec.messages([schemas.TOPIC_KEYFRAMES])]
        assert len(checkpoints) >= 10 and len(keyframes) >= 4
        seek_points = sorted(checkpoints + keyframes)
        targets = [*checkpoints[:3], *keyframes[1:3], *(start + int(x) for x in rng.integers(0, TICKS * NS // 5, 12))]
        for t in targets:
            events = list(_catch_up(Timeline(rec).play(t)))
            node_events = [e for e in events if e.is_node_frame]
            anchor = node_events[0]
            assert anchor.frame is not None and anchor.frame.kind == pb.KEYFRAME
            # The nearest seek point at or before t, so at most 2 s of deltas follow it.
            assert anchor.log_time_ns == max(p for p in seek_points if p <= t), t
            assert all(e.log_time_ns <= t for e in events)
            seeked = _apply(NodeSwarm(), (e.frame for e in node_events if e.frame is not None))
            assert seeked.nodes.tobytes() == _nodes_at(live, t).tobytes(), f"seek to {t - start} ns"


def _catch_up(events: Iterator[ReplayEvent]) -> Iterator[ReplayEvent]:
    for e in events:
        if not e.catch_up:
            return
        yield e


def test_playing_on_from_a_checkpoint_keeps_the_buffer_equal_to_live(simulated: tuple[Path, list]) -> None:
    """After a checkpoint the deltas are rewritten into its id space; the rows stay identical to live."""
    path, live = simulated
    with Recording(path) as rec:
        # A checkpoint taken after removals, where the stream's ids are no longer the rows.
        cp = next(
            m.log_time_ns
            for m in rec.messages([schemas.TOPIC_CHECKPOINTS])
            if (ids := np.frombuffer(schemas.Checkpoint.FromString(m.data).ids, "<u4")).size
            and (ids != np.arange(ids.size)).any()
        )
        swarm, live_swarm = NodeSwarm(), NodeSwarm()
        pending = iter(live)
        checked = rewritten = 0
        for e in Timeline(rec).play(cp):
            if e.frame is None:
                continue
            _apply(swarm, [e.frame])
            if e.frame.kind == pb.DELTA and not e.catch_up:
                while (nxt := next(pending))[1].seq != e.frame.seq:
                    _apply(live_swarm, [nxt[1]])
                _apply(live_swarm, [nxt[1]])
                assert swarm.nodes.tobytes() == live_swarm.nodes.tobytes()
                checked += 1
                rewritten += e.frame.payload != nxt[1].payload
        assert checked > 100 and rewritten > 0  # ids were translated, and it mattered


# ----------------------------------------------------------------------------------- the source


class _Consumer:
    """Runs ``source.events()`` on a worker thread, as the console's QThread would, into a queue."""

    def __init__(self, source: ReplaySource, **kwargs: bool) -> None:
        self.source = source
        self.queue: queue.Queue[ReplayEvent | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, kwargs=kwargs, daemon=True)
        self.thread.start()

    def _run(self, **kwargs: bool) -> None:
        try:
            for e in self.source.events(**kwargs):
                self.queue.put(e)
        finally:
            self.queue.put(None)

    def until(self, predicate: object) -> list[ReplayEvent]:
        out = []
        while True:
            e = self.queue.get(timeout=30)
            assert e is not None, "replay ended early"
            out.append(e)
            if callable(predicate) and predicate(e):
                return out

    def finish(self) -> list[ReplayEvent]:
        self.source.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        out = []
        while (e := self.queue.get(timeout=30)) is not None:
            out.append(e)
        return out


def test_paused_source_steps_one_node_frame_at_a_time(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    source = ReplaySource(path, start_paused=True, paced=False)
    consumer = _Consumer(source)
    node_seqs = [f.seq for _, f in live if f.kind in (pb.KEYFRAME, pb.DELTA)]
    got: list[int] = []
    for _ in range(3):
        source.step()
        batch = consumer.until(lambda e: e.is_node_frame)
        got.append(batch[-1].frame.seq)  # type: ignore[union-attr]
        assert sum(e.is_node_frame for e in batch) == 1
    # Paused with no step pending, the worker delivers nothing more before it is stopped.
    assert consumer.finish() == []
    assert got == node_seqs[:3]


def test_seek_while_paused_delivers_the_state_at_the_target_with_a_new_generation(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    source = ReplaySource(path, start_paused=True, paced=False)
    consumer = _Consumer(source)
    source.step()
    first = consumer.until(lambda e: e.is_node_frame)
    target_s = 23.3
    source.seek(target_s)
    t_ns = source.start_ns + int(target_s * NS)
    state = consumer.until(
        lambda e: (
            e.is_node_frame
            and e.log_time_ns == max(t for t, f in live if t <= t_ns and f.kind in (pb.KEYFRAME, pb.DELTA))
        )
    )
    seeked = _apply(NodeSwarm(), (e.frame for e in state if e.frame is not None))
    assert seeked.nodes.tobytes() == _nodes_at(live, t_ns).tobytes()
    # The rest of the state (e.g. metrics logged after that delta but before the target) follows; then,
    # still paused, nothing.
    state += consumer.finish()
    assert {e.generation for e in state} == {first[0].generation + 1}
    assert all(e.catch_up and e.log_time_ns <= t_ns for e in state)
    assert source.position_s == pytest.approx(target_s, abs=0.21)


def test_loop_restarts_from_the_first_keyframe_and_speed_is_bounded(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    source = ReplaySource(path, paced=False, loop=True)
    with pytest.raises(ValueError, match="speed must be in"):
        source.set_speed(32.0)
    source.set_speed(16.0)
    consumer = _Consumer(source)
    events = consumer.until(lambda e: e.generation == 2 and e.is_node_frame)
    first_pass = [e.frame for e in events if e.generation == 1 and e.frame is not None]
    assert [(f.seq, f.payload) for f in first_pass] == [(f.seq, f.payload) for _, f in live]
    assert events[-1].frame == live[0][1]
    consumer.finish()


def test_paced_playback_keeps_log_time_order_and_ends(simulated: tuple[Path, list]) -> None:
    path, live = simulated
    source = ReplaySource(path, speed=16.0)
    source.seek(source.duration_s - 1.5)  # ~0.1 s of wall time at 16x
    events = list(source.events())
    times = [e.log_time_ns for e in events]
    assert times == sorted(times) and times[-1] == live[-1][0]


def test_decisions_are_bookmarks_and_proposals_replay(simulated: tuple[Path, list]) -> None:
    path, _ = simulated
    source = ReplaySource(path, paced=False)
    assert source.bookmarks and all(b.who == "policy:greedy" and b.label for b in source.bookmarks)
    assert [b.offset_s for b in source.bookmarks] == sorted(b.offset_s for b in source.bookmarks)
    topics = {e.topic for e in source.events()}
    assert {schemas.TOPIC_PROPOSALS, schemas.TOPIC_DECISIONS, schemas.TOPIC_METRICS, schemas.TOPIC_WORLD_INFO} <= topics


# -------------------------------------------------------------------------------------- live


def test_recording_a_live_stream_replays_the_frames_the_client_received(
    client: OrchestratorClient, tmp_path: Path
) -> None:
    path = tmp_path / "live.mcap"
    worker = RecordingWorker(Recorder(path, keyframe_interval_s=0.2))
    received: list[WireFrame] = []
    log_ns = 0
    for frame in client.frames():
        log_ns += 50_000_000  # one tick at 20 Hz; the file keeps the times it is given
        worker.write_frame(frame, log_ns)
        received.append(frame)
        if len(received) >= 60:
            client.cancel()
    worker.close()
    with Recording(path) as rec:
        assert rec.message_counts[schemas.TOPIC_CHECKPOINTS] > 0
        replayed = [e.frame for e in Timeline(rec).play() if e.frame is not None]
        assert replayed == received
        seek_to = rec.start_ns + (rec.end_ns - rec.start_ns) * 2 // 3
        state = [e.frame for e in _catch_up(Timeline(rec).play(seek_to)) if e.frame is not None]
    timed = list(zip(range(50_000_000, log_ns + 1, 50_000_000), received, strict=True))
    assert _apply(NodeSwarm(), state).nodes.tobytes() == _nodes_at(timed, seek_to).tobytes()


def test_scythe_record_writes_a_clean_recording_of_an_embedded_orchestrator(tmp_path: Path) -> None:
    out = tmp_path / "rec.mcap"
    assert (
        main(["record", "--source", "embedded", "--scenario", "tutorial", "--duration", "1.5s", "--out", str(out)]) == 0
    )
    with Recording(out) as rec:
        assert rec.metadata["source"] == "embedded"
        assert rec.message_counts[schemas.TOPIC_KEYFRAMES] >= 1
        assert rec.message_counts[schemas.TOPIC_WORLD_INFO] == 1


def test_replay_client_streams_the_live_frames_holds_at_the_end_and_refuses_actions(
    simulated: tuple[Path, list],
) -> None:
    path, live = simulated
    source = ReplaySource(path, paced=False)
    states: list[ConnectionState] = []
    others: queue.Queue[ReplayEvent] = queue.Queue()
    client = ReplayClient(source, on_state=lambda s, _d: states.append(s), on_event=others.put)
    frames: queue.Queue[WireFrame | None] = queue.Queue()

    def stream() -> None:
        for f in client.frames():
            frames.put(f)
        frames.put(None)

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    got = [frames.get(timeout=30) for _ in live]
    assert got == [f for _, f in live] and client.last_seq == live[-1][1].seq
    assert frames.empty()  # held at the end, not finished
    client.cancel()
    thread.join(timeout=30)
    assert frames.get(timeout=30) is None and states == [ConnectionState.STREAMING, ConnectionState.CLOSED]
    topics = {others.get_nowait().topic for _ in range(others.qsize())}
    assert {schemas.TOPIC_PROPOSALS, schemas.TOPIC_DECISIONS, schemas.TOPIC_WORLD_INFO} <= topics
    assert client.world_info().scenario == "tutorial"
    assert len(client.list_observers().observers) > 0
    with pytest.raises(OrchestratorError, match="replay is read-only"):
        client.deploy(10.0, 20.0)


def test_a_recording_switched_on_mid_stream_starts_from_the_consoles_swarm(simulated: tuple[Path, list],
                                                                             tmp_path: Path) -> None:
    _, live = simulated
    # Switch Record on just before a delta late in the second keyframe period, when ids != rows.
    k = next(i for i, (t, f) in enumerate(live) if f.kind == pb.DELTA and t > 18 * NS)
    console = _apply(NodeSwarm(), (f for _, f in live[:k]))
    assert (console.ids != np.arange(len(console))).any()
    last_node = next(f for _, f in reversed(live[:k]) if f.kind in (pb.KEYFRAME, pb.DELTA))
    path = tmp_path / "mid.mcap"
    worker = RecordingWorker(Recorder(path))
    worker.write_checkpoint(console, last_node.seq, last_node.tick, live[k][0])
    for t, f in live[k:]:
        worker.write_frame(f, t)
    worker.close()
    with Recording(path) as rec:
        swarm, live_swarm = NodeSwarm(), _apply(NodeSwarm(), (f for _, f in live[:k]))
        rest = iter(live[k:])
        for e in Timeline(rec).play():
            if e.frame is None or e.frame.kind not in (pb.KEYFRAME, pb.DELTA):
                continue
            _apply(swarm, [e.frame])
            if e.frame.seq != last_node.seq:  # the checkpoint itself, then each stream frame in turn
                while (nxt := next(rest)[1]).seq != e.frame.seq:
                    _apply(live_swarm, [nxt])
                _apply(live_swarm, [nxt])
            assert swarm.nodes.tobytes() == live_swarm.nodes.tobytes()


def test_scythe_record_from_a_remote_source_with_a_token_file(embedded: EmbeddedOrchestrator, tmp_path: Path) -> None:
    token = tmp_path / "operator.token"
    token.write_text(embedded.token + "\n")
    out = tmp_path / "remote.mcap"
    assert main(["record", "--source", f"grpc://{embedded.target}", "--token-file", str(token), "--duration", "1s",
                 "--out", str(out)]) == 0
    with Recording(out) as rec:
        assert rec.metadata["source"] == f"grpc://{embedded.target}"
        assert rec.message_counts[schemas.TOPIC_KEYFRAMES] >= 1
    assert main(["record", "--source", "http://nowhere", "--duration", "1s", "--out", str(tmp_path / "x.mcap")]) == 2


def test_a_recording_session_started_any_time_opens_with_a_keyframe_and_keeps_decisions(
        embedded: EmbeddedOrchestrator, tmp_path: Path) -> None:
    """The console's Record toggle: its own stream from the latest keyframe, decisions added from another thread."""
    enough = threading.Event()
    path = tmp_path / "session.mcap"
    session = RecordingSession(embedded.client(), path, metadata={"operator": "alice"}, flush_interval_s=0.0,
                               on_flush=lambda count, _t: count >= 30 and enough.set())
    session.start()
    assert enough.wait(timeout=60)
    proposal = Proposal(Deploy(1.0, 2.0), "lon 1.0, lat 2.0", 0.3, 2.0, 0.9, "gain", "greedy")
    session.write_proposals([proposal], tick=3, policy="greedy")
    session.write_decision(decision_message(proposal, who="operator:alice", outcome="confirmed", ok=True))
    session.stop()
    assert session.error is None and not session.running
    with Recording(path) as rec:
        assert rec.metadata["operator"] == "alice" and rec.message_counts[schemas.TOPIC_WORLD_INFO] == 1
        events = list(Timeline(rec).play())
    nodes = [e.frame for e in events if e.is_node_frame]
    assert nodes[0] is not None and nodes[0].kind == pb.KEYFRAME
    _apply(NodeSwarm(), (f for f in nodes if f is not None))
    source = ReplaySource(path, paced=False)
    assert [(b.who, b.outcome, b.label) for b in source.bookmarks] == [
        ("operator:alice", "confirmed", "deploy lon 1.0, lat 2.0")]
    source.close()


def test_id_translation_maps_held_ids_to_rows_new_ids_after_them_and_the_rest_to_an_unknown_id() -> None:
    translator = IdTranslator(np.array([7, 2, 9], dtype=np.int64), next_id=12)  # rows 0, 1, 2
    deltas = np.zeros(5, dtype=DELTA_DTYPE)
    deltas["node"] = [9, 2, 12, 13, 5]  # held, held, the next two ADDs, an id the checkpoint did not hold
    frame = WireFrame(40, pb.DELTA, 39, 8, core_frames.encode_delta(deltas, 40))
    out = translator.translate(frame)
    assert (out.seq, out.kind, out.base_seq, out.tick) == (40, pb.DELTA, 39, 8)
    assert core_frames.decode(out.payload).data["node"].tolist() == [2, 1, 3, 4, 2**32 - 1]
    empty = IdTranslator(np.zeros(0, dtype=np.int64), next_id=0).translate(frame)
    assert core_frames.decode(empty.payload).data["node"].tolist() == [9, 2, 12, 13, 5]


def test_membership_replays_after_keyframes_but_not_in_a_checkpoints_id_space(simulated: tuple[Path, list]) -> None:
    path, _live = simulated
    with Recording(path) as rec:
        cp = next(m.log_time_ns for m in rec.messages([schemas.TOPIC_CHECKPOINTS]))
        kinds = [e.frame.kind for e in Timeline(rec).play(cp) if e.frame is not None]
    first_keyframe = kinds.index(pb.KEYFRAME, 1)  # kinds[0] is the checkpoint, served as a keyframe
    assert pb.MEMBERSHIP not in kinds[:first_keyframe]  # its stream ids mean nothing in the checkpoint's space
    assert pb.MEMBERSHIP in kinds[first_keyframe:]
