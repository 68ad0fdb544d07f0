"""What if: exact resume from every world checkpoint of a recording, flip semantics, another policy, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scythe_desktop.cli import main
from scythe_desktop.engine.policies import load_policy
from scythe_desktop.engine.rl.episode import EpisodeMeter, make_world
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.recording import schemas
from scythe_desktop.recording.branch import BranchSpec, ParentRun, WhatIfError, run_branch
from scythe_desktop.recording.decisions import read_decisions
from scythe_desktop.recording.reader import Recording, TruncatedRecording
from scythe_desktop.recording.simulate import PolicyDecider, SimEvent, Simulation, record_event
from scythe_desktop.recording.writer import Recorder

TICKS = 260
STATE_EVERY = 50  # ticks; keyframes every 25, so a world checkpoint at ticks 0, 50, 100, …


def _record(path: Path, sim: Simulation, ticks: int, policy: str, *, drop: frozenset[str] = frozenset()) -> Path:
    with Recorder(path, metadata=sim.metadata(policy), chunk_size=64 * 1024) as rec:
        for ev in sim.run(ticks):
            if ev.world_state is not None and "world_state" in drop:
                continue
            record_event(rec, ev)
    return path


def _sim(policy: str = "greedy", **kw: object) -> Simulation:
    return Simulation("tutorial", 3, load_policy(policy), keyframe_every=25, decide_every=5,
                      world_state_every=STATE_EVERY, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _record(tmp_path_factory.mktemp("whatif") / "parent.mcap", _sim(), TICKS, "greedy")


def _frames(path: Path) -> list[tuple[int, int, int, int, bytes]]:
    with Recording(path) as rec:
        out = []
        for m in rec.messages(list(schemas.FRAME_TOPICS)):
            f = pb.Frame.FromString(m.data)
            out.append((f.seq, f.kind, f.base_seq, f.tick, f.payload))
    return out


def _state_ticks(path: Path) -> list[int]:
    with Recording(path) as rec:
        return [int(schemas.WorldState.FromString(m.data).tick) for m in rec.messages([schemas.TOPIC_WORLD_STATE])]


def test_from_every_world_checkpoint_the_recorded_decisions_reproduce_every_later_frame(parent: Path,
                                                                                         tmp_path: Path) -> None:
    ticks = _state_ticks(parent)
    assert ticks == list(range(0, TICKS + 1, STATE_EVERY))
    recorded = _frames(parent)
    for tick in ticks[:-1]:
        out = tmp_path / f"from{tick}.mcap"
        res = run_branch(parent, BranchSpec(at_tick=tick, policy="recorded"), out)
        assert res.resumed_tick == tick
        assert res.first_divergence_tick is None and res.identical_until_divergence
        after = [f for f in recorded if f[3] > tick]
        assert res.frames_checked == len(after)
        # The branch is the whole run again: its past copied, its future re-simulated, frame for frame.
        assert _frames(out) == recorded


def test_the_same_policy_from_a_branch_point_makes_the_same_decisions(parent: Path, tmp_path: Path) -> None:
    res = run_branch(parent, BranchSpec(at_tick=120, policy="greedy"), tmp_path / "same.mcap")
    assert res.first_divergence_tick is None and res.identical_until_divergence
    assert _frames(tmp_path / "same.mcap") == _frames(parent)


def test_a_branch_may_run_past_the_recordings_end(parent: Path, tmp_path: Path) -> None:
    """The same policy beyond the parent's last tick: identical while there is something to compare with."""
    out = tmp_path / "longer.mcap"
    res = run_branch(parent, BranchSpec(at_tick=200, policy="greedy", duration_ticks=120), out)
    assert res.end_tick == TICKS + 60 and res.first_divergence_tick is None and res.identical_until_divergence
    mine, theirs = _frames(out), _frames(parent)
    assert [f for f in mine if f[3] <= TICKS] == theirs and max(f[3] for f in mine) == TICKS + 60


