"""``ObserverVecEnv``: B observer worlds as one native Stable-Baselines3 ``VecEnv`` over the batched engine.

One ``step`` decodes B action indices, refuses any outside its world's mask (that world alone: it counts
as a no-op, costs the ``invalid_action`` component and ``infos[b]["refused"]`` names the slot and the
action), steps every world in one :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch` call, and
computes the reward components of :mod:`scythe_desktop.engine.rl.reward` for all worlds in array
operations. Episodes are truncated after ``episode_ticks`` ticks; a truncated world is reset in the same
call with ``infos[b]["terminal_observation"]`` and ``TimeLimit.truncated`` set, as SB3 expects.
``action_masks()`` returns the (B, n_actions) mask that sb3-contrib's MaskablePPO reads (also through
``env_method("action_masks")``). World seeds come from the env seed by a keyed hash, so the same seed
gives the same episodes whatever the batch size. Per-world reward components of the last step are in
:attr:`last_components` (arrays, not B dicts, to keep the hot path free of per-world Python).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.batch.actions import DEPLOY, NOOP, RELOCATE
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import ACTIVATING
from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS, INVALID_ACTION_PENALTY
from scythe_desktop.engine.rl.batch_spaces import BatchView
from scythe_desktop.engine.rl.reward import RewardWeights
from scythe_desktop.engine.rl.spaces import ActionCodec, EnvConfig, ObservationEncoder
from scythe_desktop.engine.scenario import Scenario, load_scenario

_SEED_STREAM = 0x5EED


def episode_seeds(base: NDArray[np.int64], episode: NDArray[np.int64]) -> NDArray[np.int64]:
    """World seed of env ``b``'s ``episode``-th episode: a keyed hash of (base seed, episode)."""
    keys = kr.tick_keys(base, episode)[kr.Stream.NODE_SEEDS]
    return (kr.bits(keys, np.full(base.shape, _SEED_STREAM)) >> np.uint64(33)).astype(np.int64)


