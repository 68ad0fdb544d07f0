"""The evader in the engine: the ``[adversary]`` table, moves under the stealth budget, the scripted evaders
in small set-up worlds, decoys that pay the defender nothing, the engine's tally of activations caught and
evaded, saves, batch independence, and the PettingZoo environment (whose evader never sees the belief)."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.batch.actions import ActionBatch
from scythe_desktop.engine.batch.dynamics import Events
from scythe_desktop.engine.batch.evader import (
    ACTIVATE,
    DECOY,
    GO_QUIET,
    SHIFT,
    EvaderMoves,
    EvaderView,
    apply_moves,
    evader_view,
)
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import ACTIVATING, ACTIVE, QUIET
from scythe_desktop.engine.evaders import make_evader
from scythe_desktop.engine.evaders.scripted import ACTIVATE_RESERVE, CALM_EXPOSURE
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.rl.adversary_env import EVADER, OBSERVERS, AdversaryEnv
from scythe_desktop.engine.rl.batch_episodes import BatchReward
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from scythe_desktop.engine.world import World
from scythe_desktop.engine.world_rows import ClusterRows

ADV = load_scenario("adversarial")
assert ADV.adversary is not None


def _with(evader: str, **changes: float) -> Scenario:
    assert ADV.adversary is not None
    return replace(ADV, adversary=replace(ADV.adversary, evader=evader, **changes))


def _quiet_world(evader: str = "random", seed: int = 3, **changes: float) -> World:
    """An adversarial world with every cluster set quiet and nobody watching: a clean start for one rule."""
    w = World(_with(evader, **changes), seed, emit_nodes=False)
    c = w.batch.clusters
    n = int(c.n[0])
    c.state[0, :n] = QUIET
    c.activation_left[0, :n] = -1
    return w


# ------------------------------------------------------------------------------------------ scenario


def test_the_adversarial_scenario_loads_and_the_regional_fingerprint_is_unchanged() -> None:
    assert ADV.adversary.evader == "evade-when-watched" and ADV.adversary.moves_per_tick == 2
    assert load_scenario("regional").adversary is None
    # The shipped policy's card was written for this fingerprint: worlds without [adversary] keep theirs.
    assert load_scenario("regional").fingerprint() == "29d9806a9c757796"
    assert ADV.fingerprint() != load_scenario("regional").fingerprint()
    # Which scripted evader plays is not a rule of the world: a policy fits the same world under any.
    assert _with("decoy").fingerprint() == ADV.fingerprint()


@pytest.mark.parametrize(
    ("line", "key", "words"),
    [
        ('evader = "sneaky"', "adversary.evader", "scripted evaders"),
        ("moves_per_tick = 0", "adversary.moves_per_tick", "[1, 8]"),
        ("stealth_budget = -1.0", "adversary.stealth_budget", "[0, 1e+06]"),
        ('cost_decoy = "cheap"', "adversary.cost_decoy", "finite number"),
    ],
)
def test_a_bad_adversary_key_is_a_scenario_error_naming_it(line: str, key: str, words: str) -> None:
    text = ADV.text.split("[adversary]")[0] + f"[adversary]\n{line}\n"  # every other key takes its default
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "adv.toml")
    assert key in str(err.value) and words in str(err.value) and "adv.toml" in str(err.value)


# ------------------------------------------------------------------------------------- stealth budget


def test_moves_the_stealth_left_cannot_pay_are_refused_and_cost_nothing() -> None:
    w = _quiet_world(stealth_budget=2.5, stealth_regen=0.0, moves_per_tick=4)
    batch = w.batch
    moves = EvaderMoves.none(1, 4)
    moves.kind[0] = [ACTIVATE, ACTIVATE, SHIFT, ACTIVATE]  # costs 1, 1, 3, 1 against 2.5 points
    moves.row[0] = [0, 1, 2, 3]
    applied = apply_moves(batch, moves, batch_events())
    assert applied[0].tolist() == [True, True, False, False]
    assert batch.stealth[0] == pytest.approx(0.5)
    assert batch.clusters.state[0, :4].tolist() == [ACTIVATING, ACTIVATING, QUIET, QUIET]


def test_a_move_that_is_not_possible_is_refused_without_cost() -> None:
    w = _quiet_world(moves_per_tick=3)
    batch = w.batch
    moves = EvaderMoves.none(1, 3)
    moves.kind[0] = [GO_QUIET, ACTIVATE, ACTIVATE]  # quiet an already quiet cluster; rows past n
    moves.row[0] = [0, int(batch.clusters.n[0]), -1]
    before = float(batch.stealth[0])
    assert not apply_moves(batch, moves, batch_events()).any()
    assert batch.stealth[0] == before


def test_moves_on_a_world_without_an_adversary_are_refused_naming_it() -> None:
    batch = WorldBatch(load_scenario("regional"), [1])
    with pytest.raises(ValueError, match="'regional' has no \\[adversary\\]"):
        apply_moves(batch, EvaderMoves.none(1, 1), batch_events())


@pytest.mark.parametrize("evader", ["evade-when-watched", "decoy"])
def test_scripted_evaders_never_overspend_over_a_whole_episode(evader: str) -> None:
    w = World(_with(evader), 11, emit_nodes=False)
    adv = w.scenario.adversary
    spent = 0.0
    for t in range(120):
        if t % 20 == 0:
            c = w.clusters
            w.apply(Deploy(float(c["lon"][t % len(c)]), float(c["lat"][t % len(c)])))
        before = float(w.batch.stealth[0])
        w.step()
        after = float(w.batch.stealth[0])
        assert -1e-9 <= after <= adv.stealth_budget + 1e-9
        spent += max(before + adv.stealth_regen - after, 0.0)
    assert spent <= adv.stealth_budget + 120 * adv.stealth_regen + 1e-6
    assert spent > 0.0  # it did act


def batch_events() -> Events:  # the Events of a tick that records nothing
    return Events(False)


# ------------------------------------------------------------------------------------ scripted rules


def test_evade_when_watched_goes_quiet_under_an_observer_and_activates_where_nobody_looks() -> None:
    w = _quiet_world("evade-when-watched")
    c = w.batch.clusters
    c.state[0, 0] = ACTIVE
    lon, lat = float(c.lon[0, 0]), float(c.lat[0, 0])
    assert w.apply(Deploy(lon, lat, "tap")).ok
    view = evader_view(w.batch)
    moves = make_evader("evade-when-watched", w.scenario.adversary).moves(view)
    assert moves.kind[0, 0] == GO_QUIET and moves.row[0, 0] == 0  # the watched, loud one first
    far = view.own[0] & (view.exposure[0] < CALM_EXPOSURE)
    assert moves.kind[0, 1] == ACTIVATE and far[moves.row[0, 1]]  # then one activation out of sight


def test_evade_when_watched_activates_one_cluster_a_tick_and_only_with_stealth_in_reserve() -> None:
    w = _quiet_world("evade-when-watched", moves_per_tick=4)
    adv = w.scenario.adversary
    view = evader_view(w.batch)
    evader = make_evader("evade-when-watched", adv)
    assert (evader.moves(view).kind[0] == ACTIVATE).sum() == 1  # nobody watches: still one at a time
    w.batch.stealth[0] = ACTIVATE_RESERVE * adv.stealth_budget - 0.01
    assert not (evader.moves(evader_view(w.batch)).kind[0] == ACTIVATE).any()


def test_evade_when_watched_shifts_a_watched_quiet_cluster_away_from_the_observer() -> None:
    w = _quiet_world("evade-when-watched")
    c = w.batch.clusters
    lon, lat = float(c.lon[0, 0]) + 0.5, float(c.lat[0, 0])
    assert w.apply(Deploy(lon, lat, "tap")).ok
    before = great_circle_km(lon, lat, c.lon[0, 0], c.lat[0, 0])
    asn = int(c.asn[0, 0])
    w.step()
    assert c.asn[0, 0] != asn  # re-homed to another AS
    after = great_circle_km(lon, lat, c.lon[0, 0], c.lat[0, 0])
    assert after > before + 0.5 * w.scenario.adversary.shift_km


def test_the_decoy_evader_keeps_three_decoys_that_pay_the_defender_nothing() -> None:
    w = World(_with("decoy"), 5, emit_nodes=False)
    for _ in range(12):
        w.step()
    decoys = w.decoys()
    assert decoys.sum() == 3
    table = w.clusters
    assert len(table) == len(decoys)  # the defender sees decoys as clusters, never which they are
    assert "decoy" not in (table.dtype.names or ())
    assert (table["node_count"][decoys] == w.scenario.adversary.decoy_nodes).all()
    # Detecting only decoys earns no detection and no early-activation reward; one real cluster does.
    batch = w.batch
    reward = BatchReward(w.scenario, RewardWeights())
    before = reward.before(batch)
    step = batch.step()
    c = batch.clusters
    decoy = c.decoy[0] & c.valid()[0]
    assert decoy.any()
    c.state[0, decoy] = ACTIVATING
    c.detected[0] = decoy
    c.ever_detected[0] = False
    c.credited[0] = False
    parts = reward.components(batch, before, step, acted=np.array([False]))
    assert parts["detection"][0] == 0.0 and parts["early_activation"][0] == 0.0
    real = int(np.flatnonzero(c.valid()[0] & ~c.decoy[0])[0])
    c.detected[0, real] = True
    c.ever_detected[0] = False
    assert reward.components(batch, before, step, acted=np.array([False]))["detection"][0] > 0.0


# ----------------------------------------------------------------------------------- tally and saves


def test_activations_nobody_sees_are_evaded_and_seen_ones_caught() -> None:
    unseen = World(_with("random"), 8, emit_nodes=False)
    totals = np.zeros(2)
    for _ in range(200):
        info = unseen.step().info
        totals += (info["activations_caught"], info["activations_evaded"])
    assert totals[0] == 0 and totals[1] > 0  # no observer: every completed activation was evaded
    assert info["activations_evaded_total"] == totals[1] and info["activations_caught_total"] == 0
    watched = World(_with("random"), 8, emit_nodes=False)
    c = watched.clusters
    for lon, lat in zip(c["lon"][:24], c["lat"][:24], strict=False):
        watched.apply(Deploy(float(lon), float(lat), "satellite"))
    caught = sum(watched.step().info["activations_caught"] for _ in range(200))
    assert caught > 0


def test_an_adversarial_world_continues_bit_identically_after_a_save() -> None:
    w = World(_with("decoy"), 21, emit_nodes=False)
    w.apply(Deploy(10.0, 50.0, "satellite"))
    for _ in range(30):
        w.step()
    twin = World.from_bytes(w.to_bytes())
    assert twin.batch.stealth[0] == w.batch.stealth[0] and (twin.decoys() == w.decoys()).all()
    for _ in range(60):
        a, b = w.step(), twin.step()
        assert a.entropy_total == b.entropy_total and a.info == b.info
    assert w.clusters.tobytes() == twin.clusters.tobytes()


def test_a_world_saved_before_the_evader_existed_still_opens() -> None:
    w = World("regional", 4, emit_nodes=False)
    for _ in range(5):
        w.step()
    z = np.load(io.BytesIO(w.to_bytes()), allow_pickle=False)
    new = ("c_decoy", "c_seen_activating", "b_stealth", "b_caught_total", "b_evaded_total")
    old = {k: z[k] for k in z.files if k not in new}
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **old)
    twin = World.from_bytes(buf.getvalue())
    assert twin.clusters.tobytes() == w.clusters.tobytes()
    assert twin.step().entropy_total == w.step().entropy_total
    broken = {k: v for k, v in old.items() if k != "c_state"}
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **broken)
    with pytest.raises(ValueError, match="not a saved world: no c_state"):
        World.from_bytes(buf.getvalue())


def test_an_adversarial_world_runs_the_same_alone_and_in_slot_3_of_8() -> None:
    scenario = _with("evade-when-watched")
    alone = World(scenario, 77, emit_nodes=False)
    seeds = np.arange(100, 108)
    seeds[3] = 77
    batch = WorldBatch(scenario, seeds)
    for t in range(80):
        joint = ActionBatch.noop(8)
        if t % 10 == 0:  # observers arrive, so the evader hides, shifts and activates
            c = alone.clusters
            reason, single = alone._check(Deploy(float(c["lon"][t // 10]), float(c["lat"][t // 10]), "probe"))
            assert reason is None and single is not None
            for name in ("kind", "slot", "lon", "lat", "type", "cluster"):
                getattr(joint, name)[3] = getattr(single, name)[0]
            assert alone.apply(Deploy(float(c["lon"][t // 10]), float(c["lat"][t // 10]), "probe")).ok
        alone.step()
        batch.step(joint)
    # Live rows only: padding past a world's rows is inert and may differ with the batch's widest world.
    assert ClusterRows.of(batch, 3).table().tobytes() == alone.clusters.tobytes()
    assert batch.stealth[3] == alone.batch.stealth[0]
    assert (batch.clusters.decoy[3] == alone.batch.clusters.decoy[0]).all()


# ------------------------------------------------------------------------------------- the PettingZoo env


def test_the_adversary_env_passes_the_pettingzoo_parallel_api_test() -> None:
    parallel_api_test(AdversaryEnv(episode_ticks=25), num_cycles=30)


def test_the_evader_never_sees_the_belief() -> None:
    view_fields = set(EvaderView.__dataclass_fields__)
    assert not view_fields & {"b", "entropy", "h_state", "mu", "var", "agreement", "detected", "coverage",
                              "majority", "confidence", "ever_detected", "credited", "seen_activating"}
    env = AdversaryEnv(episode_ticks=10)
    obs, _ = env.reset(seed=2)
    assert set(env.observation_space(EVADER).spaces) == {"clusters", "observers", "globals"}
    # Scramble everything the defender believes: the evader's observation does not move.
    c = env.defender.world.batch.clusters
    for name in ("b", "entropy", "mu", "var", "agreement", "detected", "coverage", "confidence"):
        col = getattr(c, name)
        col[...] = np.random.default_rng(0).random(col.shape).astype(col.dtype)
    again = env._evader_observe({})
    for k in obs[EVADER]:
        assert np.array_equal(again[k], obs[EVADER][k])


def test_a_masked_evader_choice_is_not_applied_and_is_counted() -> None:
    env = AdversaryEnv(episode_ticks=10)
    _, infos = env.reset(seed=4)
    mask = infos[EVADER]["action_mask"].reshape(env.layout.adv.moves_per_tick, env.layout.choices)
    bad = int(np.flatnonzero(~mask[0])[0])
    stealth = float(env.defender.world.batch.stealth[0])
    _, _, _, _, infos = env.step({OBSERVERS: 0, EVADER: [bad, 0]})
    assert infos[EVADER]["refused"] == 1
    assert env.defender.world.batch.stealth[0] == min(stealth + env.layout.adv.stealth_regen,
                                                      env.layout.adv.stealth_budget)


def test_the_evader_rewards_activations_completed_unseen() -> None:
    env = AdversaryEnv(episode_ticks=40)
    env.reset(seed=6)
    total = 0.0
    evaded = 0.0
    for _ in range(40):
        _, rewards, _, _, infos = env.step({OBSERVERS: 0, EVADER: [0, 0]})
        total += rewards[EVADER]
        evaded += infos[EVADER]["activations_evaded"]
    # Nobody observes (the defender only waits): nothing is caught or detected, every point is an evasion.
    assert evaded > 0 and total == pytest.approx(evaded)
    assert not env.agents  # truncated: the episode is over for both


def test_decoding_a_decoy_index_places_it_at_its_cell() -> None:
    env = AdversaryEnv(episode_ticks=5)
    env.reset(seed=1)
    s = env.layout.slots
    index = np.array([[1 + 3 * s + 5, 0]])
    moves = env.layout.decode(index, env._view, env._rows)
    assert moves.kind[0, 0] == DECOY
    assert (moves.lon[0, 0], moves.lat[0, 0]) == tuple(env.layout.cells[5])
