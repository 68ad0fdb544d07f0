"""The shipped PPO policy: loads from resources/ without a network, plays safely, beats random."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from scythe_desktop.engine.policies.ppo import SHIPPED_POLICY, PPOPolicy, card_path
from scythe_desktop.engine.policies.random_policy import RandomPolicy
from scythe_desktop.engine.rl.evaluation import evaluate
from scythe_desktop.engine.rl.spaces import EnvConfig
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World


def test_shipped_policy_and_card_are_in_resources() -> None:
    assert SHIPPED_POLICY.exists()
    assert SHIPPED_POLICY.stat().st_size < 20 * 2**20  # a few MB, not a training checkpoint
    card = json.loads(card_path(SHIPPED_POLICY).read_text())
    assert card["scenario"] == "regional"
    assert card["timesteps"] > 0 and "seed" in card
    assert {"torch", "stable_baselines3", "sb3_contrib"} <= set(card["library_versions"])
    EnvConfig(**card["env_config"])  # the layout the network expects is recorded and valid


def test_shipped_policy_loads_in_a_fresh_process_without_network_access() -> None:
    """A fresh interpreter with every proxy pointed at a closed port: loading must not touch the network."""
    code = (
        "from scythe_desktop.engine.policies.ppo import PPOPolicy;"
        "from scythe_desktop.engine.world import World;"
        "w = World('regional', 1, emit_nodes=False); p = PPOPolicy(); p.reset(w);"
        "print(len(p.propose(w, 3)))"
    )
    closed = "http://127.0.0.1:9"
    env = {
        "PATH": "/usr/bin:/bin",
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "ALL_PROXY": closed,
        "HF_HUB_OFFLINE": "1",
        "NO_PROXY": "",
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 1


def test_shipped_policy_proposals_are_valid_and_ranked_by_confidence() -> None:
    world = World("regional", 12, emit_nodes=False)
    policy = PPOPolicy()
    policy.reset(world, 12)
    for _ in range(10):
        proposals = policy.propose(world, limit=5)
        confidences = [p.confidence for p in proposals]
        assert confidences == sorted(confidences, reverse=True)
        for p in proposals:
            assert world.validate(p.action) is None
        world.step(tuple(policy.decide(world)))


def test_shipped_policy_beats_random_and_static_grid_on_the_seed_reward() -> None:
    from scythe_desktop.engine.policies.static_grid import StaticGridPolicy

    scenario = load_scenario("regional")
    seeds = [1000, 1001, 1002]
    ppo = evaluate(PPOPolicy, scenario, seeds, ticks=200)
    rnd = evaluate(lambda: RandomPolicy(seed=0), scenario, seeds, ticks=200)
    grid = evaluate(StaticGridPolicy, scenario, seeds, ticks=200)
    assert all(r.violations == 0 for r in ppo)
    mean = statistics.fmean
    assert mean(r.seed_reward for r in ppo) > mean(r.seed_reward for r in grid) > mean(r.seed_reward for r in rnd)
