"""The graph policy: permutation invariance, mixed world sizes in one batch, an offline load in a fresh
process, a tiny MaskablePPO run end to end and behaviour cloning that lowers the cross-entropy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.graph_net import GraphActorCriticPolicy, GraphNet
from scythe_desktop.engine.rl.graph_spaces import GraphView
from scythe_desktop.engine.world import World
from tests.engine.test_graph_spaces import drive

REFERENCES = {"cc": "clusters", "sc": "clusters", "oc": "clusters", "os": "sites"}  # what each index points at


def observations() -> dict[str, np.ndarray]:
    """tutorial and regional worlds with observers deployed, stacked in one batch."""
    views = [drive(World(name, 1, emit_nodes=False), 6, seed=4) for name in ("tutorial", "regional")]
    return {k: np.concatenate([v.obs[k] for v in views]) for k in views[0].obs}


def permuted(obs: dict[str, np.ndarray], entity: str, perms: list[np.ndarray]) -> dict[str, np.ndarray]:
    """``obs`` with world b's ``entity`` rows reordered by ``perms[b]`` (new row i = old row perms[b][i])."""
    out = {k: v.copy() for k, v in obs.items()}
    rows_keys = [entity, f"{entity[:-1]}_mask"]
    rows_keys += [f"{rel}_{part}" for rel, (src, *_) in gl.RELATIONS.items() if src == entity
                  for part in ("index", "attr")]
    for b, p in enumerate(perms):
        inverse = np.argsort(p)
        for key in rows_keys:
            out[key][b] = obs[key][b][p]
        for rel, target in REFERENCES.items():
            if target == entity:
                idx = out[f"{rel}_index"][b]
                out[f"{rel}_index"][b] = np.where(idx >= 0, inverse[np.maximum(idx, 0).astype(int)], -1)
    return out


