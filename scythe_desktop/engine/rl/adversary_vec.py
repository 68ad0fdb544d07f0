"""Both sides of an adversarial world on the batched engine, for training and evaluation.

- :class:`ModelEvader` plays the evader from a trained network (any :class:`~scythe_desktop.engine.evaders.
  Evader` slot: a ``WorldBatch.evader``, hence also the opponent the defender trains against in an
  ``ObserverVecEnv``); it lives in :mod:`.evader_model`, which needs no torch, and is re-exported here.
- :class:`EvaderVecEnv` is a native SB3 ``VecEnv`` of B worlds in which SB3 plays the evader and a frozen
  defender (:class:`ModelDefender`, or :class:`WaitingDefender`) plays the observers: one array step of the
  engine per call, the evader's reward (:func:`~scythe_desktop.engine.rl.evader_spaces.evader_reward`) for
  every world, auto-reset with the terminal observation as SB3 expects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.batch.evader import EvaderView, evader_view
from scythe_desktop.engine.batch.world_batch import BatchStep
from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS
from scythe_desktop.engine.rl.batch_episodes import BatchEpisodes
from scythe_desktop.engine.rl.evader_model import ModelEvader, Predictor, load_evader
from scythe_desktop.engine.rl.evader_spaces import EvaderLayout, EvaderWeights, evader_reward
from scythe_desktop.engine.rl.layout import EnvLayout
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.vec_base import BatchedVecEnv
from scythe_desktop.engine.scenario import Scenario

Obs = dict[str, NDArray[np.float32]]


class ModelDefender:
    """The observers' side from a trained network over the defender's batched observation and mask."""

    def __init__(self, model: Predictor, deterministic: bool = False) -> None:
        self.model, self.deterministic = model, deterministic

    def __call__(self, obs: Obs, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        index, _ = self.model.predict(obs, deterministic=self.deterministic, action_masks=mask)
        return np.asarray(index, dtype=np.int64).reshape(mask.shape[0])


class WaitingDefender:
    """A defender that never acts (the scenario's initial observers, if any, stay where they are)."""

    def __call__(self, obs: Obs, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        return np.zeros(mask.shape[0], dtype=np.int64)


class _Episodes(BatchEpisodes):
    """The defender's episodes, plus the evader's reward and its terminal observations."""

    def bind(self, layout: EvaderLayout, weights: EvaderWeights) -> None:
        self.evader_layout, self.evader_weights = layout, weights
        self.evader_terminal: Obs = {}
        self.evader_reward = np.zeros(self.size)

    def stepped(self, tick: BatchStep) -> None:
        self.evader_reward = evader_reward(self.evader_weights, self.batch, tick.activations_caught,
                                           tick.activations_evaded)

    def ending(self, ended: NDArray[np.intp]) -> None:
        obs, _, _ = self.evader_observe()
        self.evader_terminal = {k: v[ended] for k, v in obs.items()}

    def evader_observe(self) -> tuple[Obs, NDArray[np.bool_], tuple[EvaderView, NDArray[np.int64]]]:
        view = evader_view(self.batch)
        rows = self.evader_layout.slot_rows(view)
        obs = self.evader_layout.observe(view, rows, self.steps / self.episode_ticks)
        return obs, self.evader_layout.mask(view, rows), (view, rows)


class EvaderVecEnv(BatchedVecEnv):
    """B adversarial worlds in which SB3 plays the evader against a frozen defender (module docstring)."""

    def __init__(
        self,
        num_envs: int,
        defender: Any = None,
        scenario: str | Path | Scenario = "adversarial",
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        reward_weights: RewardWeights | None = None,
        evader_weights: EvaderWeights | None = None,
        seed: int = 0,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        layout = EnvLayout.build(scenario, episode_ticks, None, reward_weights)
        self.scenario, self.episode_ticks = layout.scenario, layout.episode_ticks
        self.layout = EvaderLayout(layout.scenario)
        self.defender = defender or WaitingDefender()
        self.render_mode = None
        super().__init__(num_envs, self.layout.observation_space, self.layout.action_space)
        base = np.arange(seed, seed + num_envs, dtype=np.int64)
        self.shard = _Episodes(layout.codec, layout.weights, episode_ticks, base)
        self.shard.bind(self.layout, evader_weights or EvaderWeights())
        self.shard.batch.evader = None  # SB3 plays it
        self._actions = np.zeros((num_envs, self.layout.adv.moves_per_tick), dtype=np.int64)
        self._observe()

    # ------------------------------------------------------------------------------------- VecEnv API

    def reset(self) -> Obs:
        for b, s in enumerate(self._seeds):
            if s is not None:
                self.shard.base[b] = int(s)
                self.shard.episode[b] = 0
        self._reset_seeds()
        self.shard.reset_worlds(np.arange(self.num_envs))
        self._observe()
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs, -1)

    def step_wait(self) -> tuple[Obs, NDArray[np.float32], NDArray[np.bool_], list[dict]]:
        m, n = self.layout.adv.moves_per_tick, self.layout.choices
        idx = self._actions
        if idx.shape[1] != m or ((idx < 0) | (idx >= n)).any():
            raise ValueError(f"evader actions must be (worlds, {m}) indices in [0, {n}), got shape {idx.shape}")
        allowed = np.take_along_axis(self._mask.reshape(self.num_envs, m, n), idx[:, :, None], axis=2)[:, :, 0]
        idx = np.where(allowed, idx, 0)
        view, rows = self._view
        moves = self.layout.decode(idx, view, rows)
        defend = self.defender(self.shard.obs, self.shard.mask)
        out = self.shard.step(defend, evader=moves)
        reward = self.shard.evader_reward.astype(np.float32)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for b in np.flatnonzero(~allowed.all(axis=1)).tolist():
            infos[b]["refused"] = int(np.count_nonzero(~allowed[b]))
        for j, b in enumerate(out.ended.tolist()):
            infos[b]["terminal_observation"] = {k: v[j] for k, v in self.shard.evader_terminal.items()}
            infos[b]["TimeLimit.truncated"] = True
        self._observe()
        return self._obs, reward, out.done.copy(), infos

    def close(self) -> None:
        return None

    def _observe(self) -> None:
        self._obs, self._mask, self._view = self.shard.evader_observe()


__all__ = ["EvaderVecEnv", "ModelDefender", "ModelEvader", "Predictor", "WaitingDefender", "load_evader"]
