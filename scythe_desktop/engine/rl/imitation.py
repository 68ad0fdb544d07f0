"""Behaviour cloning: a teacher policy's decisions as the prior that PPO fine-tunes from.

PPO from random weights on a 2,993-action layout spends its first million steps deploying everything it may
(300k steps from scratch ended at a seed reward of −1,340 on validation seeds, below every baseline). The
usual remedy in large discrete action spaces (AlphaGo's supervised policy, DQfD, "kickstarting") is to start
from a policy that imitates a strong heuristic and let RL improve on it with the true reward. :func:`collect`
plays a teacher (``greedy-reward`` by default) in :class:`~scythe_desktop.engine.env.ObserverEnv` and records
(observation, mask, teacher's action, discounted return of the env reward); :func:`pretrain` fits the
MaskablePPO policy's action head by masked cross-entropy and its value head to those returns, so that the
first PPO update starts from a sensible policy *and* a sensible critic. A teacher action the layout cannot
express is recorded and played as waiting (rare: the teachers choose among the layout's own cells).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy


@dataclass
class Demonstrations:
    obs: dict[str, NDArray[np.float32]]  # key -> (N, ...)
    masks: NDArray[np.bool_]  # (N, n_actions)
    actions: NDArray[np.int64]  # (N,)
    returns: NDArray[np.float32]  # (N,) discounted return from each step on
    unexpressed: int  # teacher actions the layout could not express (played as waiting)
    episodes: int = 0  # teacher episodes recorded

    def __len__(self) -> int:
        return int(self.actions.size)

    def save(self, path: Path) -> Path:
        """Write the demonstrations as one compressed ``.npz``."""
        arrays: dict[str, Any] = {f"obs_{k}": v for k, v in self.obs.items()}
        np.savez_compressed(
            path,
            masks=self.masks,
            actions=self.actions,
            returns=self.returns,
            unexpressed=np.int64(self.unexpressed),
            episodes=np.int64(self.episodes),
            **arrays,
        )
        return path

    @classmethod
    def load(cls, path: Path) -> Demonstrations:
        with np.load(path) as f:
            missing = {"masks", "actions", "returns"} - set(f.files)
            if missing:
                raise ValueError(f"{path}: not a demonstrations file (missing {sorted(missing)})")
            obs = {k[4:]: f[k] for k in f.files if k.startswith("obs_")}
            unexpressed = int(f["unexpressed"]) if "unexpressed" in f.files else 0
            episodes = int(f["episodes"]) if "episodes" in f.files else 0
            return cls(
                obs,
                f["masks"].astype(bool),
                f["actions"].astype(np.int64),
                f["returns"].astype(np.float32),
                unexpressed,
                episodes,
            )

    @classmethod
    def concat(cls, parts: Sequence[Demonstrations]) -> Demonstrations:
        keys = parts[0].obs
        return cls(
            {k: np.concatenate([p.obs[k] for p in parts]) for k in keys},
            np.concatenate([p.masks for p in parts]),
            np.concatenate([p.actions for p in parts]),
            np.concatenate([p.returns for p in parts]),
            sum(p.unexpressed for p in parts),
            sum(p.episodes for p in parts),
        )


def collect(
    teacher: str,
    seeds: Sequence[int],
    env_kwargs: dict[str, Any],
    gamma: float = 0.99,
    jobs: int = 1,
) -> Demonstrations:
    """One episode of ``teacher`` per seed (env seeds), in ``jobs`` processes; rows in seed order whatever
    ``jobs`` is (each process plays a contiguous run of seeds)."""
    n = max(min(jobs, len(seeds)), 1)
    bounds = [round(i * len(seeds) / n) for i in range(n + 1)]
    chunks = [list(seeds[bounds[i] : bounds[i + 1]]) for i in range(n)]
    if len(chunks) <= 1:
        return _collect(teacher, list(seeds), env_kwargs, gamma)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        parts = list(
            pool.map(_collect, [teacher] * len(chunks), chunks, [env_kwargs] * len(chunks), [gamma] * len(chunks))
        )
    return Demonstrations.concat(parts)


def _collect(teacher: str, seeds: list[int], env_kwargs: dict[str, Any], gamma: float) -> Demonstrations:
    from scythe_desktop.engine.env import ObserverEnv
    from scythe_desktop.engine.policies import make_policy

    env = ObserverEnv(**env_kwargs)
    obs_rows: dict[str, list[NDArray[np.float32]]] = {}
    masks, actions, returns = [], [], []
    unexpressed = 0
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        policy = make_policy(teacher)
        policy.reset(env.world, seed)
        rewards = []
        done = False
        while not done:
            mask = env.action_masks()
            decided = policy.decide(env.world, 1)
            index = env.action_index(decided[0] if decided else None)
            if index is None or not mask[index]:
                unexpressed += 1
                index = 0
            for k, v in obs.items():
                obs_rows.setdefault(k, []).append(v)
            masks.append(mask)
            actions.append(index)
            obs, reward, terminated, truncated, _ = env.step(index)
            rewards.append(reward)
            done = terminated or truncated
        returns.append(discounted(rewards, gamma))
    return Demonstrations(
        {k: np.stack(v) for k, v in obs_rows.items()},
        np.stack(masks),
        np.asarray(actions, dtype=np.int64),
        np.concatenate(returns),
        unexpressed,
        len(seeds),
    )


def discounted(rewards: Sequence[float], gamma: float) -> NDArray[np.float32]:
    """The discounted return from each step of one episode on."""
    g, ret = 0.0, np.zeros(len(rewards), dtype=np.float32)
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        ret[t] = g
    return ret


def pretrain(
    policy: MaskableActorCriticPolicy,
    demos: Demonstrations,
    epochs: int = 10,
    batch_size: int = 512,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Fit ``policy`` to ``demos`` in place: masked cross-entropy on the actions plus the value head's MSE to
    the returns (scaled by their variance, so neither term swamps the other). Returns the final training
    accuracy (share of steps where the policy's most likely action is the teacher's) and losses."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    n = len(demos)
    obs = {k: torch.as_tensor(v) for k, v in demos.obs.items()}
    masks = torch.as_tensor(demos.masks)
    actions = torch.as_tensor(demos.actions)
    returns = torch.as_tensor(demos.returns)
    scale = float(returns.var().clamp_min(1e-6))
    policy.set_training_mode(True)
    ce = vf = 0.0
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        ce_sum = vf_sum = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            batch: Any = {k: v[idx] for k, v in obs.items()}  # SB3 types obs as a Tensor; Dict obs are dicts
            values, log_prob, _ = policy.evaluate_actions(batch, actions[idx], action_masks=masks[idx])
            ce_loss = -log_prob.mean()
            vf_loss = torch.nn.functional.mse_loss(values.flatten(), returns[idx]) / scale
            opt.zero_grad()
            (ce_loss + 0.5 * vf_loss).backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            opt.step()
            ce_sum += float(ce_loss.detach()) * idx.numel()
            vf_sum += float(vf_loss.detach()) * idx.numel()
        ce, vf = ce_sum / n, vf_sum / n
    policy.set_training_mode(False)
    with torch.no_grad():
        hits = 0
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            part: Any = {k: v[sl] for k, v in obs.items()}
            dist: Any = policy.get_distribution(part, action_masks=masks[sl].numpy()).distribution
            hits += int((dist.probs.argmax(dim=1) == actions[sl]).sum())
    return {"accuracy": hits / n, "cross_entropy": ce, "value_loss": vf, "samples": float(n)}


__all__ = ["Demonstrations", "collect", "discounted", "pretrain"]
