"""Reward-aware baselines and the brain: greedy-reward offers only moves worth their cost, the layout maps
actions back to indices, behaviour cloning learns a teacher, and the brain never offers a losing move."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scythe_desktop.engine.actions import Decommission, Deploy
from scythe_desktop.engine.env import ObserverEnv
from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.policies.greedy_reward import GreedyRewardPolicy, entropy_floor
from scythe_desktop.engine.rl.evaluation import run_episode
from scythe_desktop.engine.rl.imitation import Demonstrations, collect, pretrain
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World


def test_greedy_reward_proposes_valid_moves_with_positive_net_value_and_respects_the_budget() -> None:
    world = World("regional", 11, emit_nodes=False)
    policy = GreedyRewardPolicy()
    policy.reset(world)
    for _ in range(12):
        for p in policy.propose(world, limit=3):
            assert world.validate(p.action) is None, p
        _, picks = policy.plan(world, policy_view(world), 3)
        assert all(net > 0.0 for _, net in picks)
        world.step(policy.decide(world, 1))
        assert world.budget_used_per_hour <= world.scenario.constraints.budget_per_hour + 1e-9


def policy_view(world: World):  # type: ignore[no-untyped-def]
    from scythe_desktop.engine.rl.spaces import WorldView

    return WorldView.of(world)


def test_the_entropy_floor_is_below_every_cluster_entropy_and_positive() -> None:
    world = World("regional", 2, emit_nodes=False)
    floor = entropy_floor(world)
    assert floor.shape == (len(world.clusters),)
    assert np.all(floor > 0.0) and np.all(floor < world.clusters["entropy"])


def test_greedy_reward_beats_greedy_on_the_seed_reward_by_not_paying_for_redundancy() -> None:
    scenario = load_scenario("regional")
    mine = run_episode(make_policy("greedy-reward"), scenario, 501, 60)
    theirs = run_episode(make_policy("greedy"), scenario, 501, 60)
    assert mine.seed_reward > theirs.seed_reward
    assert mine.reward_components["redundancy"] > theirs.reward_components["redundancy"]


def test_an_observer_is_not_retired_or_moved_inside_its_minimum_billing_period() -> None:
    world = World("regional", 5, emit_nodes=False)
    policy = GreedyRewardPolicy()
    policy.reset(world)
    lon, lat = _first_cell(policy, world)
    world.step([Deploy(lon, lat, "probe")])
    oid = int(world.observers["id"][0])
    dwell = policy._dwell_ticks(world, int(world.observers["type"][0]))
    for _ in range(dwell - 2):
        actions = [p.action for p in policy.propose(world, limit=10)]
        assert Decommission(oid) not in actions
        assert not any(getattr(a, "observer_id", None) == oid and type(a).__name__ == "Relocate" for a in actions)
        world.step()


def _first_cell(policy: GreedyRewardPolicy, world: World) -> tuple[float, float]:
    codec = policy._candidates._codec
    assert codec is not None
    t = world.scenario.observer_type_index("probe")
    c = int(np.flatnonzero(codec.placement_ok[t])[0])
    return float(codec.cells[c, 0]), float(codec.cells[c, 1])


def test_the_layout_maps_every_valid_action_back_to_its_index() -> None:
    env = ObserverEnv("regional")
    env.reset(seed=3)
    for index in (0, 5, 70):  # wait, deploys
        env.step(index)
    mask = env.action_masks()
    view, slots = env._view, env._slots
    assert view is not None
    for index in np.flatnonzero(mask)[::7]:
        action = env.codec.decode(int(index), view, slots)
        assert env.codec.index(action, view, slots) == index or action is None


def test_behaviour_cloning_fits_a_teacher_and_the_demonstrations_round_trip(tmp_path: Path) -> None:
    from sb3_contrib import MaskablePPO

    demos = collect("greedy-reward", [0, 1], {"scenario": "tutorial", "episode_ticks": 25})
    assert len(demos) == 50 and demos.masks[np.arange(50), demos.actions].all()
    back = Demonstrations.load(demos.save(tmp_path / "d.npz"))
    assert np.array_equal(back.actions, demos.actions) and back.obs.keys() == demos.obs.keys()
    env = ObserverEnv("tutorial", episode_ticks=25)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=32, batch_size=32, seed=0, device="cpu")
    before = pretrain(model.policy, demos, epochs=1, seed=0)
    after = pretrain(model.policy, demos, epochs=200, seed=0)
    assert after["cross_entropy"] < 0.5 * before["cross_entropy"]
    assert after["accuracy"] > before["accuracy"] and after["value_loss"] < before["value_loss"]


@pytest.mark.parametrize("seed", [4])
def test_the_brain_offers_only_moves_expected_to_beat_waiting(seed: int) -> None:
    world = World("regional", seed, emit_nodes=False)
    brain = make_policy("brain", horizon=8, samples=3)
    brain.reset(world)
    state = world.to_bytes()
    options, gain, _ = brain.score(world)  # type: ignore[attr-defined]
    proposals = brain.propose(world, limit=5)
    assert world.to_bytes() == state
    offered = {p.action for p in proposals}
    for p, g in zip(options, gain, strict=True):
        assert (p.action in offered) == (g > 0.0) or len(offered) == 5
    for p in proposals:
        assert world.validate(p.action) is None and 0.0 <= p.confidence <= 1.0


def test_the_brain_asks_the_network_only_on_the_rules_it_was_trained_on() -> None:
    regional = load_scenario("regional")
    renamed = replace(regional, name="my-copy", description="the same rules under another name")
    edited = replace(regional, constraints=replace(regional.constraints, budget_per_hour=45.0))
    assert renamed.fingerprint() == regional.fingerprint() != edited.fingerprint()
    brain = make_policy("brain", horizon=4, samples=2)
    for scenario, network in ((regional, True), (renamed, True), (edited, False), (load_scenario("tutorial"), False)):
        world = World(scenario, 4, emit_nodes=False)
        brain.reset(world)  # a layout the network cannot express must not raise
        sources = {p.policy for p in brain.candidates(world)}  # type: ignore[attr-defined]
        assert ("ppo" in sources) == network, scenario.name
        assert sources <= {"ppo", "greedy-reward"} and sources


def test_init_from_copies_a_saved_network_and_refuses_another_shape(tmp_path: Path) -> None:
    import torch
    from sb3_contrib import MaskablePPO

    from scythe_desktop.engine.rl.training import _load_weights

    env = ObserverEnv("tutorial", episode_ticks=10)
    a = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, seed=1, device="cpu")
    b = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, seed=2, device="cpu")
    a.policy.save(str(tmp_path / "a.pt"))
    _load_weights(b.policy, tmp_path / "a.pt")
    for (name, x), y in zip(a.policy.state_dict().items(), b.policy.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
    narrow = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, device="cpu",
                         policy_kwargs={"net_arch": [32]})
    with pytest.raises(ValueError, match="--init-from"):
        _load_weights(narrow.policy, tmp_path / "a.pt")
