"""``GraphVecEnv``: worlds of several scenarios, of any size up to the graph maxima, as one SB3 ``VecEnv``
with the graph observation and action layout (:mod:`~scythe_desktop.engine.rl.graph_layout`).

Each scenario gets one contiguous shard (:class:`GraphEpisodes`: the batched episodes of
:class:`~scythe_desktop.engine.rl.batch_episodes.BatchEpisodes` with the graph view as their layout), so a
batch can mix ``tutorial``'s 5 clusters and ``global``'s 200: the padded observations concatenate along the
world axis. Stepping, refusal of masked actions, rewards, auto-reset and ``action_masks()`` are
:class:`~scythe_desktop.engine.rl.vec_env.ObserverVecEnv`'s; shards are stepped in this thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv

from scythe_desktop.engine.batch.actions import ActionBatch
from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS
from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.batch_episodes import BatchEpisodes
from scythe_desktop.engine.rl.graph_spaces import GraphView
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.vec_env import ObserverVecEnv
from scythe_desktop.engine.scenario import Scenario, load_scenario


class GraphEpisodes(BatchEpisodes):
    """B episodes of one scenario in the graph layout."""

    view: GraphView  # type: ignore[assignment]

    def __init__(
        self, scenario: Scenario, weights: RewardWeights, episode_ticks: int, base_seeds: NDArray[np.int64]
    ) -> None:
        self.start(scenario, weights, episode_ticks, base_seeds)

    def make_view(self) -> None:
        self.view = GraphView(self.batch)

    def placed(self, bw: NDArray[np.intp], rows: NDArray[np.intp]) -> None:
        """Nothing cached per observer: the graph view recomputes footprints every step."""

    def decode(self, index: NDArray[np.int64]) -> ActionBatch:
        return self.view.decode(index)

    def refresh(self) -> None:
        self.view.refresh(self.steps / self.episode_ticks)
        self.obs, self.mask = self.view.obs, self.view.mask


class GraphVecEnv(ObserverVecEnv):
    """``num_envs`` worlds split evenly over ``scenarios`` (in order), graph layout (module docstring)."""

    def __init__(
        self,
        num_envs: int,
        scenarios: Sequence[str | Path | Scenario] = ("regional",),
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        reward_weights: RewardWeights | None = None,
        seed: int = 0,
    ) -> None:
        if not 1 <= len(scenarios) <= num_envs:
            raise ValueError(f"need 1 to num_envs={num_envs} scenarios, got {len(scenarios)}")
        if episode_ticks < 1:
            raise ValueError(f"episode_ticks must be >= 1, got {episode_ticks}")
        loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
        self.scenarios = loaded
        self.weights = reward_weights or RewardWeights()
        self.episode_ticks = episode_ticks
        self.n_actions, self.block = gl.N_ACTIONS, gl.block
        self.render_mode = None
        VecEnv.__init__(self, num_envs, gl.observation_space(), gl.action_space())
        self._bounds = np.linspace(0, num_envs, len(loaded) + 1).astype(int)
        base = np.arange(seed, seed + num_envs, dtype=np.int64)
        self.shards = [
            GraphEpisodes(sc, self.weights, episode_ticks, base[lo:hi])
            for sc, lo, hi in zip(loaded, self._bounds[:-1], self._bounds[1:], strict=True)
        ]
        self._pool = None
        self._actions = np.zeros(num_envs, dtype=np.int64)
        self.last_components = {}
        self._gather()


__all__ = ["GraphEpisodes", "GraphVecEnv"]
