"""``scythe train --graph``: one graph policy for any world, behaviour-cloned from a teacher on generated worlds.

The training worlds are the generator's scenarios of one family at generator seeds ``1..scenarios`` (training
draws only seeds below :data:`TRAIN_SEED_LIMIT`; validation and ``scythe bench generalize`` draw above it) plus
the shipped scenarios of :data:`SHIPPED` (``global`` is held out, as the generalization issue asks), one
episode per world seed each. On every world the teacher (``rollout`` by default: the lookahead the brain runs
on worlds its network was not trained on) decides each tick and its decisions are recorded in the graph layout
(:func:`~scythe_desktop.engine.rl.graph_imitation.collect`, in ``jobs`` processes); the graph network is then
fitted to them (:func:`~scythe_desktop.engine.rl.imitation.pretrain`: masked cross-entropy plus the value
head on the seed-reward returns). The policy is judged on generator seeds :data:`VALIDATION_SEEDS` (never
trained on, never reported by the bench) against ``static-grid`` and ``greedy-reward`` with the default reward
weights, and that goes in its card with every number of the run and the command. PPO fine-tuning on
:class:`~scythe_desktop.engine.rl.graph_env.GraphVecEnv` is the next step and not part of this run.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from scythe_desktop.engine.rl.imitation import Demonstrations

#: Generator seeds at or above this are never trained on.
TRAIN_SEED_LIMIT: Final = 100_000
#: Generated scenarios the card's validation uses (the bench's held-out ones are 900000..900019).
VALIDATION_SEEDS: Final = tuple(range(500_000, 500_010))
#: Shipped scenarios trained on besides the generated ones (``global`` is held out).
SHIPPED: Final = ("tutorial", "regional", "adversarial")
POLICY_FILE: Final = "policy.pt"


@dataclass(frozen=True, slots=True)
class GraphTrainConfig:
    out_dir: Path
    family: str = "mixed"
    scenarios: int = 32  # generated training scenarios: generator seeds 1..scenarios
    shipped: tuple[str, ...] = SHIPPED
    world_seeds: tuple[int, ...] = (0,)
    teacher: str = "rollout"
    episode_ticks: int = 200
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    seed: int = 0
    jobs: int = 2
    validation_seeds: tuple[int, ...] = VALIDATION_SEEDS
    validation_world_seeds: tuple[int, ...] = (500,)
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from scythe_desktop.engine.scenario_generator import FAMILIES

        if self.family not in FAMILIES:
            raise ValueError(f"unknown scenario family {self.family!r}; known: {', '.join(sorted(FAMILIES))}")
        if not 0 <= self.scenarios < TRAIN_SEED_LIMIT:
            raise ValueError(f"scenarios must be in 0..{TRAIN_SEED_LIMIT - 1}, got {self.scenarios}")
        for name, value in (("episode_ticks", self.episode_ticks), ("epochs", self.epochs),
                            ("batch_size", self.batch_size), ("jobs", self.jobs)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if not self.world_seeds:
            raise ValueError("world_seeds must not be empty")


def _scenario(spec: tuple[str, int | str]) -> Any:
    """A training world from its picklable spec: ("generated", (family, seed)) or ("shipped", name)."""
    from scythe_desktop.engine.scenario import load_scenario
    from scythe_desktop.engine.scenario_generator import generate_scenario

    kind, what = spec
    if kind == "shipped":
        return load_scenario(str(what))
    family, seed = str(what).split(":")
    return generate_scenario(int(seed), family)


def training_worlds(cfg: GraphTrainConfig) -> list[tuple[str, int | str]]:
    """The specs of every training scenario that fits the graph layout, generated first."""
    from scythe_desktop.engine.rl import graph_layout as gl

    specs: list[tuple[str, int | str]] = [("generated", f"{cfg.family}:{s}") for s in range(1, cfg.scenarios + 1)]
    specs += [("shipped", name) for name in cfg.shipped]
    return [s for s in specs if gl.fits(_scenario(s))]


def _collect(spec: tuple[str, int | str], seeds: tuple[int, ...], teacher: str, ticks: int) -> Demonstrations:
    from scythe_desktop.engine.rl.graph_imitation import collect

    return collect([_scenario(spec)], seeds, teacher, episode_ticks=ticks)


def _one_thread() -> None:
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def collect_all(cfg: GraphTrainConfig, specs: Sequence[tuple[str, int | str]],
                on_world: Callable[[int, int], None] | None = None) -> Demonstrations:
    """The teacher's demonstrations on every world, in the order of ``specs`` whatever ``jobs`` is."""
    one = functools.partial(_collect, seeds=cfg.world_seeds, teacher=cfg.teacher, ticks=cfg.episode_ticks)
    parts: list[Demonstrations] = []
    if cfg.jobs <= 1:
        for spec in specs:
            parts.append(one(spec))
            if on_world is not None:
                on_world(len(parts), len(specs))
    else:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=context, initializer=_one_thread) as pool:
            for part in pool.map(one, specs):
                parts.append(part)
                if on_world is not None:
                    on_world(len(parts), len(specs))
    return Demonstrations.concat(parts)


