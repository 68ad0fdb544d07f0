"""WorldHost's public hooks for callers that step it themselves (``scythe simulate``): ``publish_initial``
and ``step`` returning the engine's StepResult, and the metrics a simulation records from it."""

from __future__ import annotations

import numpy as np

from scythe_desktop.core import frames as core_frames
from scythe_desktop.engine.world import World
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.world_host import WorldHost
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.recording.simulate import Simulation


class _Hub(FrameHub):
    def __init__(self) -> None:
        super().__init__(max_subscribers=0)
        self.published: list[tuple[int, int, bytes]] = []

    def publish(self, seq: int, kind: int, payload: bytes, *, base_seq: int = 0, tick: int = 0) -> None:
        self.published.append((seq, kind, payload))


def test_publish_initial_sends_what_a_stream_starts_from_and_step_returns_the_engine_result() -> None:
    hub = _Hub()
    host = WorldHost(World("tutorial", 3).scenario, 3, hub)
    host.publish_initial()
    assert [kind for _seq, kind, _p in hub.published] == [
        pb.KEYFRAME, pb.EDGES, pb.MEMBERSHIP, pb.OBSERVERS, pb.GRID
    ]
    keyframe = core_frames.decode(hub.published[0][2])
    reference = World("tutorial", 3)
    np.testing.assert_array_equal(keyframe.data, reference.nodes)

    result = host.step()
    expected = reference.step()
    assert result.tick == expected.tick == host.tick == 1
    assert result.info == expected.info
    assert result.entropy_total == expected.entropy_total
    assert hub.published[5][1] == pb.DELTA  # the step still published its frames


def test_a_simulation_records_the_engine_step_figures_as_metrics() -> None:
    sim = Simulation("tutorial", 5, None)
    metrics = [e.metrics for e in sim.run(3) if e.metrics]
    reference = World("tutorial", 5)
    expected = [reference.step().info for _ in range(3)]
    assert len(metrics) == 3
    for got, want in zip(metrics, expected, strict=True):
        for name in ("entropy_total", "reward", "coverage_mean", "detections"):
            assert got[name] == want[name], name
    assert [m["tick"] for m in metrics] == [1.0, 2.0, 3.0]


def _membership(payload: bytes) -> dict[int, int]:
    frame = core_frames.decode(payload)
    assert frame.kind is core_frames.FrameKind.MEMBERSHIP
    return dict(zip(frame.data["node"].tolist(), frame.data["cluster"].tolist(), strict=True))


def test_membership_follows_keyframes_in_full_and_deltas_with_only_new_or_moved_ids() -> None:
    hub = _Hub()
    host = WorldHost(World("tutorial", 3).scenario, 3, hub, keyframe_every=1000)
    host.publish_initial()
    clusters = _membership(hub.published[2][2])
    assert list(clusters) == list(range(len(host.world.nodes)))  # ids equal rows after the keyframe
    assert list(clusters.values()) == host.world.node_cluster().tolist()
    seen_changes = 0
    for _ in range(40):
        start = len(hub.published)
        host.step()
        for _seq, kind, payload in hub.published[start:]:
            if kind == pb.MEMBERSHIP:
                change = _membership(payload)
                assert all(clusters.get(i) != c for i, c in change.items())  # only new or reassigned ids
                clusters.update(change)
                seen_changes += 1
        # The client's picture, keyed by stable id, always matches the world's rows.
        ids = host.world.node_ids().tolist()
        assert [clusters[i] for i in ids] == host.world.node_cluster().tolist()
    assert seen_changes > 0  # the tutorial's swarm grows, so some deltas did carry membership
