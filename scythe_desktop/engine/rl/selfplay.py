"""Self-play on an adversarial world: the observers' policy and the evader's, each trained with MaskablePPO
against a pool of frozen past opponents (``scythe train --adversarial``).

A run is ``rounds`` rounds of two phases on the batched engine. In the evader's phase the evader learns in
an :class:`~scythe_desktop.engine.rl.adversary_vec.EvaderVecEnv` against one defender drawn from the
defender pool; in the defender's phase the observers learn in an ``ObserverVecEnv`` whose every shard plays
one evader drawn from the evader pool — the scripted evaders (``random``, ``evade-when-watched``,
``decoy``) always among them, so the defender keeps meeting ordinary worlds. After each phase a frozen copy
of the learner joins its pool (the oldest learned copy leaves once the pool is full). Opponents are drawn
with the run's seeded generator; the card lists every phase's opponent, steps and seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS
from scythe_desktop.engine.evaders import make_evader
from scythe_desktop.engine.rl.spaces import EnvConfig
from scythe_desktop.engine.scenario import load_scenario

SCRIPTED_OPPONENTS = ("random", "evade-when-watched", "decoy")
DEFENDER_FILE = "defender.pt"
EVADER_FILE = "evader.pt"


@dataclass(frozen=True)
class SelfPlayConfig:
    scenario: str = "adversarial"
    timesteps: int = 400_000  # env steps over both sides and every round
    rounds: int = 4
    n_envs: int = 128
    n_steps: int = 64
    batch_size: int = 2048
    n_epochs: int = 3
    defender_lr: float = 1e-4
    defender_ent_coef: float = 0.001
    evader_lr: float = 3e-4
    evader_ent_coef: float = 0.01
    pool_size: int = 4  # learned copies kept per side
    seed: int = 0
    episode_ticks: int = DEFAULT_EPISODE_TICKS
    init_defender: Path | None = None  # a policy.pt of the observers' layout (e.g. the shipped one)
    out_dir: Path = Path("runs/selfplay")
    command: str = ""

    def __post_init__(self) -> None:
        for name in ("timesteps", "rounds", "n_envs", "n_steps", "batch_size", "n_epochs", "pool_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if load_scenario(self.scenario).adversary is None:
            raise ValueError(f"scenario {self.scenario!r} has no [adversary] table: self-play needs an evader")

    @property
    def steps_per_phase(self) -> int:
        return max(self.timesteps // (2 * self.rounds), self.n_envs * self.n_steps)


def _frozen(policy: Any) -> Any:
    """A copy of an SB3 policy that later updates of the learner do not touch."""
    twin = type(policy)(**policy._get_constructor_parameters())
    twin.load_state_dict(policy.state_dict())
    twin.set_training_mode(False)
    return twin


def selfplay(cfg: SelfPlayConfig, on_phase: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Run the rounds; returns the defender's card (``out_dir/defender.json``). Each network's card sits beside
    it (``defender.json``, ``evader.json``: the loaders' convention), the same run described in both."""
    import torch
    from sb3_contrib import MaskablePPO

    from scythe_desktop.engine.rl.adversary_vec import EvaderVecEnv, ModelDefender, ModelEvader
    from scythe_desktop.engine.rl.training import _load_weights, library_versions
    from scythe_desktop.engine.rl.vec_env import ObserverVecEnv

    torch.set_num_threads(os.cpu_count() or 1)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    defender_env = ObserverVecEnv(cfg.n_envs, cfg.scenario, cfg.episode_ticks, seed=cfg.seed)
    evader_env = EvaderVecEnv(cfg.n_envs, None, cfg.scenario, cfg.episode_ticks, seed=cfg.seed + 1_000_000)
    common: dict[str, Any] = {"n_steps": cfg.n_steps, "batch_size": cfg.batch_size, "n_epochs": cfg.n_epochs,
                              "device": "cpu", "verbose": 0, "policy_kwargs": {"net_arch": [256, 256]}}
    defender = MaskablePPO("MultiInputPolicy", defender_env, learning_rate=cfg.defender_lr,
                           ent_coef=cfg.defender_ent_coef, seed=cfg.seed, **common)
    if cfg.init_defender is not None:
        _load_weights(defender.policy, cfg.init_defender)
    evader = MaskablePPO("MultiInputPolicy", evader_env, learning_rate=cfg.evader_lr, ent_coef=cfg.evader_ent_coef,
                         seed=cfg.seed + 1, **common)
    defenders: list[Any] = [_frozen(defender.policy)]
    evaders: list[Any] = []
    phases: list[dict[str, Any]] = []
    adv = defender_env.scenario.adversary
    assert adv is not None
    try:
        for r in range(cfg.rounds):
            k = int(rng.integers(len(defenders)))
            evader_env.defender = ModelDefender(defenders[k])
            evader.learn(cfg.steps_per_phase, reset_num_timesteps=False)
            evaders = [*evaders, _frozen(evader.policy)][-cfg.pool_size :]
            phases.append({"round": r, "learner": "evader", "opponent": f"defender#{k}",
                           "steps": int(evader.num_timesteps)})
            if on_phase:
                on_phase(phases[-1])
            pool: list[Any] = [*SCRIPTED_OPPONENTS, *evaders]
            names = []
            for shard in defender_env.shards:
                j = int(rng.integers(len(pool)))
                pick = pool[j]
                if isinstance(pick, str):
                    shard.batch.evader = make_evader(pick, adv)
                    names.append(pick)
                else:
                    shard.batch.evader = ModelEvader(evader_env.layout, pick, cfg.episode_ticks,
                                                     deterministic=False)
                    names.append(f"evader#{j - len(SCRIPTED_OPPONENTS)}")
            defender.learn(cfg.steps_per_phase, reset_num_timesteps=False)
            defenders = [*defenders, _frozen(defender.policy)][-cfg.pool_size :]
            phases.append({"round": r, "learner": "defender", "opponent": names,
                           "steps": int(defender.num_timesteps)})
            if on_phase:
                on_phase(phases[-1])
    finally:
        defender_env.close()
        evader_env.close()
    defender.policy.save(str(out / DEFENDER_FILE))
    evader.policy.save(str(out / EVADER_FILE))
    card = {
        "scenario": cfg.scenario,
        "scenario_fingerprint": load_scenario(cfg.scenario).fingerprint(),
        # It also met the world without an evader (the ``random`` opponent), so it fits those rules too.
        "scenario_fingerprints": [load_scenario(cfg.scenario).fingerprint(),
                                  replace(load_scenario(cfg.scenario), adversary=None).fingerprint()],
        "algorithm": "sb3_contrib.MaskablePPO self-play (defender: MultiInputPolicy [256, 256] on the observers' "
                     "layout; evader: MultiInputPolicy [256, 256], MultiDiscrete moves), pools of frozen opponents",
        "defender_timesteps": int(defender.num_timesteps),
        "evader_timesteps": int(evader.num_timesteps),
        "seed": cfg.seed,
        "phases": phases,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "training_commands": [cfg.command] if cfg.command else [],
        "library_versions": library_versions(),
        "episode_ticks": cfg.episode_ticks,
        "env_config": asdict(EnvConfig()),
    }
    text = json.dumps(card, indent=2) + "\n"
    for name in (DEFENDER_FILE, EVADER_FILE):
        (out / name).with_suffix(".json").write_text(text)
    return (out / DEFENDER_FILE).with_suffix(".json")


__all__ = ["DEFENDER_FILE", "EVADER_FILE", "SCRIPTED_OPPONENTS", "SelfPlayConfig", "selfplay"]
