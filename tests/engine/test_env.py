"""ObserverEnv: passes both env checkers, masks encode every guardrail, rewards explain themselves."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scythe_desktop.engine.env import ENV_ID, ObserverEnv
from scythe_desktop.engine.rl.spaces import WorldView


@pytest.fixture(scope="module")
def tutorial_env() -> ObserverEnv:
    return ObserverEnv("tutorial", episode_ticks=40)


def test_gymnasium_check_env_passes() -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(ObserverEnv("tutorial", episode_ticks=20), skip_render_check=True)


def test_sb3_check_env_passes() -> None:
    from stable_baselines3.common.env_checker import check_env

    check_env(ObserverEnv("tutorial", episode_ticks=20), warn=True)


def test_registered_id_makes_the_env() -> None:
    env = gym.make(ENV_ID, scenario="tutorial", episode_ticks=5)
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    env.close()


def test_noop_is_always_valid_and_the_mask_has_the_action_space_shape(tutorial_env: ObserverEnv) -> None:
    tutorial_env.reset(seed=3)
    for _ in range(30):
        mask = tutorial_env.action_masks()
        assert mask.shape == (tutorial_env.action_space.n,) and mask.dtype == bool
        assert mask[0]
        tutorial_env.step(int(np.flatnonzero(mask)[-1]))  # the last valid action: exercises every block


def _masked_episode(env: ObserverEnv, seed: int, steps: int) -> tuple[int, int]:
    """Random masked actions; every allowed action must also be allowed by world.validate and applied."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    checked = 0
    for _ in range(steps):
        mask = env.action_masks()
        valid = np.flatnonzero(mask)
        view = WorldView.of(env.world)
        for idx in rng.choice(valid, size=min(2, valid.size), replace=False):
            action = env.codec.decode(int(idx), view, env._slots)
            if action is not None:
                assert env.world.validate(action) is None, (idx, action)
                checked += 1
        _, _, _, truncated, info = env.step(int(rng.choice(valid)))
        assert info["refused"] is None
        if truncated:
            env.reset()
    return checked, steps


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1))
def test_masked_actions_are_never_refused(tutorial_env: ObserverEnv, seed: int) -> None:
    checked, _ = _masked_episode(tutorial_env, seed, steps=1000)  # 10 examples x 1000 = 10k masked actions
    assert checked > 0


def test_masks_agree_with_the_world_on_the_regional_scenario() -> None:
    env = ObserverEnv("regional", episode_ticks=60)
    _masked_episode(env, seed=11, steps=120)


def test_deploy_mask_is_exactly_what_the_world_allows() -> None:
    """No valid deploy is hidden: mask False => world.validate refuses (for every deploy index)."""
    env = ObserverEnv("regional", episode_ticks=10)
    env.reset(seed=2)
    view = WorldView.of(env.world)
    mask = env.action_masks()
    start = env.codec.offsets["deploy"]
    n_types = len(env.scenario.observer_types)
    for idx in range(start, start + n_types * env.config.n_cells):
        action = env.codec.decode(idx, view, env._slots)
        assert action is not None
        assert mask[idx] == (env.world.validate(action) is None), action


def test_reward_is_the_sum_of_its_components(tutorial_env: ObserverEnv) -> None:
    tutorial_env.reset(seed=5)
    rng = np.random.default_rng(5)
    for _ in range(40):
        valid = np.flatnonzero(tutorial_env.action_masks())
        _, reward, _, _, info = tutorial_env.step(int(rng.choice(valid)))
        parts = info["reward_components"]
        assert set(parts) >= {
            "entropy",
            "agreement",
            "detection",
            "deployment_cost",
            "redundancy",
            "compute_cost",
            "latency",
            "early_activation",
        }
        assert reward == pytest.approx(math.fsum(parts.values()), abs=1e-12)


def test_an_unmasked_invalid_action_is_refused_and_penalised(tutorial_env: ObserverEnv) -> None:
    tutorial_env.reset(seed=0)
    invalid = int(np.flatnonzero(~tutorial_env.action_masks())[0])
    n_before = len(tutorial_env.world.observers)
    _, _, _, _, info = tutorial_env.step(invalid)
    assert info["refused"] is not None and "masked" in info["refused"]
    assert info["reward_components"]["invalid_action"] < 0
    assert len(tutorial_env.world.observers) == n_before


def _trajectory(seed: int) -> list[tuple[float, bytes]]:
    env = ObserverEnv("tutorial", episode_ticks=30)
    obs, _ = env.reset(seed=seed)
    out = []
    rng = np.random.default_rng(99)
    for _ in range(30):
        valid = np.flatnonzero(env.action_masks())
        obs, reward, _, _, _ = env.step(int(rng.choice(valid)))
        out.append((reward, b"".join(obs[k].tobytes() for k in sorted(obs))))
    return out


def test_same_seed_gives_the_same_episode() -> None:
    assert _trajectory(21) == _trajectory(21)
    assert _trajectory(21) != _trajectory(22)


def test_episode_truncates_after_episode_ticks() -> None:
    env = ObserverEnv("tutorial", episode_ticks=3)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="episode_ticks"):
        ObserverEnv("tutorial", episode_ticks=0)
    env = ObserverEnv("tutorial")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be in"):
        env.step(env.action_space.n)
