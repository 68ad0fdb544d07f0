"""The rollout planner plays candidates out on copies: the world is left unchanged, the candidates share their
futures (common random numbers), and it only proposes what is expected to beat waiting."""

from __future__ import annotations

import numpy as np

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.policies.rollout import RolloutPolicy, rollout_returns
from scythe_desktop.engine.world import World
from scythe_desktop.engine.world_rows import ClusterRows


def test_rollout_leaves_the_world_unchanged() -> None:
    world = World("tutorial", 4, emit_nodes=False)
    for _ in range(5):
        world.step()
    state = world.to_bytes()
    RolloutPolicy(horizon=5, samples=3).propose(world)
    assert world.to_bytes() == state


def test_identical_candidates_get_identical_returns_and_copies_match_the_world() -> None:
    world = World("tutorial", 7, emit_nodes=False)
    world.step()
    deploy = Deploy(-40.0, 45.0, "probe")
    returns = rollout_returns(world, [None, deploy, deploy, None], horizon=6, samples=4)
    assert np.array_equal(returns[1], returns[2]) and np.array_equal(returns[0], returns[3])
    assert not np.array_equal(returns[0], returns[1])  # the deploy changes the future it faces
    copies = WorldBatch.replicate(world._batch, 0, [1, 2])
    assert ClusterRows.of(copies, 1).table().tobytes() == world.clusters.tobytes()


def test_rollout_proposes_only_what_beats_waiting_with_a_probability_as_confidence() -> None:
    world = World("regional", 3, emit_nodes=False)
    proposals = RolloutPolicy(horizon=10, samples=4).propose(world, limit=3)
    assert proposals, "an empty world has something worth deploying"
    for p in proposals:
        assert world.validate(p.action) is None
        assert 0.0 <= p.confidence <= 1.0 and "vs waiting" in p.explanation
