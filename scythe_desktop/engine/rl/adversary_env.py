"""``AdversaryEnv``: an adversarial world as a PettingZoo ``ParallelEnv`` with two agents, ``observers`` (the
defender: exactly :class:`~scythe_desktop.engine.env.ObserverEnv`'s spaces and seed reward) and ``evader``
(the infrastructure's operator: :class:`~scythe_desktop.engine.rl.evader_spaces.EvaderLayout`'s spaces and
reward). Both act at once each tick: the defender's action is applied, then the evader's moves, then the
world advances. Each agent's ``infos[agent]["action_mask"]`` is its valid actions (the evader's the
concatenation over its sub-actions); a masked choice is not applied (the evader's becomes "wait") and is
counted in ``infos[agent]["refused"]``. Episodes are truncated after ``episode_ticks`` ticks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from scythe_desktop.engine.batch.evader import evader_view
from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS, ObserverEnv
from scythe_desktop.engine.rl.evader_spaces import EvaderLayout, EvaderWeights, evader_reward
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.spaces import EnvConfig
from scythe_desktop.engine.scenario import Scenario

OBSERVERS: Final = "observers"
EVADER: Final = "evader"
Obs = dict[str, NDArray[np.float32]]


class AdversaryEnv(ParallelEnv[str, Obs, Any]):
    """Observers against an evader on one adversarial world (see the module docstring)."""

    metadata: dict[str, Any] = {"name": "scythe_adversary_v0", "render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        scenario: str | Path | Scenario = "adversarial",
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        config: EnvConfig | None = None,
        reward_weights: RewardWeights | None = None,
        evader_weights: EvaderWeights | None = None,
    ) -> None:
        self.defender = ObserverEnv(scenario, episode_ticks, config, reward_weights)
        self.layout = EvaderLayout(self.defender.scenario)
        self.evader_weights = evader_weights or EvaderWeights()
        self.possible_agents = [OBSERVERS, EVADER]
        self.agents: list[str] = []
        self._obs_spaces: dict[str, spaces.Space[Any]] = {
            OBSERVERS: self.defender.observation_space,
            EVADER: self.layout.observation_space,
        }
        self._act_spaces: dict[str, spaces.Space[Any]] = {
            OBSERVERS: self.defender.action_space,
            EVADER: self.layout.action_space,
        }
        self._rows = np.zeros((1, self.layout.slots), dtype=np.int64)
        self._evader_mask = np.ones((1, self.layout.choices), dtype=bool)

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Obs],
                                                                                           dict[str, dict]]:
        obs, info = self.defender.reset(seed=seed)
        self.agents = list(self.possible_agents)
        infos = {OBSERVERS: {**info, "action_mask": self.defender.action_masks()}, EVADER: {}}
        observations = {OBSERVERS: obs, EVADER: self._evader_observe(infos[EVADER])}
        return observations, infos

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Obs], dict[str, float], dict[str, bool],
                                                      dict[str, bool], dict[str, dict]]:
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"AdversaryEnv.step: no action for {missing}; every live agent acts each tick")
        m = self.layout.adv.moves_per_tick
        index = np.asarray(actions[EVADER], dtype=np.int64).reshape(1, m)
        if ((index < 0) | (index >= self.layout.choices)).any():
            raise ValueError(f"evader action must be {m} indices in [0, {self.layout.choices}), "
                             f"got {index[0].tolist()}")
        allowed = self._evader_mask.reshape(1, m, self.layout.choices)[0, np.arange(m), index[0]]
        index = np.where(allowed, index, 0)[None, :].reshape(1, m)
        moves = self.layout.decode(index, self._view, self._rows)
        obs, reward, _, truncated, info = self.defender.step_with_evader(actions[OBSERVERS], moves)
        batch = self.defender.world.batch
        caught, evaded = info["activations_caught"], info["activations_evaded"]
        r_evader = float(evader_reward(self.evader_weights, batch, np.array([caught]), np.array([evaded]))[0])
        infos: dict[str, dict] = {
            OBSERVERS: {**info, "action_mask": self.defender.action_masks()},
            EVADER: {"refused": int(np.count_nonzero(~allowed)), "activations_caught": caught,
                     "activations_evaded": evaded},
        }
        observations = {OBSERVERS: obs, EVADER: self._evader_observe(infos[EVADER])}
        agents = list(self.agents)
        if truncated:
            self.agents = []
        return (observations, {OBSERVERS: reward, EVADER: r_evader}, dict.fromkeys(agents, False),
                dict.fromkeys(agents, truncated), infos)

    def _evader_observe(self, info: dict[str, Any]) -> Obs:
        batch = self.defender.world.batch
        self._view = evader_view(batch)
        self._rows = self.layout.slot_rows(self._view)
        self._evader_mask = self.layout.mask(self._view, self._rows)
        info["action_mask"] = self._evader_mask[0].copy()
        progress = np.array([self.defender.world.tick / self.defender.episode_ticks], dtype=np.float64)
        return {k: v[0] for k, v in self.layout.observe(self._view, self._rows, progress).items()}


__all__ = ["EVADER", "OBSERVERS", "AdversaryEnv"]
