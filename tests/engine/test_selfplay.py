"""Self-play on the batched engine: the evader's VecEnv keeps SB3's contract, a trained evader plays any
world's evader slot, and a self-play run reloads opponents from pools of frozen copies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

from scythe_desktop.engine.rl.adversary_vec import EvaderVecEnv, ModelEvader
from scythe_desktop.engine.rl.selfplay import SCRIPTED_OPPONENTS, SelfPlayConfig, _frozen, selfplay
from scythe_desktop.engine.world import World


def test_the_evader_vec_env_keeps_sb3s_contract_and_resets_with_the_terminal_observation() -> None:
    env = EvaderVecEnv(6, episode_ticks=4, seed=2)
    obs = env.reset()
    assert all(env.observation_space[k].contains(v[0]) for k, v in obs.items())
    m, n = env.layout.adv.moves_per_tick, env.layout.choices
    assert env.action_masks().shape == (6, m * n)
    total = np.zeros(6)
    for t in range(4):
        obs, reward, done, infos = env.step(np.zeros((6, m), dtype=np.int64))
        total += reward
        assert done.all() == (t == 3)
    assert all("terminal_observation" in i and i["TimeLimit.truncated"] for i in infos)
    assert env.shard.steps.tolist() == [0] * 6  # reset in the same call
    assert np.isfinite(total).all()


def test_a_masked_evader_move_is_refused_for_that_world_alone() -> None:
    env = EvaderVecEnv(3, episode_ticks=10, seed=5)
    env.reset()
    m, n = env.layout.adv.moves_per_tick, env.layout.choices
    mask = env.action_masks().reshape(3, m, n)
    action = np.zeros((3, m), dtype=np.int64)
    action[1, 0] = int(np.flatnonzero(~mask[1, 0])[0])
    stealth = env.shard.batch.stealth.copy()
    _, _, _, infos = env.step(action)
    assert infos[1]["refused"] == 1 and "refused" not in infos[0] and "refused" not in infos[2]
    assert env.shard.batch.stealth[1] == min(stealth[1] + env.layout.adv.stealth_regen, env.layout.adv.stealth_budget)


def test_with_nobody_watching_the_evaders_reward_is_its_evaded_activations() -> None:
    env = EvaderVecEnv(4, episode_ticks=60, seed=9)
    env.reset()
    m = env.layout.adv.moves_per_tick
    total = 0.0
    for _ in range(59):
        _, reward, _, _ = env.step(np.zeros((4, m), dtype=np.int64))
        assert (reward >= 0).all()  # nothing caught, nothing detected
        total += float(reward.sum())
    assert total > 0  # activations completed unseen: only evasions paid


def test_a_trained_evader_plays_a_worlds_evader_slot_within_its_budget() -> None:
    env = EvaderVecEnv(8, episode_ticks=20, seed=1)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(64)
    world = World("adversarial", 3, emit_nodes=False)
    world.batch.evader = ModelEvader(env.layout, model, 20)
    adv = world.scenario.adversary
    assert adv is not None
    for _ in range(30):
        world.step()
        assert 0.0 <= world.batch.stealth[0] <= adv.stealth_budget


def test_a_frozen_copy_does_not_follow_the_learner() -> None:
    env = EvaderVecEnv(4, episode_ticks=10, seed=1)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=32, n_epochs=1, seed=0, device="cpu",
                        learning_rate=1e-2)
    frozen = _frozen(model.policy)
    model.learn(64)
    learned = dict(model.policy.state_dict())
    assert any(not torch.equal(v, learned[k]) for k, v in frozen.state_dict().items())


def test_a_self_play_run_draws_opponents_from_both_pools_and_writes_both_policies(tmp_path: Path) -> None:
    cfg = SelfPlayConfig(timesteps=4 * 16 * 8, rounds=2, n_envs=16, n_steps=8, batch_size=64, n_epochs=1,
                         episode_ticks=20, seed=3, out_dir=tmp_path / "sp", command="scythe train --adversarial")
    seen: list[dict] = []
    card_path = selfplay(cfg, on_phase=seen.append)
    card = json.loads(card_path.read_text())
    assert [p["learner"] for p in card["phases"]] == ["evader", "defender", "evader", "defender"]
    assert seen == card["phases"]
    assert card["phases"][2]["opponent"] in ("defender#0", "defender#1")  # the pool grew after round 0
    pool = {*SCRIPTED_OPPONENTS, "evader#0", "evader#1"}
    assert all(o in pool for p in card["phases"][1::2] for o in p["opponent"])
    assert card["defender_timesteps"] == card["evader_timesteps"] == 2 * cfg.steps_per_phase
    assert card_path.name == "defender.json"
    assert json.loads((card_path.parent / "evader.json").read_text()) == card
    for name in ("defender.pt", "evader.pt"):
        MaskableActorCriticPolicy.load(str(card_path.parent / name), device="cpu")
    # The defender's card names the world it was trained on, so the brain takes its network there.
    from scythe_desktop.engine.policies.ppo import PPOPolicy
    from scythe_desktop.engine.scenario import load_scenario

    network = PPOPolicy(card_path.with_suffix(".pt"))
    assert network.trained_for(load_scenario("adversarial"))
    assert network.trained_for(load_scenario("regional"))  # the same rules without the evader
    assert not network.trained_for(load_scenario("tutorial"))


def test_self_play_refuses_a_world_without_an_evader() -> None:
    with pytest.raises(ValueError, match="'regional' has no \\[adversary\\] table"):
        SelfPlayConfig(scenario="regional")


def test_evaluate_plays_a_trained_evader_from_its_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = EvaderVecEnv(4, episode_ticks=10, seed=1)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.policy.save(str(tmp_path / "evader.pt"))
    base = [sys.executable, "-m", "scythe_desktop", "evaluate", "--scenario", "adversarial", "--policy", "static-grid",
            "--seeds", "2", "--ticks", "8", "--equal-spend", "none", "--no-progress"]
    done = subprocess.run([*base, "--evader", "trained", "--evader-model", str(tmp_path / "evader.pt")],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"evader {tmp_path / 'evader.pt'}" in done.stdout
    lone = subprocess.run([*base, "--evader", "trained"], capture_output=True, text=True, timeout=180)
    assert lone.returncode == 2 and "--evader trained and --evader-model PATH go together" in lone.stderr