def test_another_policy_diverges_at_the_branch_point_and_the_past_is_kept(parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid.mcap"
    res = run_branch(parent, BranchSpec(at_tick=120, policy="static-grid"), out)
    assert res.branch_tick == 120 and res.resumed_tick == 100 and res.first_divergence_tick == 120
    assert res.identical_until_divergence
    mine, theirs = _frames(out), _frames(parent)
    assert [f for f in mine if f[3] <= 120] == [f for f in theirs if f[3] <= 120]
    assert mine != theirs
    with Recording(out) as rec:
        meta = rec.metadata
        whos = {d.who for d in read_decisions(rec) if d.tick >= 120}
        assert {d.who for d in read_decisions(rec) if d.tick < 120} == {"policy:greedy"}
    assert meta["source"] == "whatif" and meta["parent"] == "parent.mcap" and meta["branch_tick"] == "120"
    assert meta["policy"] == "static-grid" and whos <= {"policy:static-grid"}


def test_flipping_an_applied_decision_rejects_it_and_changes_the_future(parent: Path, tmp_path: Path) -> None:
    with Recording(parent) as rec:
        decisions = read_decisions(rec)
    target = next(d for d in decisions if d.took and d.tick >= 60)
    out = tmp_path / "flip.mcap"
    res = run_branch(parent, BranchSpec(flips=(target.id,)), out)
    assert res.branch_tick == target.tick and res.first_divergence_tick == target.tick
    with Recording(out) as rec:
        mine = read_decisions(rec)
    flipped = [d for d in mine if d.tick == target.tick]
    assert [(d.who, d.outcome, d.took) for d in flipped] == [("whatif:flip", "rejected", False)]
    assert flipped[0].proposal == target.proposal
    assert [d.message for d in mine if d.tick < target.tick] == [d.message for d in decisions if d.tick < target.tick]
    assert _frames(out) != _frames(parent)


def test_flipping_a_rejected_decision_applies_it(tmp_path: Path) -> None:
    from scythe_desktop.recording.writer import decision_message

    sim = _sim()
    greedy = sim.policy
    assert greedy is not None

    class Overruled(PolicyDecider):
        def decide(self, s: Simulation) -> Iterator[SimEvent]:
            if s.host.tick == 30:
                best = next(iter(greedy.propose(s.host.world)))
                yield SimEvent(s.log_time_ns(30), decision=decision_message(
                    best, who="operator:alice", outcome="rejected", ok=True, tick=30), tick=30)
                return
            yield from super().decide(s)

    sim.decider = Overruled(greedy, 5)
    parent = _record(tmp_path / "overruled.mcap", sim, 120, "greedy")
    with Recording(parent) as rec:
        rejected = next(d for d in read_decisions(rec) if d.outcome == "rejected")
    assert not rejected.took
    out = tmp_path / "accepted.mcap"
    res = run_branch(parent, BranchSpec(flips=(rejected.id,)), out)
    assert res.first_divergence_tick == 30 and res.identical_until_divergence
    with Recording(out) as rec:
        applied = [d for d in read_decisions(rec) if d.tick == 30]
    assert [(d.who, d.outcome, d.took) for d in applied] == [("whatif:flip", "confirmed", True)]
    assert applied[0].proposal.action == rejected.proposal.action


def test_the_branch_meter_continues_the_parents_totals(parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "meter.mcap"
    run_branch(parent, BranchSpec(at_tick=150, policy="recorded"), out)

    def totals(path: Path) -> list[tuple[int, float, float]]:
        with Recording(path) as rec:
            rows = []
            for m in rec.messages([schemas.TOPIC_METRICS]):
                msg = schemas.Metrics.FromString(m.data)
                v = {x.name: x.value for x in msg.values}
                rows.append((int(msg.tick), v["seed_reward_total"], v["information_gain_total"]))
            return rows

    assert totals(out) == totals(parent)


def test_a_restored_meter_continues_exactly() -> None:
    scenario = load_scenario("tutorial")
    a, b = make_world(scenario, 4), make_world(scenario, 4)
    meter = EpisodeMeter(a)
    for _ in range(30):
        meter.step(a, ())
    blob = json.loads(json.dumps(meter.state()))
    for _ in range(30):
        b.step()
    b_meter = EpisodeMeter.restore(b, blob)
    for _ in range(30):
        meter.step(a, ())
        b_meter.step(b, ())
    assert meter.summary(a) == b_meter.summary(b)


def test_bad_input_is_named(parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.mcap"
    with pytest.raises(WhatIfError, match=r"--at 1h0m0s is outside .*parent.mcap"):
        run_branch(parent, BranchSpec(at_tick=18_000, policy="greedy"), out)
    with pytest.raises(WhatIfError, match="decision #9999 does not exist"):
        run_branch(parent, BranchSpec(flips=(9999,)), out)
    with pytest.raises(WhatIfError, match="say where to branch"):
        run_branch(parent, BranchSpec(policy="greedy"), out)
    with Recording(parent) as rec:
        late = next(d for d in read_decisions(rec) if d.tick > 100)
    with pytest.raises(WhatIfError, match=f"decision #{late.id} .* its flip would never happen"):
        run_branch(parent, BranchSpec(at_tick=100, policy="greedy", flips=(late.id,)), out)
    with pytest.raises(WhatIfError, match="--policy nosuch"):
        run_branch(parent, BranchSpec(at_tick=100, policy="nosuch"), out)
    assert not out.exists()
    # A recording without world checkpoints (an older one, or a live stream's).
    bare = _record(tmp_path / "bare.mcap", _sim(), 60, "greedy", drop=frozenset({"world_state"}))
    with pytest.raises(WhatIfError, match="has no world checkpoints: only recordings made by `scythe simulate`"):
        run_branch(bare, BranchSpec(at_tick=30, policy="greedy"), out)
    # A truncated one: the recorder was killed, so there is no summary to seek through.
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(parent.read_bytes()[: parent.stat().st_size // 2])
    with pytest.raises(TruncatedRecording, match="scythe recording repair"):
        run_branch(cut, BranchSpec(at_tick=30, policy="greedy"), out)


def test_a_recording_that_does_not_replay_is_refused_before_the_branch_point(parent: Path, tmp_path: Path) -> None:
    """A frame that differs from its re-simulation (another simulator version) is named, not branched from."""
    tampered = tmp_path / "tampered.mcap"
    with Recording(parent) as rec, Recorder(tampered, metadata=rec.metadata) as out:
        from scythe_desktop.protocol.wire import WireFrame

        for m in rec.messages([*schemas.FRAME_TOPICS, schemas.TOPIC_WORLD_INFO, schemas.TOPIC_DECISIONS,
                               schemas.TOPIC_METRICS, schemas.TOPIC_WORLD_STATE]):
            if m.topic in schemas.FRAME_TOPICS:
                f = pb.Frame.FromString(m.data)
                payload = f.payload
                if f.kind == pb.GRID and f.tick == 110:
                    mid = len(payload) // 2
                    payload = payload[:mid] + bytes([payload[mid] ^ 0xFF]) + payload[mid + 1:]
                out.write_frame(WireFrame(f.seq, f.kind, f.base_seq, f.tick, payload), m.log_time_ns)
            else:
                out.copy_message(m.topic, m.data, m.log_time_ns, m.sequence)
    with pytest.raises(WhatIfError, match=r"does not replay exactly .* tick 100: frame seq \d+ \(tick 110\) differs"):
        run_branch(tampered, BranchSpec(at_tick=130, policy="static-grid"), tmp_path / "y.mcap")


def test_scythe_whatif_lists_and_branches(parent: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whatif", str(parent), "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    with Recording(parent) as rec:
        assert len(listing) == len(read_decisions(rec))
    assert listing[0].startswith("#1 tick 0 policy:greedy auto-applied (applied): ")
    out = tmp_path / "cli.mcap"
    assert main(["whatif", str(parent), "--at", "20s", "--policy", "static-grid", "--duration", "10s",
                 "--out", str(out), "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert "branch at 20s" in said and "identical until then" in said
    with Recording(out) as rec:
        assert rec.end_ns == 30 * 1_000_000_000
    assert main(["whatif", str(parent), "--at", "20s", "--out", str(out), "--no-progress"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["whatif", str(parent), "--flip", "0", "--out", str(tmp_path / "z.mcap"), "--no-progress"]) == 2
    assert "decision #0 does not exist" in capsys.readouterr().err


def test_parent_run_reads_the_recordings_cadence(parent: Path) -> None:
    with Recording(parent) as rec:
        run = ParentRun.open(rec)
    assert (run.seed, run.tick_hz, run.decide_every, run.keyframe_every, run.world_state_every) == (3, 5.0, 5, 25, 50)
    assert run.end_tick == TICKS
