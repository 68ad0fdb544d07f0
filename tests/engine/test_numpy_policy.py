"""The numpy backend of the trained networks (engine.policies.numpy_net) computes what torch computes.

On regional worlds played by greedy-reward to several ticks: the same probabilities to 1e-5 and the same
proposals and decisions as the torch backend, for ``ppo`` and ``brain``; the committed ``.npz`` exports are
those of the committed ``.pt`` files; a network the numpy pass does not implement is refused by name; and a
fresh interpreter in which torch cannot be imported plays ``ppo``, ``brain`` and the trained evader to the
same actions as this process does with torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scythe_desktop.engine.backend import BackendUnavailable, resolve_backend
from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.policies.numpy_net import HUGE_NEG, NumpyPolicyNet, export_numpy, numpy_weights_path
from scythe_desktop.engine.policies.ppo import SHIPPED_POLICY, PPOPolicy
from scythe_desktop.engine.world import World

EVADER = SHIPPED_POLICY.parent / "adversarial" / "evader.pt"
PROB_ATOL = 1e-5
#: (seed, ticks of greedy-reward before the comparison): fresh worlds and worlds well into an episode.
STATES = [(1, 0), (1, 25), (2, 10), (2, 60), (3, 40), (4, 120)]


def _played(seed: int, ticks: int) -> World:
    world = World("regional", seed, emit_nodes=False)
    greedy = make_policy("greedy-reward")
    greedy.reset(world, seed)
    for _ in range(ticks):
        world.step(tuple(greedy.decide(world)))
    return world


@pytest.fixture(scope="module")
def worlds() -> list[World]:
    return [_played(seed, ticks) for seed, ticks in STATES]


@pytest.fixture(scope="module")
def ppo() -> dict[str, PPOPolicy]:
    return {b: PPOPolicy(backend=b) for b in ("torch", "numpy")}


def test_auto_is_torch_here_and_the_numpy_backend_reads_the_npz(ppo: dict[str, PPOPolicy]) -> None:
    assert PPOPolicy().backend == "torch" and ppo["numpy"].backend == "numpy"
    assert ppo["numpy"].network.source == str(SHIPPED_POLICY.with_suffix(".npz"))
    assert ppo["numpy"].network.action_space.n == ppo["torch"].network.action_space.n
    assert ppo["numpy"].card == ppo["torch"].card  # the card beside the .pt serves both
    assert PPOPolicy(SHIPPED_POLICY.with_suffix(".npz")).backend == "numpy"


def test_probabilities_and_argmax_agree_on_regional_worlds(worlds: list[World], ppo: dict[str, PPOPolicy]) -> None:
    worst = 0.0
    for world in worlds:
        (pt, _, _), (pn, _, _) = (ppo[b].probabilities(world) for b in ("torch", "numpy"))
        worst = max(worst, float(np.abs(pt - pn).max()))
        assert np.array_equal(pt > 0, pn > 0)  # the same mask
        assert int(np.argmax(pt)) == int(np.argmax(pn))
        assert np.isclose(pn.sum(), 1.0, atol=1e-5)
    assert worst <= PROB_ATOL, worst


def test_proposals_and_decisions_agree(worlds: list[World], ppo: dict[str, PPOPolicy]) -> None:
    for world in worlds:
        props = {b: ppo[b].propose(world, 5) for b in ppo}
        assert [p.action for p in props["torch"]] == [p.action for p in props["numpy"]]
        assert np.allclose([p.confidence for p in props["torch"]], [p.confidence for p in props["numpy"]],
                           atol=PROB_ATOL)
        assert ppo["torch"].decide(world, 3) == ppo["numpy"].decide(world, 3)


def test_the_brain_proposes_the_same_on_either_backend(worlds: list[World]) -> None:
    brains = {b: make_policy("brain", backend=b, samples=2) for b in ("torch", "numpy")}
    assert brains["numpy"].prior.backend == "numpy"  # type: ignore[attr-defined]
    for world in worlds[::2]:
        for brain in brains.values():
            brain.reset(world)
        torch_props, numpy_props = (brains[b].propose(world, 3) for b in ("torch", "numpy"))
        assert [(p.action, p.confidence) for p in torch_props] == [(p.action, p.confidence) for p in numpy_props]


def _arrays(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("meta"))), arrays


@pytest.mark.parametrize("policy", [SHIPPED_POLICY, EVADER], ids=["ppo_regional", "evader"])
def test_the_committed_npz_is_the_export_of_the_committed_pt(policy: Path, tmp_path: Path) -> None:
    """Retraining the .pt without re-exporting (module docstring of numpy_net) fails here."""
    fresh_meta, fresh = _arrays(export_numpy(policy, tmp_path / "fresh.npz"))
    meta, committed = _arrays(numpy_weights_path(policy))
    assert meta == fresh_meta
    assert committed.keys() == fresh.keys()
    for key, value in fresh.items():
        assert committed[key].dtype == np.float32 and np.array_equal(committed[key], value), key
    assert numpy_weights_path(policy).stat().st_size < 8 * 2**20


def _small_policy(tmp_path: Path, activation: Any, action_space: Any) -> Path:
    from gymnasium import spaces
    from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy

    obs = spaces.Dict({
        "box": spaces.Box(-1.0, 1.0, (2, 3), np.float32), "flags": spaces.MultiBinary(4),
        "kind": spaces.Discrete(5), "levels": spaces.MultiDiscrete([3, 2]),
    })
    policy = MaskableMultiInputActorCriticPolicy(obs, action_space, lambda _: 1e-3, net_arch=[16, 8],
                                                 activation_fn=activation)
    path = tmp_path / "small.pt"
    policy.save(str(path))
    return path


def test_a_network_with_every_preprocessing_and_a_multi_discrete_action_agrees(tmp_path: Path) -> None:
    from gymnasium import spaces
    from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy
    from torch import nn

    path = _small_policy(tmp_path, nn.ReLU, spaces.MultiDiscrete([4, 6]))
    torch_net = MaskableMultiInputActorCriticPolicy.load(str(path), device="cpu")
    numpy_net = NumpyPolicyNet.load(export_numpy(path))
    rng = np.random.default_rng(0)
    obs = {key: np.stack([space.sample() for _ in range(7)]) for key, space in torch_net.observation_space.items()}
    masks = rng.random((7, 10)) < 0.6
    masks[:, [0, 4]] = True  # every sub-action keeps one choice
    tensor, _ = torch_net.obs_to_tensor(obs)
    dist = torch_net.get_distribution(tensor, action_masks=masks)
    expected = np.concatenate([d.probs.detach().numpy() for d in dist.distributions], axis=1)
    assert np.abs(numpy_net.masked_probabilities(obs, masks) - expected).max() <= PROB_ATOL
    for batch in (obs, {k: v[0] for k, v in obs.items()}):
        m = masks if batch is obs else masks[0]
        want, _ = torch_net.predict(batch, deterministic=True, action_masks=m)
        got, _ = numpy_net.predict(batch, deterministic=True, action_masks=m)
        assert got.shape == want.shape and np.array_equal(got, want)
    sampled, _ = numpy_net.predict(obs, action_masks=masks, rng=np.random.default_rng(1))
    assert all(masks[i, a] and masks[i, 4 + b] for i, (a, b) in enumerate(sampled))


def test_the_masked_logit_is_sb3_contribs() -> None:
    import torch
    from sb3_contrib.common.maskable.distributions import MaskableCategorical

    dist = MaskableCategorical(logits=torch.zeros(1, 2), masks=np.array([[True, False]]))
    assert float(dist.logits[0, 1] - dist.logits[0, 0]) == float(HUGE_NEG)


def test_a_structure_the_numpy_pass_does_not_implement_is_refused_by_name(tmp_path: Path) -> None:
    from gymnasium import spaces
    from torch import nn

    path = _small_policy(tmp_path, nn.ELU, spaces.Discrete(3))
    with pytest.raises(ValueError, match=r"cannot export .*small\.pt to numpy: layer ELU .* is not supported"):
        export_numpy(path)
    good = export_numpy(_small_policy(tmp_path, nn.Tanh, spaces.Discrete(3)))
    meta, arrays = _arrays(good)
    meta["policy_net"][1] = "gelu"
    np.savez(tmp_path / "odd.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError, match=r"odd\.npz: unsupported \['gelu'\]"):
        NumpyPolicyNet.load(tmp_path / "odd.npz")


def test_missing_numpy_weights_say_how_to_make_them(tmp_path: Path) -> None:
    pt = tmp_path / "policy.pt"
    pt.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"policy\.npz .*python -m scythe_desktop\.engine\.policies\.numpy_net"):
        PPOPolicy(pt, backend="numpy")
    with pytest.raises(ValueError, match="backend must be one of"):
        PPOPolicy(backend="cuda")
    with pytest.raises(ValueError, match="numpy export"):
        PPOPolicy(SHIPPED_POLICY.with_suffix(".npz"), backend="torch")


def test_resolve_backend_follows_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("auto") == "torch"
    monkeypatch.setitem(sys.modules, "torch", None)  # how the torch-less tests hide it
    assert resolve_backend("auto") == "numpy" and resolve_backend("numpy") == "numpy"
    with pytest.raises(BackendUnavailable, match="needs torch"):
        resolve_backend("torch")
    assert PPOPolicy().backend == "numpy"
    # The graph network has no numpy pass: one line saying so, a ValueError as a bad --policy is.
    with pytest.raises(ValueError, match=r"^the graph policy needs torch, .*use the ppo or brain policy\)$"):
        make_policy("graph")


#: What the torch-less interpreter plays; the parent plays the same with torch and compares.
PLAY = """
import json, sys
from pathlib import Path
from scythe_desktop.engine.policies import load_policy, make_policy
from scythe_desktop.engine.rl.evader_model import load_evader
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World

