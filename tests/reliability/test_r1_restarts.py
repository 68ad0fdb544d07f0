"""R1 (bounded): kill -9 a real ``scythe serve`` three times while a client streams and an operator acts.

The long version (20 kills, with resume times) is ``python -m benchmarks.reliability``; here only correctness.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.reliability.rel_restarts import _Received, frame_figures, run_restarts
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

SEED = 1101


def test_streams_and_actions_survive_repeated_sigkill(tmp_path: Path) -> None:
    r = run_restarts(tmp_path, 3, SEED)
    assert r["restarts_survived"] == 3, r
    assert r["stream_error"] is None, r
    assert r["frames_lost"] == 0, r
    assert r["frames_duplicated"] == 0, r
    assert r["gaps_covered_by_keyframe"] == 3, r  # one per restart: the new life starts with a keyframe
    assert r["action_errors"] == 0, r
    assert r["actions_acknowledged"] > 0, r
    assert r["duplicate_actions"] == 0, r
    assert r["observers_live"] == r["observers_expected"], r
    assert r["token_leaks_in_serve_log"] == 0, r


def _f(seq: int, kind: int = pb.DELTA, base: int = 0, epoch: int = 0) -> _Received:
    return _Received(seq, kind, base or seq - 1, epoch, 0.0)


def test_the_frame_checker_sees_losses_duplicates_and_covered_gaps() -> None:
    clean = [_f(1, pb.KEYFRAME), _f(2), _f(3), _f(1001, pb.KEYFRAME, epoch=1), _f(1002)]
    assert frame_figures(clean) == {"frames_lost": 0, "frames_duplicated": 0, "gaps_covered_by_keyframe": 1}
    lost_inside = [_f(1, pb.KEYFRAME), _f(2), _f(5, base=4)]
    assert frame_figures(lost_inside)["frames_lost"] >= 2
    gap_without_keyframe = [_f(1, pb.KEYFRAME), _f(2), _f(1001, base=2, epoch=1)]
    assert frame_figures(gap_without_keyframe)["frames_lost"] > 0
    duplicated = [_f(1, pb.KEYFRAME), _f(2), _f(2, epoch=1)]
    assert frame_figures(duplicated)["frames_duplicated"] == 1
