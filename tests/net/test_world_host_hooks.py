"""WorldHost's public hooks for callers that step it themselves (``scythe simulate``): ``publish_initial``
and ``step`` returning the engine's StepResult, and the metrics a simulation records from it."""

from __future__ import annotations

import numpy as np

from scythe_desktop.core import frames as core_frames
from scythe_desktop.engine.world import World
from scythe_desktop.net.hub import FrameHub
from scythe_desktop.net.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.net.recording.simulate import Simulation
from scythe_desktop.net.world_host import WorldHost


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
    assert [kind for _seq, kind, _p in hub.published] == [pb.KEYFRAME, pb.EDGES, pb.OBSERVERS, pb.GRID]
    keyframe = core_frames.decode(hub.published[0][2])
    reference = World("tutorial", 3)
    np.testing.assert_array_equal(keyframe.data, reference.nodes)

    result = host.step()
    expected = reference.step()
    assert result.tick == expected.tick == host.tick == 1
    assert result.info == expected.info
    assert result.entropy_total == expected.entropy_total
    assert hub.published[4][1] == pb.DELTA  # the step still published its frames


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