def validate(policy_path: Path, cfg: GraphTrainConfig) -> dict[str, Any]:
    """The saved policy, static-grid and greedy-reward on the validation scenarios (seed reward, default
    weights): per scenario, and the mean ratio of the graph policy to the better of the two."""
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.comparison import mean_of
    from scythe_desktop.engine.rl.evaluation import evaluate
    from scythe_desktop.engine.scenario_generator import generate_scenario

    rows: dict[str, dict[str, float]] = {}
    ratios = []
    for gen_seed in cfg.validation_seeds:
        scenario = generate_scenario(gen_seed, cfg.family)
        results = evaluate(functools.partial(make_policy, "graph", path=policy_path), scenario,
                           cfg.validation_world_seeds, ticks=cfg.episode_ticks, jobs=1)
        for name in ("static-grid", "greedy-reward"):
            results += evaluate(functools.partial(make_policy, name), scenario, cfg.validation_world_seeds,
                                ticks=cfg.episode_ticks, jobs=1)
        row = {name: round(mean_of(results, name, "seed_reward"), 1) for name in ("graph", "static-grid",
                                                                                   "greedy-reward")}
        best = max(row["static-grid"], row["greedy-reward"])
        if best > 0:
            ratios.append(row["graph"] / best)
        rows[f"{cfg.family}-{gen_seed}"] = row
    return {
        "what": "seed reward (default weights) on generated scenarios never trained on, world seeds "
                f"{list(cfg.validation_world_seeds)}, {cfg.episode_ticks} ticks",
        "scenarios": rows,
        "mean_ratio_vs_better_of_static_grid_and_greedy_reward": round(float(np.mean(ratios)), 3) if ratios else None,
        "ratios_defined": len(ratios),
    }


def train_graph(cfg: GraphTrainConfig, on_world: Callable[[int, int], None] | None = None) -> Path:
    """Collect, clone, save and validate (module docstring); returns the saved ``policy.pt``."""
    import torch

    from scythe_desktop.engine.policies.graph import save_policy
    from scythe_desktop.engine.rl import graph_layout as gl
    from scythe_desktop.engine.rl.graph_net import GraphActorCriticPolicy
    from scythe_desktop.engine.rl.imitation import pretrain

    started = time.perf_counter()
    specs = training_worlds(cfg)
    demos = collect_all(cfg, specs, on_world)
    collected = time.perf_counter()
    torch.manual_seed(cfg.seed)
    policy = GraphActorCriticPolicy(gl.observation_space(), gl.action_space(), lambda _: cfg.learning_rate)
    stats = pretrain(policy, demos, epochs=cfg.epochs, batch_size=cfg.batch_size,
                     learning_rate=cfg.learning_rate, seed=cfg.seed)
    trained = time.perf_counter()
    card: dict[str, Any] = {
        "algorithm": "behaviour cloning of a teacher in the graph layout (no PPO yet)",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "training_command": cfg.command,
        "training_worlds": [w for _, w in specs],
        "teacher": cfg.teacher,
        "demonstrations": len(demos),
        "unexpressed_teacher_actions": demos.unexpressed,
        "fit": stats,
        "seconds": {"collect": round(collected - started, 1), "fit": round(trained - collected, 1)},
        "env_steps": len(demos),
    }
    path = save_policy(policy, cfg.out_dir / POLICY_FILE, card)
    card["validation"] = validate(path, cfg)
    card["seconds"]["validate"] = round(time.perf_counter() - trained, 1)
    return save_policy(policy, path, card)


__all__ = ["POLICY_FILE", "SHIPPED", "TRAIN_SEED_LIMIT", "VALIDATION_SEEDS", "GraphTrainConfig", "collect_all",
           "train_graph", "training_worlds", "validate"]