class ObserverVecEnv(VecEnv):
    """B ObserverEnv-equivalent worlds in one batch (see the module docstring)."""

    def __init__(
        self,
        num_envs: int,
        scenario: str | Path | Scenario = "regional",
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        config: EnvConfig | None = None,
        reward_weights: RewardWeights | None = None,
        seed: int = 0,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if episode_ticks < 1:
            raise ValueError(f"episode_ticks must be >= 1, got {episode_ticks}")
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.config = config or EnvConfig()
        self.weights = reward_weights or RewardWeights()
        self.episode_ticks = episode_ticks
        self.codec = ActionCodec(self.scenario, self.config)
        encoder = ObservationEncoder(self.codec)
        self.render_mode = None
        super().__init__(num_envs, encoder.space, self.codec.space)
        self._base = np.arange(seed, seed + num_envs, dtype=np.int64)
        self._episode = np.zeros(num_envs, dtype=np.int64)
        self.batch = WorldBatch(self.scenario, episode_seeds(self._base, self._episode))
        self.view = BatchView(self.codec, self.batch)
        self._actions: NDArray[np.int64] = np.zeros(num_envs, dtype=np.int64)
        self._steps = np.zeros(num_envs, dtype=np.int64)
        types = self.scenario.observer_types
        self._type_latency = np.array([t.latency_ms for t in types])
        self._zone_limit = np.array([z.max_latency_ms for z in self.scenario.latency_zones] + [np.inf])
        self.last_components: dict[str, NDArray[np.float64]] = {}
        self._refresh()

    # ------------------------------------------------------------------------------------- VecEnv API

    def reset(self) -> dict[str, NDArray[np.float32]]:
        for b, s in enumerate(self._seeds):
            if s is not None:
                self._base[b] = int(s)
                self._episode[b] = 0
        self._reset_seeds()
        self._reset_worlds(np.arange(self.num_envs))
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self) -> tuple[dict[str, NDArray[np.float32]], NDArray[np.float32], NDArray[np.bool_], list[dict]]:
        idx = self._actions
        bad = (idx < 0) | (idx >= self.codec.n_actions)
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            raise ValueError(f"world slot {b}: action must be in [0, {self.codec.n_actions}), got {int(idx[b])}")
        rows = np.arange(self.num_envs)
        refused = ~self._mask[rows, idx]
        idx = np.where(refused, 0, idx)
        batch, c, o = self.batch, self.batch.clusters, self.batch.observers
        a = self.view.decode(idx, self._slots)
        placed_rows = np.where(a.kind == DEPLOY, o.n, a.slot)
        entropy_before = batch.entropy_total()
        agreement_before = self._mean_agreement()
        rate_before = batch.cost_per_hour()
        batch.act(a)
        moved = np.flatnonzero((a.kind == DEPLOY) | (a.kind == RELOCATE))
        if moved.size:
            self.view.cover_rows(moved, placed_rows[moved])
        step = batch.step()
        self._steps += 1
        w = self.weights
        acted = a.kind != NOOP
        newly = c.detected & ~c.ever_detected
        c.ever_detected |= c.detected
        activating = c.state == ACTIVATING
        caught = c.detected & activating & ~c.credited
        c.credited = activating & (c.credited | caught)
        reach = batch.sensing.reach
        covering = (reach > 0.5).sum(axis=1)
        comps = {
            "entropy": w.entropy * (entropy_before - step.entropy_total),
            "agreement": w.agreement * (self._mean_agreement() - agreement_before),
            "detection": w.detection * newly.sum(axis=1),
            "deployment_cost": -w.deployment_cost
            * np.where(acted, np.maximum(step.cost_per_hour - rate_before, 0.0), 0.0),
            "redundancy": -w.redundancy * np.maximum(covering - 1, 0).sum(axis=1),
            "compute_cost": -w.compute_cost * step.cost_tick,
            "latency": -w.latency * self._mean_latency(),
            "early_activation": w.early_activation * caught.sum(axis=1),
            "invalid_action": np.where(refused, -INVALID_ACTION_PENALTY, 0.0),
        }
        self.last_components = comps
        reward = np.zeros(self.num_envs)
        for v in comps.values():
            reward += v
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for b in np.flatnonzero(refused).tolist():
            infos[b]["refused"] = (
                f"world slot {b}: action {int(self._actions[b])} ({self.codec.block(int(self._actions[b]))[0]}) "
                "is not valid in this state"
            )
        done = self._steps >= self.episode_ticks
        self._refresh()
        if done.any():
            ended = np.flatnonzero(done)
            for b in ended.tolist():
                infos[b]["terminal_observation"] = {k: v[b].copy() for k, v in self._obs.items()}
                infos[b]["TimeLimit.truncated"] = True
            self._episode[ended] += 1
            self._reset_worlds(ended)
        return self._obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        return None

    def action_masks(self) -> NDArray[np.bool_]:
        """(B, n_actions) joint validity mask of the current states; the no-op is always valid."""
        return self._mask.copy()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        chosen = list(self._get_indices(indices))
        if method_name == "action_masks":  # the batched mask, one row per env (what MaskablePPO stacks)
            return list(self._mask[chosen])
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result for _ in chosen]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        return super().seed(seed)

    # -------------------------------------------------------------------------------------- internals

    def _reset_worlds(self, worlds: NDArray[np.intp]) -> None:
        self.batch.reset(worlds, episode_seeds(self._base[worlds], self._episode[worlds]))
        o = self.batch.observers
        self.view.cover_rows(np.repeat(worlds, o.capacity), np.tile(np.arange(o.capacity), worlds.size))
        self._steps[worlds] = 0
        self._refresh()

    def _refresh(self) -> None:
        self._slots, slot_ok = self.view.slots()
        self._mask = self.view.mask(self._slots, slot_ok)
        self._obs = self.view.observe(self._slots, slot_ok, self._steps / self.episode_ticks)

    def _mean_agreement(self) -> NDArray[np.float64]:
        c = self.batch.clusters
        return np.where(c.n > 0, (c.agreement * c.valid()).sum(axis=1) / np.maximum(c.n, 1), 0.0)

    def _mean_latency(self) -> NDArray[np.float64]:
        o = self.batch.observers
        ratio = self._type_latency[o.type] / self._zone_limit[o.latency_zone]
        return np.where(o.n > 0, (ratio * o.valid()).sum(axis=1) / np.maximum(o.n, 1), 0.0)


__all__ = ["ObserverVecEnv", "episode_seeds"]
