"""The batched engine: a world's trajectory does not depend on its batch, the VecEnv keeps SB3's contract,
its mask and observation equal the single-world ones, bad input is refused per slot, and the cost model
makes duty-cycling an observer cost more than keeping it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scythe_desktop.engine.actions import Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.batch.actions import ActionBatch
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.rl.spaces import ObservationEncoder, StepView, WorldView
from scythe_desktop.engine.rl.vec_env import ObserverVecEnv
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World
from scythe_desktop.engine.world_rows import ClusterRows, ObserverRows

TUTORIAL = load_scenario("tutorial")


def _random_action(world: World, rng: np.random.Generator):
    obs = world.observers
    kind = rng.integers(0, 6)
    if kind <= 1 or not len(obs):
        return Deploy(float(rng.uniform(-90, 10)), float(rng.uniform(20, 70)), rng.choice(["probe", "satellite"]))
    oid = int(obs["id"][rng.integers(0, len(obs))])
    if kind == 2:
        return Relocate(oid, float(rng.uniform(-90, 10)), float(rng.uniform(20, 70)))
    if kind == 3:
        return IncreaseSampling(oid)
    if kind == 4:
        return Focus(oid, int(world.clusters["id"][rng.integers(0, len(world.clusters))]))
    return Decommission(oid)


def _tables(batch: WorldBatch, slot: int) -> tuple[np.ndarray, np.ndarray]:
    return ClusterRows.of(batch, slot).table(), ObserverRows.of(batch, slot).table()


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape and a.dtype == b.dtype
    worst = 0.0
    for name in a.dtype.names or ():
        x, y = np.asarray(a[name], dtype=np.float64), np.asarray(b[name], dtype=np.float64)
        worst = max(worst, float(np.abs(x - y).max(initial=0.0)))
    return worst


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), size=st.integers(2, 9), data=st.data())
def test_a_world_runs_the_same_alone_and_in_any_slot_of_a_batch(seed: int, size: int, data: st.DataObject) -> None:
    slot = data.draw(st.integers(0, size - 1))
    alone = World(TUTORIAL, seed, emit_nodes=False)
    others = np.random.default_rng(seed).integers(0, 2**31 - 1, size)
    others[slot] = seed
    batch = WorldBatch(TUTORIAL, others)
    rng = np.random.default_rng(seed + 1)
    for _ in range(60):
        action = _random_action(alone, rng)
        reason, single = alone._check(action)
        joint = ActionBatch.noop(size)
        if reason is None and single is not None:
            for name in ("kind", "slot", "lon", "lat", "type", "cluster"):
                getattr(joint, name)[slot] = getattr(single, name)[0]
            assert alone.apply(action).ok
        alone.step()
        batch.step(joint)
    clusters, observers = _tables(batch, slot)
    assert _max_abs_diff(clusters, alone.clusters) == 0.0
    assert _max_abs_diff(observers, alone.observers) == 0.0
    assert clusters.tobytes() == alone.clusters.tobytes()
    assert batch.billing.spend[slot] == alone.spend_total


def test_the_same_seed_gives_the_same_world_in_slot_3000_of_4096() -> None:
    seeds = np.arange(4096) * 7 + 3
    batch = WorldBatch(TUTORIAL, seeds)
    alone = World(TUTORIAL, int(seeds[3000]), emit_nodes=False)
    joint = ActionBatch.noop(4096)
    joint.kind[:] = 1  # every world deploys one probe at the same place
    joint.lon[:], joint.lat[:] = -40.0, 45.0
    assert alone.apply(Deploy(-40.0, 45.0, "probe")).ok
    for t in range(30):
        batch.step(joint if t == 0 else None)
        alone.step()
    clusters, observers = _tables(batch, 3000)
    assert clusters.tobytes() == alone.clusters.tobytes()
    assert observers.tobytes() == alone.observers.tobytes()


def test_a_nan_or_out_of_range_coordinate_is_refused_naming_the_slot() -> None:
    batch = WorldBatch(TUTORIAL, [1, 2, 3])
    a = ActionBatch.noop(3)
    a.kind[1] = 1
    a.lon[1], a.lat[1] = float("nan"), 10.0
    with pytest.raises(ValueError, match=r"world slot 1: .*lon"):
        batch.step(a)
    a.lon[1], a.lat[1] = 10.0, 95.0
    with pytest.raises(ValueError, match=r"world slot 1: .*lat"):
        batch.step(a)
    assert batch.observers.n.tolist() == [0, 0, 0]  # nothing was applied


def _world_view(env: ObserverVecEnv, b: int) -> WorldView:
    shard, i = env.locate(b)
    clusters, observers = _tables(shard.batch, i)
    clusters.flags.writeable = observers.flags.writeable = False
    return WorldView(env.scenario, clusters, observers, float(shard.batch.cost_per_hour()[i]))


def _random_valid(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(mask.shape) * mask).argmax(axis=1)


def test_vec_env_mask_and_observation_equal_the_single_world_ones() -> None:
    env = ObserverVecEnv(6, "regional", episode_ticks=50, seed=4, shards=1)
    obs = env.reset()
    encoder = ObservationEncoder(env.codec)
    rng = np.random.default_rng(0)
    for t in range(25):
        mask = env.action_masks()
        for b in range(env.num_envs):
            view = _world_view(env, b)
            slots = np.lexsort((view.clusters["id"], -view.clusters["entropy"]))[: env.config.cluster_slots]
            assert np.array_equal(mask[b], env.codec.mask(view, slots)), (t, b)
            shard, i = env.locate(b)
            single = encoder.encode(view, StepView(slots, shard.steps[i] / env.episode_ticks))
            for key, value in single.items():
                np.testing.assert_allclose(obs[key][b], value, rtol=0, atol=1e-6, err_msg=f"{key} t={t} b={b}")
            assert env.observation_space.contains({k: v[b] for k, v in obs.items()})
        obs, reward, done, infos = env.step(_random_valid(mask, rng))
        assert reward.shape == (6,) and not done.any() and not any("refused" in i for i in infos)


def test_vec_env_auto_resets_at_the_episode_boundary_with_the_terminal_observation() -> None:
    env = ObserverVecEnv(3, "tutorial", episode_ticks=4, seed=1)
    env.reset()
    rng = np.random.default_rng(1)
    for t in range(4):
        obs, _, done, infos = env.step(_random_valid(env.action_masks(), rng))
        assert done.all() == (t == 3)
    assert all(i["TimeLimit.truncated"] and "terminal_observation" in i for i in infos)
    assert obs["globals"][:, 0].tolist() == [0.0, 0.0, 0.0]  # the clock restarted
    assert all((shard.batch.tick == 0).all() for shard in env.shards)
    assert infos[0]["terminal_observation"]["globals"][0] == pytest.approx(1.0)


def test_vec_env_refuses_an_action_outside_the_mask_for_that_slot_alone() -> None:
    env = ObserverVecEnv(4, "tutorial", seed=2)
    env.reset()
    actions = np.zeros(4, dtype=np.int64)
    actions[2] = env.codec.offsets["decommission"]  # no observer yet: masked
    _, _, _, infos = env.step(actions)
    assert "world slot 2" in infos[2]["refused"] and "decommission" in infos[2]["refused"]
    assert [("refused" in i) for i in infos] == [False, False, True, False]
    assert env.last_components["invalid_action"].tolist() == [0.0, 0.0, -1.0, 0.0]
    with pytest.raises(ValueError, match="world slot 1"):
        env.step(np.array([0, 10**6, 0, 0]))


def test_vec_env_gives_the_same_episodes_whatever_the_batch_size_and_shard_count() -> None:
    one = ObserverVecEnv(130, "tutorial", episode_ticks=6, seed=10, shards=1)
    two = ObserverVecEnv(130, "tutorial", episode_ticks=6, seed=10, shards=2)
    small = ObserverVecEnv(2, "tutorial", episode_ticks=6, seed=10)
    assert len(two.shards) == 2 and len(one.shards) == 1
    envs = (one, two, small)
    obs = [env.reset() for env in envs]
    rng = np.random.default_rng(3)
    for _ in range(9):  # across an episode boundary
        actions = _random_valid(one.action_masks(), rng)
        steps = [env.step(actions[: env.num_envs]) for env in envs]
        obs = [s[0] for s in steps]
        for key in obs[0]:
            assert np.array_equal(obs[0][key], obs[1][key]) and np.array_equal(obs[0][key][:2], obs[2][key])
        assert np.array_equal(steps[0][1], steps[1][1]) and np.array_equal(steps[0][1][:2], steps[2][1])
    assert small.env_method("action_masks")[1].tolist() == list(two.action_masks()[1])


def test_maskable_ppo_trains_on_the_vec_env() -> None:
    from sb3_contrib import MaskablePPO

    env = ObserverVecEnv(8, "tutorial", episode_ticks=16, seed=0)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps >= 256


def test_duty_cycling_a_satellite_costs_more_than_keeping_it() -> None:
    def run(duty: bool) -> float:
        world = World("regional", seed=3, emit_nodes=False)
        oid = world.apply(Deploy(10.0, 50.0, "satellite")).observer_id
        for t in range(100):
            if duty and t % 2 == 0:
                assert world.apply(Decommission(oid)).ok  # type: ignore[arg-type]
            elif duty:
                oid = world.apply(Deploy(10.0, 50.0, "satellite")).observer_id
            world.step()
        return world.spend_total

    keep, duty = run(False), run(True)
    sat = load_scenario("regional").observer_type("satellite")
    assert keep == pytest.approx(sat.setup_fee + 100 * sat.cost_per_hour / 60.0)
    assert duty > keep
