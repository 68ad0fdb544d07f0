"""The evader layer's trail (Qt-free): recent moves with their ages, bad recorded moves named, a seek's clear."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scythe_desktop.console.model.evader_trail import KINDS, EvaderTrail
from scythe_desktop.recording import schemas


def _moves(tick: int, *moves: tuple[str, int, float, float]) -> object:
    msg = schemas.EvaderMoves(tick=tick, evader="decoy")
    for kind, cid, lon, lat in moves:
        msg.moves.add(kind=kind, cluster_id=cid, lon=lon, lat=lat)
    return msg


def test_the_trail_keeps_the_last_ticks_with_their_ages() -> None:
    trail = EvaderTrail(keep_ticks=10)
    assert trail.add(_moves(1, ("quiet", 3, 10.0, 50.0), ("decoy", 9, 11.0, 51.0))) == []
    trail.add(_moves(6, ("shift", 4, 20.0, 40.0)))
    lonlat, kinds, ages = trail.marks()
    assert kinds.tolist() == [KINDS.index("quiet"), KINDS.index("decoy"), KINDS.index("shift")]
    assert ages.tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert lonlat[2].tolist() == [20.0, 40.0]
    trail.add(_moves(12, ("activate", 5, 0.0, 0.0)))  # tick 1 is now 11 ticks old: gone
    assert trail.marks()[1].tolist() == [KINDS.index("shift"), KINDS.index("activate")]
    assert trail.counts == {"quiet": 1, "activate": 1, "shift": 1, "decoy": 1}
    trail.clear()
    assert len(trail.marks()[0]) == 0 and sum(trail.counts.values()) == 0


def test_a_recorded_move_that_cannot_be_drawn_is_named_and_skipped() -> None:
    trail = EvaderTrail()
    problems = trail.add(_moves(2, ("vanish", 1, 0.0, 0.0), ("shift", 7, math.nan, 10.0), ("quiet", 8, 5.0, 5.0)))
    assert problems == ["recorded evader move: unknown kind 'vanish'",
                        "recorded evader move shift of cluster 7: no position"]
    assert np.array_equal(trail.marks()[1], [KINDS.index("quiet")])
    with pytest.raises(ValueError, match="keep_ticks must be >= 1"):
        EvaderTrail(0)


def test_overlapping_live_windows_count_each_move_once_and_name_a_bad_one_once() -> None:
    trail = EvaderTrail(keep_ticks=10)
    first = [(3, "activate", 1, 10.0, 50.0), (5, "vanish", 2, 0.0, 0.0)]
    assert trail.replace(5, first) == ["evader move: unknown kind 'vanish'"]
    # The next poll's window repeats tick 3 and 5 and adds tick 8: only tick 8 is new.
    second = [*first, (8, "decoy", 4, 12.0, 48.0)]
    assert trail.replace(8, second) == []
    assert trail.counts == {"quiet": 0, "activate": 1, "shift": 0, "decoy": 1}
    lonlat, kinds, ages = trail.marks()
    assert lonlat.tolist() == [[10.0, 50.0], [12.0, 48.0]]
    assert kinds.tolist() == [KINDS.index("activate"), KINDS.index("decoy")]
    assert ages.tolist() == pytest.approx([0.5, 0.0])
    # A window that has moved past tick 3 drops it from the layer.
    assert trail.replace(14, [(8, "decoy", 4, 12.0, 48.0), (14, "shift", 4, 13.0, 47.0)]) == []
    assert trail.marks()[1].tolist() == [KINDS.index("decoy"), KINDS.index("shift")]
    assert trail.counts["shift"] == 1 and trail.counts["decoy"] == 1
