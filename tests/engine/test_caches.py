"""The speed caches change nothing: warm caches give bit-identical results to cold ones, in the same process.

The world keeps per-version caches (observer unit vectors, footprint weights, occlusion terms, spend, the
state entropy reused by the cluster table); the env keeps the grid coverage, the clusters' cells and the
redundancy term keyed on the exact bytes of their inputs and reuses the last step's reward snapshot. Each
test drives the cached path and a cache-free reference (a world restored from bytes every tick, fresh
encoders, the plain reward function) with the same actions and compares bytes, so it holds on any platform.
"""

from __future__ import annotations

import numpy as np

from scythe_desktop.bench.engine import deploy_spread
from scythe_desktop.engine.actions import Decommission, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.env import ObserverEnv
from scythe_desktop.engine.rl.reward import redundant_coverage
from scythe_desktop.engine.rl.spaces import ObservationEncoder, StepView, WorldView, cluster_slots
from scythe_desktop.engine.world import World


def _operator(world: World, t: int) -> list:
    """Moves, focus, sampling and a decommission, so every cache key changes now and then."""
    obs = world.observers
    if not len(obs):
        return []
    oid = int(obs["id"][t % len(obs)])
    if t % 7 == 1:
        return [Relocate(oid, 8.0 + t % 11, 44.0 - t % 5)]
    if t % 5 == 2:
        return [Focus(oid, int(world.clusters["id"][t % len(world.clusters)]))]
    if t % 31 == 3:
        return [IncreaseSampling(oid)]
    if t == 60:
        return [Decommission(oid)]
    return []


def test_world_with_warm_caches_matches_a_world_restored_cold_every_tick() -> None:
    warm = World("regional", seed=9, emit_nodes=False)
    deploy_spread(warm, 8)
    for t in range(90):
        cold = World.from_bytes(warm.to_bytes())  # empty caches
        actions = _operator(warm, t)
        assert actions == _operator(cold, t)
        a, b = warm.step(actions), cold.step(actions)
        assert a.info == b.info
        assert warm.clusters.tobytes() == cold.clusters.tobytes()
        assert warm.observers.tobytes() == cold.observers.tobytes()
        assert warm.budget_used_per_hour == cold.budget_used_per_hour
    lons, lats = np.array([5.0, 20.0, 35.0]), np.array([40.0, 48.0, 30.0])
    cold = World.from_bytes(warm.to_bytes())
    assert np.array_equal(warm.deploy_gains(lons, lats), cold.deploy_gains(lons, lats))


def test_env_observations_and_redundancy_equal_a_fresh_uncached_encoding() -> None:
    env = ObserverEnv("regional", episode_ticks=60)
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(3)
    weight = env.weights.redundancy
    for _ in range(120):
        view = WorldView.of(env.world)
        fresh = ObservationEncoder(env.codec).encode(
            view, StepView(cluster_slots(view, env.config.cluster_slots), (env.world.tick % 60) / 60)
        )
        assert obs.keys() == fresh.keys()
        for key in obs:
            assert obs[key].dtype == np.float32 and obs[key].tobytes() == fresh[key].tobytes(), key
        valid = np.flatnonzero(env.action_masks())
        obs, _, _, truncated, info = env.step(int(valid[rng.integers(valid.size)]))
        assert info["reward_components"]["redundancy"] == -weight * redundant_coverage(WorldView.of(env.world))
        if truncated:
            obs, _ = env.reset()