def play(name, seed, ticks, **kwargs):
    world = World("regional", seed, emit_nodes=False)
    policy = make_policy(name, **kwargs)
    policy.reset(world, seed)
    out = []
    for _ in range(ticks):
        offered = [repr(p.action) for p in policy.propose(world, 3)]
        actions = policy.decide(world)
        out.append([repr(actions), offered])
        world.step(tuple(actions))
    return out

def evader(path, seed=5, ticks=12):
    scenario = load_scenario("adversarial")
    world, model, moves = World(scenario, seed, emit_nodes=False), load_evader(Path(path), scenario), []

    class Recorded:  # the trained evader, its moves written down
        name = "trained"
        def moves(self, view):
            m = model.moves(view)
            moves.append([m.kind.tolist(), m.row.tolist(), m.bearing.tolist(), m.lon.tolist(), m.lat.tolist()])
            return m

    world.batch.evader = Recorded()
    greedy = make_policy("greedy")
    greedy.reset(world, seed)
    for _ in range(ticks):
        world.step(tuple(greedy.decide(world)))
    return moves

def everything(evader_path):
    return {"ppo": play("ppo", 7, 8), "brain": play("brain", 8, 3, samples=2), "evader": evader(evader_path),
            "auto": type(load_policy("auto")).__name__}
"""


def test_ppo_brain_and_the_evader_play_the_same_without_torch() -> None:
    namespace: dict[str, Any] = {}
    exec(PLAY, namespace)  # our own code: played here with torch, below without it
    with_torch = namespace["everything"](str(EVADER))
    code = (
        "import sys; sys.modules['torch'] = None\n" + PLAY +
        f"print(json.dumps(everything({str(EVADER)!r})))\n"
        "print(json.dumps([m for m in ('torch', 'stable_baselines3', 'sb3_contrib', 'torch_geometric')"
        " if sys.modules.get(m) is not None]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    played, imported = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert imported == []
    assert played == json.loads(json.dumps(with_torch))
    assert played["auto"] == "BrainPolicy"
