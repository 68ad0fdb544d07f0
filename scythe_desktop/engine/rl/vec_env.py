"""``ObserverVecEnv``: B observer worlds as one native Stable-Baselines3 ``VecEnv`` over the batched engine.

One ``step`` decodes B action indices, refuses any outside its world's mask (that world alone: it counts
as a no-op, costs the ``invalid_action`` component and ``infos[b]["refused"]`` names the slot and the
action), steps every world in array operations and computes the reward components of
:mod:`scythe_desktop.engine.rl.reward` for all of them
(:class:`~scythe_desktop.engine.rl.batch_episodes.BatchEpisodes`).
Episodes are truncated after ``episode_ticks`` ticks; a truncated world is reset in the same call with
``infos[b]["terminal_observation"]`` and ``TimeLimit.truncated`` set, as SB3 expects. ``action_masks()``
returns the (B, n_actions) mask that sb3-contrib's MaskablePPO reads (also through
``env_method("action_masks")``).

The worlds are split into ``shards`` contiguous batches (default one per core) stepped in threads: numpy
releases the GIL inside its array loops, and since a world's trajectory does not depend on its batch, the
split changes no number. World seeds come from the env seed by a keyed hash, so the same seed gives the
same episodes whatever the batch size or the shard count. Per-world reward components of the last step are
in :attr:`last_components` (arrays, not B dicts, to keep the hot path free of per-world Python).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS
from scythe_desktop.engine.rl.batch_episodes import BatchEpisodes, StepOut, episode_seeds
from scythe_desktop.engine.rl.layout import EnvLayout
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.spaces import EnvConfig
from scythe_desktop.engine.rl.vec_base import BatchedVecEnv
from scythe_desktop.engine.scenario import Scenario


class ObserverVecEnv(BatchedVecEnv):
    """B ObserverEnv-equivalent worlds in one batched env (see the module docstring)."""

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | Scenario = "regional",
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        config: EnvConfig | None = None,
        reward_weights: RewardWeights | None = None,
        seed: int = 0,
        shards: int | None = None,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        layout = EnvLayout.build(scenario, episode_ticks, config, reward_weights)
        self.layout = layout
        self.scenario, self.config, self.weights = layout.scenario, layout.config, layout.weights
        self.episode_ticks, self.codec = layout.episode_ticks, layout.codec
        self.n_actions, self.block = self.codec.n_actions, self.codec.block
        self.render_mode = None
        super().__init__(num_envs, layout.encoder.space, self.codec.space)
        k = max(1, min(shards or os.cpu_count() or 1, num_envs // 64 or 1))  # small batches: one shard
        self._bounds = np.linspace(0, num_envs, k + 1).astype(int)
        base = np.arange(seed, seed + num_envs, dtype=np.int64)
        self.shards = [
            BatchEpisodes(self.codec, self.weights, episode_ticks, base[lo:hi])
            for lo, hi in zip(self._bounds[:-1], self._bounds[1:], strict=True)
        ]
        self._pool = ThreadPoolExecutor(k, thread_name_prefix="scythe-vecenv") if k > 1 else None
        self._actions: NDArray[np.int64] = np.zeros(num_envs, dtype=np.int64)
        self.last_components: dict[str, NDArray[np.float64]] = {}
        self._gather()

    # ------------------------------------------------------------------------------------- VecEnv API

    def reset(self) -> dict[str, NDArray[np.float32]]:
        for b, s in enumerate(self._seeds):
            if s is not None:
                shard, i = self.locate(b)
                shard.base[i] = int(s)
                shard.episode[i] = 0
        self._reset_seeds()
        self._map(lambda shard, _: shard.reset_worlds(np.arange(shard.size)))
        self._gather()
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self) -> tuple[dict[str, NDArray[np.float32]], NDArray[np.float32], NDArray[np.bool_], list[dict]]:
        idx = self._actions
        bad = (idx < 0) | (idx >= self.n_actions)
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            raise ValueError(f"world slot {b}: action must be in [0, {self.n_actions}), got {int(idx[b])}")
        outs: list[StepOut] = self._map(lambda shard, lo: shard.step(idx[lo : lo + shard.size]))
        self._gather()
        reward = np.concatenate([out.reward for out in outs]).astype(np.float32)
        done = np.concatenate([out.done for out in outs])
        refused = np.concatenate([out.refused for out in outs])
        self.last_components = {k: np.concatenate([out.components[k] for out in outs]) for k in outs[0].components}
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for b in np.flatnonzero(refused).tolist():
            name = self.block(int(idx[b]))[0]
            infos[b]["refused"] = f"world slot {b}: action {int(idx[b])} ({name}) is not valid in this state"
        for lo, out in zip(self._bounds, outs, strict=False):
            for j, i in enumerate(out.ended.tolist()):
                infos[lo + i]["terminal_observation"] = {k: v[j] for k, v in out.terminal.items()}
                infos[lo + i]["TimeLimit.truncated"] = True
        return self._obs, reward, done, infos

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -------------------------------------------------------------------------------------- internals

    def locate(self, b: int) -> tuple[BatchEpisodes, int]:
        """The shard holding env ``b`` and its row there."""
        k = int(np.searchsorted(self._bounds, b, side="right")) - 1
        return self.shards[k], b - int(self._bounds[k])

    def _map(self, fn: Any) -> list[Any]:
        args = list(zip(self.shards, self._bounds[:-1].tolist(), strict=True))
        if self._pool is None:
            return [fn(shard, lo) for shard, lo in args]
        return list(self._pool.map(lambda a: fn(*a), args))

    def _gather(self) -> None:
        if len(self.shards) == 1:
            self._obs, self._mask = self.shards[0].obs, self.shards[0].mask
            return
        self._obs = {k: np.concatenate([s.obs[k] for s in self.shards]) for k in self.shards[0].obs}
        self._mask = np.concatenate([s.mask for s in self.shards])


__all__ = ["ObserverVecEnv", "episode_seeds"]