def live_permutation(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, width = int(mask.sum()), mask.shape[0]
    return np.concatenate([rng.permutation(n), np.arange(n, width)])


def run(net: GraphNet, obs: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        return net({k: torch.as_tensor(v) for k, v in obs.items()})


def blocks(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: logits[:, gl.OFFSETS[name] : gl.OFFSETS[name] + size] for name, size in gl.BLOCKS.items()}


def test_permuting_clusters_or_observers_permutes_their_logits_and_keeps_the_value() -> None:
    torch.manual_seed(0)
    net = GraphNet().eval()
    obs = observations()
    assert (obs["observer_mask"].sum(axis=1) >= 2).all() and (obs["oc_index"] >= 0).any()
    logits, value = run(net, obs)
    rng = np.random.default_rng(0)
    cp = [live_permutation(m, rng) for m in obs["cluster_mask"]]
    logits_c, value_c = run(net, permuted(obs, "clusters", cp))
    torch.testing.assert_close(value_c, value, atol=1e-4, rtol=1e-4)
    before, after = blocks(logits), blocks(logits_c)
    for b, p in enumerate(cp):
        focus = before["focus"][b].reshape(gl.MAX_OBSERVERS, gl.MAX_CLUSTERS)
        torch.testing.assert_close(after["focus"][b].reshape(gl.MAX_OBSERVERS, -1), focus[:, p], atol=1e-4, rtol=1e-4)
    for name in ("noop", "deploy", "relocate", "sampling", "decommission"):
        torch.testing.assert_close(after[name], before[name], atol=1e-4, rtol=1e-4)

    op = [live_permutation(m, rng) for m in obs["observer_mask"]]
    logits_o, value_o = run(net, permuted(obs, "observers", op))
    torch.testing.assert_close(value_o, value, atol=1e-4, rtol=1e-4)
    after = blocks(logits_o)
    for b, p in enumerate(op):
        for name, width in (("relocate", gl.MAX_SITES), ("focus", gl.MAX_CLUSTERS), ("sampling", 1),
                            ("decommission", 1)):
            old = before[name][b].reshape(gl.MAX_OBSERVERS, width)[p]
            torch.testing.assert_close(after[name][b].reshape(gl.MAX_OBSERVERS, width), old, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(after["deploy"], before["deploy"], atol=1e-4, rtol=1e-4)


def test_worlds_of_different_sizes_in_one_batch_match_each_alone() -> None:
    torch.manual_seed(1)
    net = GraphNet().eval()
    views = [GraphView(World(n, 2, emit_nodes=False).batch) for n in ("tutorial", "regional", "global")]
    together, _ = run(net, {k: np.concatenate([v.obs[k] for v in views]) for k in views[0].obs})
    for b, v in enumerate(views):
        alone, _ = run(net, v.obs)
        mask = torch.as_tensor(v.mask[0])
        torch.testing.assert_close(together[b][mask], alone[0][mask], atol=1e-4, rtol=1e-4)


def test_saved_policy_loads_offline_in_a_fresh_process_and_proposes_valid_moves(tmp_path: Path) -> None:
    from scythe_desktop.engine.policies.graph import save_policy

    torch.manual_seed(2)
    policy = GraphActorCriticPolicy(gl.observation_space(), gl.action_space(), lambda _: 1e-3)
    path = save_policy(policy, tmp_path / "graph.pt", {"note": "untrained, for the test"})
    code = (
        "import json, sys\n"
        "from scythe_desktop.engine.policies import make_policy\n"
        "from scythe_desktop.engine.scenario import load_scenario\n"
        "from scythe_desktop.engine.world import World\n"
        f"p = make_policy('graph', path={str(path)!r})\n"
        "w = World('regional', 3, emit_nodes=False); p.reset(w, 3)\n"
        "moves = []\n"
        "for _ in range(5):\n"
        "    props = p.propose(w, 4)\n"
        "    moves += [w.validate(q.action) for q in props]\n"
        "    w.step(tuple(p.decide(w)))\n"
        "fits = [p.trained_for(load_scenario(n)) for n in ('tutorial', 'regional', 'global')]\n"
        "print(json.dumps({'moves': moves, 'fits': fits}))\n"
    )
    closed = "http://127.0.0.1:9"
    env = {"PATH": "/usr/bin:/bin", "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed, "NO_PROXY": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=env,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["moves"] and all(reason is None for reason in out["moves"])
    assert out["fits"] == [True, True, True]


@pytest.mark.slow
def test_tiny_maskable_ppo_run_on_the_graph_env() -> None:
    from sb3_contrib import MaskablePPO

    from scythe_desktop.engine.rl.graph_env import GraphVecEnv

    env = GraphVecEnv(4, ["tutorial", "regional"], episode_ticks=32, seed=0)
    model = MaskablePPO(GraphActorCriticPolicy, env, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    start = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(1024)  # 1k steps: end to end on 2 shared cores; the lead trains at scale
    assert model.num_timesteps >= 1024
    assert any(not torch.equal(v, start[k]) for k, v in model.policy.state_dict().items())
    assert env.action_masks().shape == (4, gl.N_ACTIONS)
    env.close()


@pytest.mark.slow
def test_behaviour_cloning_on_greedy_reward_lowers_the_cross_entropy() -> None:
    from scythe_desktop.engine.rl.graph_imitation import collect, cross_entropy
    from scythe_desktop.engine.rl.imitation import pretrain

    demos = collect(["tutorial", "regional"], [0], episode_ticks=30)
    assert len(demos) == 60 and (demos.actions > 0).sum() >= 5  # the teacher acts, not only waits
    torch.manual_seed(0)
    policy = GraphActorCriticPolicy(gl.observation_space(), gl.action_space(), lambda _: 1e-3)
    before = cross_entropy(policy, demos)
    stats = pretrain(policy, demos, epochs=15, batch_size=32, learning_rate=3e-3)
    after = cross_entropy(policy, demos)
    assert after < 0.5 * before
    assert stats["accuracy"] > 0.5
