"""Headless scenario runs: the world and a policy, stepped as fast as they go, yielding what a live console sees.

The frames come from the orchestrator's own :class:`~scythe_desktop.orchestrator.world_host.WorldHost` (the
same encoding, seqs, keyframe/edges/grid/observer cadence a live stream carries), captured at its
publish call instead of a gRPC stream, so a recording of a simulation replays exactly like a recording
of a live run. Log time is simulated time: tick ``k`` is at ``k / tick_hz`` seconds, so playback at 1x
looks like the live stream. Before each tick a :class:`Decider` may act: by default every ``decide_every``
ticks the policy proposes and its best proposal is applied through the host (the world's constraints refuse
what breaks them); the proposals and the decision (who, when, outcome) are yielded. Every tick's metrics carry
the episode's running seed reward, information gain, spend and detections (:class:`EpisodeMeter`), and now
and then the whole world is captured (the world-state channel) so a branch can resume it exactly. This
module knows the engine's and host's public API; it writes no files (see ``cli_simulate``) and knows
nothing of Qt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from scythe_desktop.engine.actions import Action, ActionResult
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.rl.episode import EpisodeMeter
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import StepResult
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.world_host import WorldHost
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.writer import Recorder, decision_message

_NS: Final = 1_000_000_000


class CapturingHub(FrameHub):
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
    world_state: Any = None  # a schemas.WorldState
    tick: int = 0


class Decider(Protocol):
    """Who acts on the world before each tick: yields the tick's proposal and decision events, acting through
    :meth:`Simulation.apply` (a policy at its cadence; a branch's recorded, flipped or new decisions)."""

    def decide(self, sim: Simulation) -> Iterator[SimEvent]: ...


class PolicyDecider:
    """Every ``decide_every`` ticks the policy proposes and its best proposal is applied."""

    def __init__(self, policy: Policy, decide_every: int = 5) -> None:
        if decide_every < 1:
            raise ValueError(f"decide_every must be >= 1 tick, got {decide_every}")
        self.policy, self.decide_every = policy, decide_every

    def decide(self, sim: Simulation) -> Iterator[SimEvent]:
        host = sim.host
        if host.tick % self.decide_every:
            return
        t = sim.log_time_ns(host.tick)
        with host.lock:
            proposals = tuple(self.policy.propose(host.world))
        yield SimEvent(t, proposals=proposals, tick=host.tick)
        if proposals:
            best = proposals[0]
            yield sim.apply(best, who=f"policy:{best.policy}")


#: Running totals of the episode recorded with every tick's metrics (EpisodeMeter: the seed reward with the
#: default weights, information gain in bits, $ spent, distinct real clusters detected).
METER_METRICS: Final = ("seed_reward_total", "information_gain_total", "cost_total", "clusters_detected_total")


class Simulation:
    """A world, its host and who decides; :meth:`run` yields :class:`SimEvent` in log-time order.

    ``keyframe_every``, ``grid_every`` and ``decide_every`` are in ticks; the first two default to the
    orchestrator's own cadence, so the frames are those a live stream of this world carries. Every
    ``world_state_every`` ticks (at the first keyframe tick after that many) the whole world is captured on the
    world-state channel, with the episode meter's totals, so a what-if branch can resume it exactly.
    """

    def __init__(self, scenario: Scenario | str, seed: int, policy: Policy | None, *, tick_hz: float = 5.0,
                 keyframe_every: int = 50, grid_every: int = 10, decide_every: int = 5,
                 world_state_every: int = 300, host: WorldHost | None = None, meter: EpisodeMeter | None = None,
                 decider: Decider | None = None) -> None:
        if decide_every < 1:
            raise ValueError(f"decide_every must be >= 1 tick, got {decide_every}")
        if host is None:
            scenario_obj = scenario if isinstance(scenario, Scenario) else _load(scenario)
            host = WorldHost(scenario_obj, seed, CapturingHub(), tick_hz=tick_hz,
                             keyframe_every=keyframe_every, grid_every=grid_every)
        if not isinstance(host.hub, CapturingHub):
            raise TypeError("a simulated host publishes into a CapturingHub (WorldHost.resumed(…, CapturingHub()))")
        self._hub: CapturingHub = host.hub
        self.host = host
        self.seed = seed
        self.policy = policy
        self.tick_hz = tick_hz
        self.decide_every = decide_every
        self.world_state_every = world_state_every
        if policy is not None:
            policy.reset(self.host.world, seed)
        self.decider: Decider | None = decider or (PolicyDecider(policy, decide_every) if policy else None)
        self.meter = meter or EpisodeMeter(self.host.world)
        self.applied: list[tuple[Action, ActionResult]] = []
        self._last_state_tick: int | None = None if meter is None else self.host.tick

    def log_time_ns(self, tick: int) -> int:
        return round(tick * _NS / self.tick_hz)

    def metadata(self, policy: str) -> dict[str, str]:
        """What a recording of this simulation says about it: enough for ``scythe whatif`` to resume it."""
        host, scenario = self.host, self.host.world.scenario
        meta = {"source": "simulate", "scenario": scenario.name, "seed": str(self.seed), "policy": policy,
                "tick_hz": str(self.tick_hz), "decide_every": str(self.decide_every),
                "keyframe_every": str(host.keyframe_every), "grid_every": str(host.grid_every),
                "world_state_every": str(self.world_state_every)}
        if scenario.adversary is not None:
            meta["evader"] = scenario.adversary.evader
        return meta

    def run(self, ticks: int, *, initial: bool = True) -> Iterator[SimEvent]:
        """The first frames (keyframe, edges, observers, grid), world info and world state, then ``ticks``
        ticks; a resumed simulation (``initial=False``) continues its host's stream with the ticks only."""
        host = self.host
        self._hub.pending.clear()
        if initial:
            host.publish_initial()
            yield SimEvent(self.log_time_ns(host.tick), world_info=host.world_info(), tick=host.tick)
            yield from self._drain()
            yield from self._world_state()
        for _ in range(ticks):
            self.meter.begin(host.world)
            self.applied = []
            if self.decider is not None:
                yield from self.decider.decide(self)
            result = host.step()
            self.meter.end(host.world, result, self.applied)
            t = self.log_time_ns(host.tick)
            yield from self._drain()
            yield SimEvent(t, metrics=self._metrics(result), tick=host.tick)
            moves = host.last_evader_moves
            if moves:
                adversary = host.world.scenario.adversary
                yield SimEvent(t, evader_moves=moves, evader=adversary.evader if adversary else "", tick=host.tick)
            yield from self._world_state()

    def apply(self, proposal: Proposal, *, who: str, request_id: str = "", outcome: str = "auto-applied") -> SimEvent:
        """Apply ``proposal``'s action now (the world's constraints refuse what breaks them) and return the
        decision event: ``outcome`` when it took, ``refused`` when not."""
        host = self.host
        action = proposal.action
        self.meter.count_flaps(host.world, (action,))
        result, tick = host.apply(action)
        self.applied.append((action, result))
        decision = decision_message(
            proposal, who=who, outcome=outcome if result.ok else "refused", reason=result.reason, ok=result.ok,
            request_id=request_id or uuid.UUID(int=tick).hex, tick=tick, observer_id=result.observer_id,
            cost_per_hour=result.cost_per_hour,
        )
        return SimEvent(self.log_time_ns(tick), decision=decision, tick=tick)

    def _metrics(self, result: StepResult) -> dict[str, float]:
        values = step_metrics(self.host, result)
        m = self.meter
        values.update(zip(METER_METRICS, (m.seed_reward, m.information_gain, m.cost, float(len(m.detected))),
                          strict=True))
        return values

    def _world_state(self) -> Iterator[SimEvent]:
        host = self.host
        due = self._last_state_tick is None or host.tick - self._last_state_tick >= self.world_state_every
        if not (due and host.after_keyframe):
            return
        self._last_state_tick = host.tick
        with host.lock:
            state = schemas.WorldState(
                tick=host.tick, keyframe_seq=host.keyframe_seq, next_seq=host.latest_seq + 1,
                world=host.world.to_bytes(), meter=json.dumps(self.meter.state()),
                fingerprint=host.world.scenario.fingerprint())
        yield SimEvent(self.log_time_ns(host.tick), world_state=state, tick=host.tick)

    def _drain(self) -> Iterator[SimEvent]:
        pending, self._hub.pending = self._hub.pending, []
        for frame in pending:
            yield SimEvent(self.log_time_ns(frame.tick), frame=frame, tick=frame.tick)


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
    elif event.world_state is not None:
        recorder.write_world_state(event.world_state, t)


def _load(name: str) -> Scenario:
    from scythe_desktop.engine.scenario import load_scenario

    return load_scenario(name)
