"""The batched engine's figures for ``scythe bench engine`` (keys listed in :func:`run`).

Baselines are measured in the same run: the single ``ObserverEnv`` for the batched env, MaskablePPO over two
``SubprocVecEnv(ObserverEnv)`` workers (same hyperparameters and rollout size) for training, keeping an
observer for the duty-cycle cost. Random valid actions are drawn between steps and not timed: the figure
is the environment's own speed.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from scythe_desktop.engine.actions import Decommission, Deploy
from scythe_desktop.engine.batch.actions import ActionBatch
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World
from scythe_desktop.engine.world_rows import ClusterRows, ObserverRows

BATCH_ENV_STEPS_TARGET = 100_000.0
BATCH_VS_GYM_TARGET = 50.0
TRAIN_STEPS_TARGET = 4_000.0
TRAIN_VS_SUBPROC_TARGET = 25.0
WORLD_TICKS_TARGET = 10_000.0


def _random_valid(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(mask.shape, dtype=np.float32) * mask).argmax(axis=1)


def batch_env_steps_per_s(batch_size: int, steps: int) -> float:
    from scythe_desktop.engine.rl.vec_env import ObserverVecEnv

    env = ObserverVecEnv(batch_size, "regional", seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    for _ in range(3):  # fill the worlds with observers first
        env.step(_random_valid(env.action_masks(), rng))
    spent = 0.0
    for _ in range(steps):
        actions = _random_valid(env.action_masks(), rng)
        t0 = time.perf_counter()
        env.step(actions)
        spent += time.perf_counter() - t0
    return batch_size * steps / spent


def gym_env_steps_per_s(steps: int) -> float:
    from scythe_desktop.engine.env import ObserverEnv

    env = ObserverEnv("regional")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    spent = 0.0
    for _ in range(steps):
        action = int(_random_valid(env.action_masks()[None], rng)[0])
        t0 = time.perf_counter()
        _, _, _, truncated, _ = env.step(action)
        spent += time.perf_counter() - t0
        if truncated:
            env.reset()
    return steps / spent


def train_steps_per_s(backend: str, n_envs: int, timesteps: int, rollout: int) -> float:
    """MaskablePPO end to end (rollouts + updates): env steps per wall second."""
    import torch
    from sb3_contrib import MaskablePPO

    from scythe_desktop.engine.rl.training import TrainConfig, make_vec_env

    cfg = TrainConfig(scenario="regional", n_envs=n_envs, backend=backend, n_steps=rollout // n_envs)
    threads = torch.get_num_threads()
    torch.set_num_threads(threads if backend == "batch" else 1)
    env = make_vec_env(cfg)
    try:
        model = MaskablePPO(
            "MultiInputPolicy", env, n_steps=cfg.n_steps, batch_size=2048, n_epochs=4, seed=0, device="cpu"
        )
        t0 = time.perf_counter()
        model.learn(timesteps)
        return model.num_timesteps / (time.perf_counter() - t0)
    finally:
        env.close()
        torch.set_num_threads(threads)


def slot_max_abs_diff(ticks: int, size: int = 8, slot: int = 3) -> float:
    """Largest |alone − slot| over the cluster, observer and belief tables after ``ticks`` scripted ticks."""
    scenario = load_scenario("regional")
    seeds = np.arange(size) * 101 + 7
    alone = World(scenario, int(seeds[slot]), emit_nodes=False)
    batch = WorldBatch(scenario, seeds)
    rng = np.random.default_rng(1)
    worst = 0.0
    for t in range(ticks):
        joint = ActionBatch.noop(size)
        if t % 5 == 0:
            action = Deploy(float(rng.uniform(-5, 35)), float(rng.uniform(38, 58)))
            reason, single = alone._check(action)
            if reason is None and single is not None:
                for name in ("kind", "slot", "lon", "lat", "type", "cluster"):
                    getattr(joint, name)[slot] = getattr(single, name)[0]
                alone.apply(action)
        alone.step()
        batch.step(joint)
    for mine, theirs in (
        (ClusterRows.of(batch, slot).table(), alone.clusters),
        (ObserverRows.of(batch, slot).table(), alone.observers),
    ):
        if mine.shape != theirs.shape:
            return float("inf")
        for name in mine.dtype.names or ():
            diff = np.abs(np.asarray(mine[name], float) - np.asarray(theirs[name], float))
            worst = max(worst, float(diff.max(initial=0.0)))
    return worst


def duty_cycle_ratio(ticks: int = 100) -> tuple[float, float, float]:
    """(ratio, duty-cycling cost, keeping cost) of a satellite deployed and retired every other tick."""

    def run(duty: bool) -> float:
        world = World("regional", seed=3, emit_nodes=False)
        oid = world.apply(Deploy(10.0, 50.0, "satellite")).observer_id
        for t in range(ticks):
            if duty and oid is not None and t % 2 == 0:
                world.apply(Decommission(oid))
                oid = None
            elif duty and oid is None:
                oid = world.apply(Deploy(10.0, 50.0, "satellite")).observer_id
            world.step()
        return world.spend_total

    keep, duty = run(False), run(True)
    return duty / keep, duty, keep


def run(quick: bool) -> dict[str, Any]:
    warnings.filterwarnings("ignore", message=".*render_mode.*")
    batch_size = 64 if quick else 4096
    batch_rate = batch_env_steps_per_s(batch_size, 2 if quick else 10)
    gym_rate = gym_env_steps_per_s(50 if quick else 1000)
    rollout = 1024 if quick else 16_384
    train_rate = train_steps_per_s("batch", 64 if quick else 1024, rollout if quick else 100_000, rollout)
    small = rollout // 4 if quick else rollout
    subproc_rate = train_steps_per_s("subprocess", 2, small, small)
    ratio, duty, keep = duty_cycle_ratio()
    return {
        "batch_env_steps_per_s": round(batch_rate, 1),
        "batch_env_steps_per_s_target": BATCH_ENV_STEPS_TARGET,
        "batch_size": batch_size,
        "gym_env_steps_per_s": round(gym_rate, 1),
        "batch_vs_gym_env": round(batch_rate / gym_rate, 2),
        "batch_vs_gym_env_target": BATCH_VS_GYM_TARGET,
        "train_steps_per_s": round(train_rate, 1),
        "train_steps_per_s_target": TRAIN_STEPS_TARGET,
        "train_subproc_steps_per_s": round(subproc_rate, 1),
        "train_vs_subproc": round(train_rate / subproc_rate, 2),
        "train_vs_subproc_target": TRAIN_VS_SUBPROC_TARGET,
        "batch_slot_max_abs_diff": slot_max_abs_diff(20 if quick else 200),
        "batch_slot_max_abs_diff_target": 0.0,
        "setup_fee_duty_cycle_ratio": round(ratio, 2),
        "setup_fee_duty_cycle_ratio_target": 1.0,
        "duty_cycle_cost": round(duty, 2),
        "keep_cost": round(keep, 2),
    }


__all__ = ["run"]
