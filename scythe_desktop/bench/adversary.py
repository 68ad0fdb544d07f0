"""``scythe bench adversary``: observers against an evader that learned to hide, on held-out seeds.

The networks are the self-play pair shipped in ``resources/policies/adversarial/`` (``defender.pt``,
``evader.pt``, made by ``scythe train --adversarial``); ``--quick`` trains a tiny pair into a temporary
directory instead, so every key is exercised (its figures mean nothing). The *adversarial brain* is the brain
(``--policy auto``'s lookahead) with the self-play defender as its prior; the *regular brain* is the shipped one.
Held-out world seeds 1000..1009 (self-play draws seeds from 0 and 1,000,000 up), 200 ticks, the seed reward with
the default weights. ``detections`` are real clusters detected, summed over ticks (decoys never count):

* ``trained_evader_greedy_detection_ratio``: greedy's detections against the trained evader ÷ against the
  ``random`` evader (the scenario's dynamics alone);
* ``adv_brain_vs_greedy_detections``: the adversarial brain's detections ÷ greedy's, against the trained evader;
* ``adv_brain_vs_best_baseline_reward``: the adversarial brain's seed reward ÷ the best of greedy,
  greedy-reward, static-grid and rollout, against the trained evader;
* ``adv_brain_on_random_worlds_vs_brain``: the adversarial brain ÷ the regular brain on ``regional``;
* ``exploit_drop``: a fresh evader trained for a fixed budget (``EXPLOIT_STEPS``) against the frozen
  self-play defender network (the brain's prior: the lookahead cannot be batched into training) lowers that
  network's detections, relative to the random evader, by this fraction.

Tables go to stderr; stdout is one JSON object.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from scythe_desktop.bench import with_targets
from scythe_desktop.engine.scenario import SCENARIO_DIR

TARGETS = {
    "trained_evader_greedy_detection_ratio": 0.8,
    "adv_brain_vs_greedy_detections": 1.25,
    "adv_brain_vs_best_baseline_reward": 1.15,
    "adv_brain_on_random_worlds_vs_brain": 0.95,
    "exploit_drop": 0.2,
}
SHIPPED_DIR = SCENARIO_DIR.parent / "policies" / "adversarial"
SEEDS = tuple(range(1000, 1010))
BASELINES = ("greedy", "greedy-reward", "static-grid", "rollout")
EXPLOIT_STEPS = 200_000


def _tiny_pair(out: Path) -> Path:
    from scythe_desktop.engine.rl.selfplay import SelfPlayConfig, selfplay

    cfg = SelfPlayConfig(timesteps=2 * 16 * 8 * 2, rounds=1, n_envs=16, n_steps=8, batch_size=64, n_epochs=1,
                         episode_ticks=20, seed=0, out_dir=out)
    return selfplay(cfg).parent


def _exploit(defender: Path, steps: int, ticks: int, seeds: tuple[int, ...]) -> tuple[float, float]:
    """Detections (mean per episode) of the defender network against the random evader and against a fresh
    evader trained ``steps`` env steps against it."""
    import numpy as np
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    from scythe_desktop.engine.rl.adversary_vec import EvaderVecEnv, ModelDefender

    network = MaskableActorCriticPolicy.load(str(defender), device="cpu")
    n_envs = min(128, max(8, steps // 64))
    env = EvaderVecEnv(n_envs, ModelDefender(network), episode_ticks=ticks, seed=7_000_000)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=max(8, min(64, steps // n_envs)), batch_size=256,
                        n_epochs=3, learning_rate=3e-4, ent_coef=0.01, seed=7, device="cpu", verbose=0)
    model.learn(steps)

    def detections(play: bool) -> float:
        check = EvaderVecEnv(len(seeds), ModelDefender(network, deterministic=True), episode_ticks=ticks,
                             seed=seeds[0])
        obs: Any = check.reset()
        total = 0.0
        m = check.layout.adv.moves_per_tick
        for _ in range(ticks):
            if play:
                action, _ = model.predict(obs, deterministic=True, action_masks=check.action_masks())
            else:
                action = np.zeros((len(seeds), m), dtype=np.int64)
            obs, _, _, _ = check.step(action)
            c = check.shard.batch.clusters
            total += float(np.count_nonzero(c.detected & ~c.decoy & c.valid()))
        return total / len(seeds)

    return detections(False), detections(True)


def run(quick: bool = False) -> dict[str, object]:
    from scythe_desktop.engine.evaders import with_evader
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.comparison import mean_of
    from scythe_desktop.engine.rl.evaluation import evaluate, format_table, summarise
    from scythe_desktop.engine.scenario import load_scenario

    seeds = SEEDS[:2] if quick else SEEDS
    ticks = 20 if quick else 200
    with tempfile.TemporaryDirectory(prefix="scythe-bench-adversary-") as tmp:
        pair = _tiny_pair(Path(tmp)) if quick else SHIPPED_DIR
        defender, evader = pair / "defender.pt", pair / "evader.pt"
        if not defender.is_file() or not evader.is_file():
            raise SystemExit(f"scythe bench adversary: no self-play pair in {pair}; train one with "
                             "`scythe train --adversarial --init-from resources/policies/ppo_regional.pt --out DIR`")
        adversarial = with_evader(load_scenario("adversarial"), "random")
        regional = load_scenario("regional")
        run_ = functools.partial(evaluate, jobs=1 if quick else 2)
        adv_brain = functools.partial(make_policy, "brain", path=defender)
        vs_trained = run_(adv_brain, adversarial, seeds, 1, ticks, evader_model=evader)
        for name in BASELINES:
            vs_trained += run_(functools.partial(make_policy, name), adversarial, seeds, 1, ticks, evader_model=evader)
        vs_random = run_(functools.partial(make_policy, "greedy"), adversarial, seeds, 1, ticks)
        ordinary = [replace(r, policy="adversarial brain") for r in run_(adv_brain, regional, seeds, 1, ticks)]
        ordinary += run_(functools.partial(make_policy, "brain"), regional, seeds, 1, ticks)
        base, exploited = _exploit(defender, 512 if quick else EXPLOIT_STEPS, ticks, seeds)
    print(f"adversarial against the trained evader, seeds {seeds[0]}..{seeds[-1]}, {ticks} ticks", file=sys.stderr)
    print(format_table(summarise(vs_trained)), file=sys.stderr)
    adv_on_regional = mean_of(ordinary, "adversarial brain", "seed_reward")
    brain_on_regional = mean_of(ordinary, "brain", "seed_reward")
    best = max(BASELINES, key=lambda n: mean_of(vs_trained, n, "seed_reward"))
    best_reward = mean_of(vs_trained, best, "seed_reward")
    brain_reward = mean_of(vs_trained, "brain", "seed_reward")
    figures: dict[str, Any] = {
        "trained_evader_greedy_detection_ratio": mean_of(vs_trained, "greedy", "detections")
        / mean_of(vs_random, "greedy", "detections"),
        "adv_brain_vs_greedy_detections": mean_of(vs_trained, "brain", "detections")
        / mean_of(vs_trained, "greedy", "detections"),
        "adv_brain_vs_best_baseline_reward": brain_reward / best_reward if best_reward > 0 else float("nan"),
        "adv_brain_on_random_worlds_vs_brain": adv_on_regional / brain_on_regional
        if brain_on_regional > 0 else float("nan"),
        "exploit_drop": 1.0 - exploited / base if base > 0 else float("nan"),
        "best_baseline": best,
        "adv_brain_reward": brain_reward,
        "best_baseline_reward": best_reward,
        "activations_evaded": {n: mean_of(vs_trained, n, "activations_evaded") for n in ("brain", *BASELINES)},
        "early_activations": {n: mean_of(vs_trained, n, "early_activations") for n in ("brain", *BASELINES)},
        "exploit_detections": [base, exploited],
        "seeds": f"{seeds[0]}..{seeds[-1]}",
        "quick": quick,
    }
    return with_targets(figures, TARGETS)


__all__ = ["BASELINES", "EXPLOIT_STEPS", "SEEDS", "SHIPPED_DIR", "TARGETS", "run"]
