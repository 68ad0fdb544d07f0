"""What if: branch a recording at a moment, under another policy or with decisions flipped, into a new recording.

The world is a seeded simulator, so the counterfactual is exact: the same random streams, only the decisions
differ. A branch

1. resumes the world from the last world checkpoint at or before the branch point (the world-state channel
   that ``scythe simulate`` writes: the world, the stream's seqs and the episode meter, right after a
   keyframe), and re-runs the recorded decisions up to the branch point, checking every frame it publishes
   against the recording byte for byte (a recording that does not replay exactly is refused, naming the
   frame);
2. from the branch point on decides differently: ``flips`` invert recorded decisions (an applied one is
   rejected, a rejected one applied); without a ``policy`` every other recorded decision is applied again as it
   was (refused if the world no longer allows it); with a ``policy`` that policy decides from ``at_tick`` on,
   at the recording's cadence;
3. keeps checking frames until the first tick whose applied actions differ from the recording's
   (``first_divergence_tick``): frames before it must be identical, and the result says whether they were;
4. writes a normal recording: the parent's messages before the branch point copied as they were (frames
   rewritten through the recorder, so its seek points are its own), then the branch's future, with metadata
   naming the parent and the branch point.

Bad input is a :class:`WhatIfError` whose message names the problem (a time outside the recording, a
decision that does not exist, a recording without world checkpoints). Knows recordings and the engine's and
host's public API; no Qt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from scythe_desktop.engine.policies import load_policy
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.rl.episode import EpisodeMeter
from scythe_desktop.engine.world import World
from scythe_desktop.orchestrator.world_host import WorldHost
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.wire import WireFrame
from scythe_desktop.recording import schemas
from scythe_desktop.recording.decisions import RecordedDecision, read_decisions
from scythe_desktop.recording.durations import format_duration
from scythe_desktop.recording.reader import RecordedMessage, Recording
from scythe_desktop.recording.simulate import CapturingHub, PolicyDecider, SimEvent, Simulation, record_event
from scythe_desktop.recording.writer import Recorder

_NS: Final = 1_000_000_000
#: Non-frame topics a branch copies from its parent's past (seek checkpoints and the point cloud are derived).
_COPIED: Final = (schemas.TOPIC_WORLD_INFO, schemas.TOPIC_PROPOSALS, schemas.TOPIC_DECISIONS, schemas.TOPIC_METRICS,
                  schemas.TOPIC_EVADER, schemas.TOPIC_WORLD_STATE)
#: Copied at the branch point's own log time only if they come before that tick's decisions.
_DECIDING: Final = frozenset({schemas.TOPIC_PROPOSALS, schemas.TOPIC_DECISIONS})
RECORDED: Final = "recorded"


class WhatIfError(ValueError):
    """A branch that cannot be made; the message says why and names the input."""


@dataclass(frozen=True, slots=True)
class BranchSpec:
    """Where to branch and what changes. ``at_tick`` None: at the first flipped decision. ``policy`` None or
    ``"recorded"``: replay the recorded decisions (with the flips); a policy name: it decides from ``at_tick``.
    ``duration_ticks`` None: as long as the parent runs after the branch point."""

    at_tick: int | None = None
    policy: str | None = None
    flips: tuple[int, ...] = ()
    duration_ticks: int | None = None


@dataclass(frozen=True, slots=True)
class BranchResult:
    path: Path
    branch_tick: int
    resumed_tick: int  # the world checkpoint the branch resumed from
    end_tick: int
    first_divergence_tick: int | None  # first tick whose applied actions differ from the parent's; None: never
    identical_until_divergence: bool  # every frame before that tick equalled the parent's
    frames_checked: int
    branch_ticks: int  # ticks simulated from the branch point
    wall_s: float  # time spent simulating and writing the branch's future


@dataclass(frozen=True, slots=True)
class ParentRun:
    """What a branch needs from its parent recording."""

    path: Path
    metadata: dict[str, str]
    seed: int
    tick_hz: float
    decide_every: int
    keyframe_every: int
    grid_every: int
    world_state_every: int
    end_tick: int
    decisions: tuple[RecordedDecision, ...]

    @classmethod
    def open(cls, rec: Recording) -> ParentRun:
        meta = rec.metadata
        try:
            seed, tick_hz = int(meta.get("seed", "0")), float(meta.get("tick_hz", "5"))
            decide, keyframe, grid, states = (int(meta.get(k, d)) for k, d in (
                ("decide_every", "5"), ("keyframe_every", "50"), ("grid_every", "10"), ("world_state_every", "300")))
        except ValueError as exc:
            raise WhatIfError(f"{rec.path}: its metadata cannot be read ({exc})") from None
        if not tick_hz > 0:
            raise WhatIfError(f"{rec.path}: its metadata says tick_hz={tick_hz}")
        end_tick = int(rec.end_ns * tick_hz // _NS)
        return cls(rec.path, dict(meta), seed, tick_hz, decide, keyframe, grid, states, end_tick,
                   tuple(read_decisions(rec)))

    def tick_of(self, seconds: float) -> int:
        return round(seconds * self.tick_hz)

    def log_time_ns(self, tick: int) -> int:
        return round(tick * _NS / self.tick_hz)

    def decision(self, decision_id: int) -> RecordedDecision:
        if not 1 <= decision_id <= len(self.decisions):
            have = f"#1 … #{len(self.decisions)}" if self.decisions else "none"
            raise WhatIfError(f"decision #{decision_id} does not exist in {self.path} (its decisions: {have}; "
                              "`scythe whatif FILE --list` lists them)")
        return self.decisions[decision_id - 1]


class _BranchDecider:
    """Recorded decisions before the branch point; flips and either the recorded rest or a policy after it.
    Tracks each tick's applied actions against the parent's to find the first divergence."""

    def __init__(self, parent: ParentRun, branch_tick: int, flips: frozenset[int], policy: Policy | None,
                 policy_from: int) -> None:
        self.parent, self.branch_tick, self.flips = parent, branch_tick, flips
        self.policy, self.policy_from = policy, policy_from
        self.by_tick: dict[int, list[RecordedDecision]] = {}
        for d in parent.decisions:
            self.by_tick.setdefault(d.tick, []).append(d)
        self.writing = False  # set at the branch point: from here on the events are the branch's own
        self.first_divergence: int | None = None
        self._deciding: PolicyDecider | None = None  # the policy, once it has taken over (reset then)

    def decide(self, sim: Simulation) -> Iterator[SimEvent]:
        tick = sim.host.tick
        if tick >= self.branch_tick:
            self.writing = True
        recorded = self.by_tick.get(tick, [])
        before = len(sim.applied)
        if self.policy is not None and tick >= self.policy_from:
            yield from self._policy(sim)
        else:
            for d in recorded:
                yield from self._replay(sim, d)
        mine = [(a, r.ok) for a, r in sim.applied[before:]]
        theirs = [(d.proposal.action, True) for d in recorded if d.took]
        # From the recording's last tick on it decided nothing: there is nothing to differ from.
        if self.first_divergence is None and mine != theirs and tick < self.parent.end_tick:
            self.first_divergence = tick

    def _replay(self, sim: Simulation, d: RecordedDecision) -> Iterator[SimEvent]:
        t = sim.log_time_ns(d.tick)
        if d.id in self.flips:
            if d.took:  # applied then, rejected now
                msg = schemas.Decision()
                msg.CopyFrom(d.message)
                msg.who, msg.outcome, msg.reason, msg.observer_id = "whatif:flip", "rejected", f"flipped #{d.id}", -1
                yield SimEvent(t, decision=msg, tick=d.tick)
            else:
                yield sim.apply(d.proposal, who="whatif:flip", request_id=d.request_id, outcome="confirmed")
        elif d.took:
            yield sim.apply(d.proposal, who=d.who, request_id=d.request_id, outcome=d.outcome)
        else:
            yield SimEvent(t, decision=d.message, tick=d.tick)

    def _policy(self, sim: Simulation) -> Iterator[SimEvent]:
        if self._deciding is None:
            assert self.policy is not None
            self.policy.reset(sim.host.world, sim.seed)
            self._deciding = PolicyDecider(self.policy, self.parent.decide_every)
        yield from self._deciding.decide(sim)


class _ParentFrames:
    """The parent's frames from a seq on, in seq order, to check a branch's frames against."""

    def __init__(self, rec: Recording, start_ns: int, first_seq: int, end_tick: int) -> None:
        self._it = (m for m in rec.messages(list(schemas.FRAME_TOPICS), start_ns=start_ns))
        self._first_seq, self._end_tick = first_seq, end_tick
        self.checked = 0

    def matches(self, frame: WireFrame) -> bool:
        """Whether ``frame`` equals the recording's frame of its seq; past the recording's end, nothing to
        compare, so it matches."""
        if frame.tick > self._end_tick:
            return True
        for m in self._it:
            f = pb.Frame.FromString(m.data)
            if f.seq < self._first_seq:
                continue
            self.checked += 1
            return (f.seq, f.kind, f.base_seq, f.tick, f.payload) == (
                frame.seq, frame.kind, frame.base_seq, frame.tick, frame.payload)
        return False  # the branch published a frame, within the recording's time, that the recording lacks


def _copy_past(rec: Recording, out: Recorder, branch_ns: int) -> None:
    """The parent's messages before the branch point (and at it, before its decisions), in log-time order."""
    topics = [*schemas.FRAME_TOPICS, *_COPIED]
    for m in rec.messages(topics, end_ns=branch_ns):
        if m.log_time_ns == branch_ns and m.topic in _DECIDING:
            continue
        if m.topic in schemas.FRAME_TOPICS:
            f = pb.Frame.FromString(m.data)
            out.write_frame(WireFrame(f.seq, f.kind, f.base_seq, f.tick, f.payload), m.log_time_ns)
        else:
            out.copy_message(m.topic, m.data, m.log_time_ns, m.sequence)


