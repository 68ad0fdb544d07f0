"""Headless scenario runs: the world and a policy, stepped as fast as they go, yielding what a live console sees.

The frames come from the orchestrator's own :class:`~scythe_desktop.orchestrator.world_host.WorldHost` (the
same encoding, seqs, keyframe/edges/grid/observer cadence a live stream carries), captured at its
publish call instead of a gRPC stream, so a recording of a simulation replays exactly like a recording
of a live run. Log time is simulated time: tick ``k`` is at ``k / tick_hz`` seconds, so playback at 1x
looks like the live stream. Every ``decide_every`` ticks the policy proposes; its best proposal is
applied through the host (the world's constraints refuse what breaks them) and both the proposals
and the decision (who, when, outcome) are yielded. This module knows the engine's and host's public
API; it writes no files (see ``cli_simulate``) and knows nothing of Qt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from scythe_desktop.engine.batch.evader import MOVE_EVENTS, MOVE_NAMES
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import StepResult
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.world_host import WorldHost
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording.writer import Recorder, decision_message

_NS: Final = 1_000_000_000
#: ``--policy none``: run the world without decisions.


class _CapturingHub(FrameHub):
    """Takes the host's published frames as the whole frames a client would reassemble, in order."""

    def __init__(self) -> None:
        super().__init__(max_subscribers=0)
        self.pending: list[WireFrame] = []

    def publish(self, seq: int, kind: int, payload: bytes, *, base_seq: int = 0, tick: int = 0) -> None:
        self.pending.append(WireFrame(seq, kind, base_seq, tick, payload))


def step_metrics(host: WorldHost, result: StepResult) -> dict[str, float]:
    """What a simulation records on the metrics channel after one tick: the world's size and spend, and the
    engine's own per-tick figures (entropy, reward, coverage, detections) from its step result."""
    world = host.world
    values = {
        "tick": float(result.tick),
        "nodes": float(world.nodes.shape[0]),
        "clusters": float(len(world.clusters)),
        "observers": float(world.observers.shape[0]),
        "cost_per_hour": float(world.budget_used_per_hour),
    }
    values.update((name, float(value)) for name, value in result.info.items())
    return values


def evader_moves(host: WorldHost, result: StepResult) -> tuple[tuple[str, int, float, float], ...]:
    """The evader's moves of the tick just stepped, from its events, with where each cluster is now."""
    moves = [(name, int(i)) for kind, name in zip(MOVE_EVENTS[1:], MOVE_NAMES[1:], strict=True)
             for i in result.events.get(kind, ())]
    if not moves:
        return ()
    clusters = host.world.clusters
    where = {int(i): (float(lo), float(la)) for i, lo, la in zip(clusters["id"], clusters["lon"], clusters["lat"],
                                                              strict=True)}
    return tuple((name, i, *where.get(i, (float("nan"), float("nan")))) for name, i in moves)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One thing a simulation produced at ``log_time_ns``: exactly one of the payload fields is set."""

    log_time_ns: int
    frame: WireFrame | None = None
    world_info: pb.WorldInfo | None = None
    proposals: tuple[Proposal, ...] | None = None
    decision: Any = None  # a schemas.Decision
    metrics: dict[str, float] = field(default_factory=dict)
    #: The evader's moves of the tick: (kind, cluster id, lon, lat) each (adversarial worlds only).
    evader_moves: tuple[tuple[str, int, float, float], ...] | None = None
    evader: str = ""  # who played the evader (with evader_moves)
    tick: int = 0


class Simulation:
    """A world, its host and an optional policy; :meth:`run` yields :class:`SimEvent` in log-time order.

    ``keyframe_every``, ``grid_every`` and ``decide_every`` are in ticks; the first two default to the
    orchestrator's own cadence, so the frames are those a live stream of this world carries.
    """

    def __init__(self, scenario: Scenario | str, seed: int, policy: Policy | None, *, tick_hz: float = 5.0,
                 keyframe_every: int = 50, grid_every: int = 10, decide_every: int = 5) -> None:
        if decide_every < 1:
            raise ValueError(f"decide_every must be >= 1 tick, got {decide_every}")
        self._hub = _CapturingHub()
        scenario_obj = scenario if isinstance(scenario, Scenario) else _load(scenario)
        self.host = WorldHost(scenario_obj, seed, self._hub, tick_hz=tick_hz,
                             keyframe_every=keyframe_every, grid_every=grid_every)
        self.policy = policy
        self.tick_hz = tick_hz
        self.decide_every = decide_every
        if policy is not None:
            policy.reset(self.host.world, seed)

    def log_time_ns(self, tick: int) -> int:
        return round(tick * _NS / self.tick_hz)

    def run(self, ticks: int) -> Iterator[SimEvent]:
        """The first frames (keyframe, edges, observers, grid) and world info, then ``ticks`` ticks."""
        host = self.host
        self._hub.pending.clear()
        host.publish_initial()
        yield SimEvent(self.log_time_ns(host.tick), world_info=host.world_info(), tick=host.tick)
        yield from self._drain()
        for _ in range(ticks):
            if self.policy is not None and host.tick % self.decide_every == 0:
                yield from self._decide()
            result = host.step()
            t = self.log_time_ns(host.tick)
            yield from self._drain()
            yield SimEvent(t, metrics=step_metrics(host, result), tick=host.tick)
            moves = evader_moves(host, result)
            if moves:
                adversary = host.world.scenario.adversary
                yield SimEvent(t, evader_moves=moves, evader=adversary.evader if adversary else "", tick=host.tick)

    def _drain(self) -> Iterator[SimEvent]:
        pending, self._hub.pending = self._hub.pending, []
        for frame in pending:
            yield SimEvent(self.log_time_ns(frame.tick), frame=frame, tick=frame.tick)

    def _decide(self) -> Iterator[SimEvent]:
        assert self.policy is not None
        host, t = self.host, self.log_time_ns(self.host.tick)
        with host.lock:
            proposals = tuple(self.policy.propose(host.world))
        yield SimEvent(t, proposals=proposals, tick=host.tick)
        if not proposals:
            return
        best = proposals[0]
        result, tick = host.apply(best.action)
        decision = decision_message(
            best, who=f"policy:{best.policy}", outcome="auto-applied" if result.ok else "refused",
            reason=result.reason, ok=result.ok, request_id=uuid.UUID(int=host.tick).hex, tick=tick,
            observer_id=result.observer_id, cost_per_hour=result.cost_per_hour,
        )
        yield SimEvent(t, decision=decision, tick=tick)


def record_event(recorder: Recorder, event: SimEvent) -> None:
    """Write one event with the matching recorder call."""
    t = event.log_time_ns
    if event.frame is not None:
        recorder.write_frame(event.frame, t)
    elif event.world_info is not None:
        recorder.write_world_info(event.world_info, t)
    elif event.proposals is not None:
        policy = event.proposals[0].policy if event.proposals else ""
        recorder.write_proposals(event.proposals, event.tick, t, policy)
    elif event.decision is not None:
        recorder.write_decision(event.decision, t)
    elif event.metrics:
        recorder.write_metrics(event.tick, event.metrics, t)
    elif event.evader_moves is not None:
        recorder.write_evader_moves(event.tick, event.evader, event.evader_moves, t)


def _load(name: str) -> Scenario:
    from scythe_desktop.engine.scenario import load_scenario

    return load_scenario(name)
