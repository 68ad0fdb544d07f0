"""Training: a short real run writes checkpoints and a card, they load as a Policy, and runs resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scythe_desktop.engine.policies.ppo import PPOPolicy
from scythe_desktop.engine.rl.evaluation import run_episode
from scythe_desktop.engine.rl.training import (
    CARD,
    FINAL_MODEL,
    POLICY_FILE,
    TrainConfig,
    latest_checkpoint,
    train,
)
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``scythe train`` as a user runs it: the batched env (8 worlds), checkpoints, a card."""
    out = tmp_path_factory.mktemp("run")
    cmd = [
        sys.executable,
        "-m",
        "scythe_desktop",
        "train",
        "--scenario",
        "tutorial",
        "--timesteps",
        "2048",
        "--seed",
        "3",
        "--out",
        str(out),
        "--checkpoint-every",
        "1024",
        "--envs",
        "8",
        "--no-progress",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return out


def test_short_training_run_writes_checkpoints_model_and_card(trained: Path) -> None:
    assert (trained / FINAL_MODEL).exists()
    assert (
        PPOPolicy(trained / POLICY_FILE).network.action_space.n
        == PPOPolicy(trained / FINAL_MODEL).network.action_space.n
    )
    assert latest_checkpoint(trained) == trained / "checkpoints" / "ppo_2048_steps.zip"
    card = json.loads((trained / CARD).read_text())
    assert card["scenario"] == "tutorial" and card["seed"] == 3 and card["timesteps"] == 2048
    assert {"torch", "stable_baselines3", "sb3_contrib", "gymnasium"} <= set(card["library_versions"])


def test_a_checkpoint_loads_as_a_policy_and_plays_without_violations(trained: Path) -> None:
    policy = PPOPolicy(latest_checkpoint(trained))
    result = run_episode(policy, load_scenario("tutorial"), seed=8, ticks=30)
    assert result.violations == 0
    world = World("tutorial", 8, emit_nodes=False)
    for p in policy.propose(world, limit=3):
        assert world.validate(p.action) is None
        assert 0.0 < p.confidence <= 1.0


def test_resume_continues_from_the_newest_checkpoint(tmp_path: Path) -> None:
    cfg = TrainConfig(
        scenario="tutorial",
        timesteps=512,
        seed=1,
        out_dir=tmp_path,
        n_envs=2,
        backend="batch",
        checkpoint_every=256,
        progress_bar=False,
        n_steps=128,
        batch_size=64,
        n_epochs=1,
    )
    train(cfg)
    first = json.loads((tmp_path / CARD).read_text())
    assert first["timesteps"] == 512 and first["resumed_from"] is None
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 768, "resume": True}))
    second = json.loads((tmp_path / CARD).read_text())
    assert second["timesteps"] == 768
    assert second["resumed_from"].endswith("ppo_512_steps.zip")


def test_same_seed_gives_identical_weights(tmp_path: Path) -> None:
    def weights(out: Path) -> np.ndarray:
        cfg = TrainConfig(
            scenario="tutorial",
            timesteps=256,
            seed=5,
            out_dir=out,
            n_envs=2,
            backend="batch",
            checkpoint_every=10_000,
            progress_bar=False,
            n_steps=128,
            batch_size=64,
            n_epochs=1,
        )
        return PPOPolicy(train(cfg)).network.parameters_to_vector()

    assert np.array_equal(weights(tmp_path / "a"), weights(tmp_path / "b"))


def test_bad_training_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="timesteps"):
        TrainConfig(timesteps=0)
    done = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "train", "--scenario", "nowhere"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "nowhere" in done.stderr