def _resume_point(rec: Recording, parent: ParentRun, branch_tick: int) -> Any:
    at = parent.log_time_ns(branch_tick)
    msg: RecordedMessage | None = rec.latest([schemas.TOPIC_WORLD_STATE], at)
    if msg is None:
        where = "has no world checkpoints" if schemas.TOPIC_WORLD_STATE not in rec.topics else (
            f"has no world checkpoint at or before {format_duration(branch_tick / parent.tick_hz)}")
        raise WhatIfError(
            f"{rec.path} {where}: only recordings made by `scythe simulate` (this version or later) carry the "
            "world's state, so older recordings and recordings of a live stream cannot be branched")
    return schemas.WorldState.FromString(msg.data)


def plan(parent: ParentRun, spec: BranchSpec) -> tuple[int, int | None, frozenset[int]]:
    """The branch tick, the tick the policy takes over (None: recorded decisions throughout) and the flips,
    checked against the recording."""
    flips = frozenset(spec.flips)
    flipped = [parent.decision(i) for i in sorted(flips)]
    for d in flipped:
        if not d.ok:
            raise WhatIfError(f"decision #{d.id} was refused by the world ({d.reason or 'no reason recorded'}): "
                              "flipping it changes nothing")
    candidates = [t for t in (spec.at_tick, *(d.tick for d in flipped)) if t is not None]
    if not candidates:
        raise WhatIfError("say where to branch: --at TIME, or --flip DECISION_ID")
    branch_tick = min(candidates)
    if not 0 <= branch_tick <= parent.end_tick or (spec.at_tick is not None and spec.at_tick > parent.end_tick):
        raise WhatIfError(
            f"--at {format_duration((spec.at_tick or branch_tick) / parent.tick_hz)} is outside {parent.path} "
            f"(0s … {format_duration(parent.end_tick / parent.tick_hz)})")
    policy_from: int | None = None
    if spec.policy not in (None, RECORDED):
        policy_from = spec.at_tick if spec.at_tick is not None else branch_tick
        late = [d for d in flipped if d.tick >= policy_from]
        if late:
            raise WhatIfError(
                f"decision #{late[0].id} (tick {late[0].tick}) is at or after --at (tick {policy_from}), where "
                f"--policy {spec.policy} takes over: its flip would never happen")
    return branch_tick, policy_from, flips


def run_branch(parent_path: str | Path, spec: BranchSpec, out: str | Path, *, overwrite: bool = False,
               progress: Callable[[int, int], None] | None = None) -> BranchResult:
    """Write the branch ``spec`` of the recording at ``parent_path`` to ``out`` (see the module docstring)."""
    with Recording(parent_path) as rec:
        parent = ParentRun.open(rec)
        branch_tick, policy_from, flips = plan(parent, spec)
        policy = None
        if policy_from is not None:
            try:
                policy = load_policy(str(spec.policy))
            except (ValueError, OSError) as exc:
                raise WhatIfError(f"--policy {spec.policy}: {exc}") from None
        state = _resume_point(rec, parent, branch_tick)
        world = World.from_bytes(state.world)
        if world.scenario.fingerprint() != state.fingerprint:
            raise WhatIfError(f"{rec.path}: its world checkpoint at tick {state.tick} was saved by another version of "
                              "the simulator (the scenario's fingerprint differs); it cannot be resumed exactly")
        duration = spec.duration_ticks if spec.duration_ticks is not None else parent.end_tick - branch_tick
        if duration < 1:
            raise WhatIfError(f"the branch would be empty: it starts at tick {branch_tick} and lasts {duration} ticks")
        host = WorldHost.resumed(world, parent.seed, CapturingHub(), next_seq=int(state.next_seq),
                                 keyframe_seq=int(state.keyframe_seq), tick_hz=parent.tick_hz,
                                 keyframe_every=parent.keyframe_every, grid_every=parent.grid_every)
        meter = EpisodeMeter.restore(world, json.loads(state.meter))
        decider = _BranchDecider(parent, branch_tick, flips, policy,
                                 policy_from if policy_from is not None else branch_tick)
        sim = Simulation(world.scenario, parent.seed, None, tick_hz=parent.tick_hz,
                         decide_every=parent.decide_every, world_state_every=parent.world_state_every, host=host,
                         meter=meter, decider=decider)
        metadata = {
            **{k: v for k, v in parent.metadata.items() if k != "format"},
            "source": "whatif", "parent": Path(parent_path).name, "branch_tick": str(branch_tick),
            "branch_s": f"{branch_tick / parent.tick_hz:g}", "policy": spec.policy or RECORDED,
            "flips": ",".join(str(i) for i in sorted(flips)), "decide_every": str(parent.decide_every),
            "keyframe_every": str(parent.keyframe_every), "grid_every": str(parent.grid_every),
            "world_state_every": str(parent.world_state_every),
        }
        if policy_from is not None:
            metadata["policy_from_tick"] = str(policy_from)
        try:
            recorder = Recorder(out, metadata=metadata, overwrite=overwrite)
        except FileExistsError:
            raise WhatIfError(f"{out} exists; choose another --out or pass --overwrite") from None
        checker = _ParentFrames(rec, parent.log_time_ns(int(state.tick)), int(state.next_seq), parent.end_tick)
        end_tick = branch_tick + duration
        identical, checking = True, True
        with recorder:
            _copy_past(rec, recorder, parent.log_time_ns(branch_tick))
            started = time.perf_counter()
            for event in sim.run(end_tick - int(state.tick), initial=False):
                if checking and decider.first_divergence is not None and event.tick > decider.first_divergence:
                    checking = False
                if event.frame is not None and checking and not checker.matches(event.frame):
                    if not decider.writing:
                        raise WhatIfError(
                            f"{rec.path} does not replay exactly from its world checkpoint at tick {state.tick}: frame "
                            f"seq {event.frame.seq} (tick {event.frame.tick}) differs, before the branch point (it was "
                            "recorded by another version of the simulator)")
                    identical, checking = False, False
                if decider.writing:
                    record_event(recorder, event)
                    if progress is not None and event.metrics:
                        progress(event.tick - branch_tick, duration)
            wall = time.perf_counter() - started
        return BranchResult(Path(out), branch_tick, int(state.tick), end_tick, decider.first_divergence, identical,
                            checker.checked, duration, wall)


__all__ = ["RECORDED", "BranchResult", "BranchSpec", "ParentRun", "WhatIfError", "plan", "run_branch"]
