"""``ObserverEnv``: the engine world as a gymnasium environment (registered as ``scythe/ObserverEnv-v0``).

One step = one decision (an index of :class:`~scythe_desktop.engine.rl.spaces.ActionCodec`: no-op or one of
the five actions on a cell / observer slot / cluster slot) followed by one world tick. The observation is a
Dict of fixed-size padded arrays with validity masks (:class:`~scythe_desktop.engine.rl.spaces.ObservationEncoder`);
``action_masks()`` gives the joint mask that sb3-contrib's MaskablePPO reads, and the no-op is always valid.
An index outside the mask (only possible without masking, e.g. gymnasium's ``check_env``) is not applied:
it counts as a no-op, is reported in ``info["refused"]`` and costs the ``invalid_action`` reward component.
The reward is the sum of the named components in ``info["reward_components"]`` (see
:mod:`scythe_desktop.engine.rl.reward`). Episodes are truncated after ``episode_ticks`` ticks and never
terminate early. Same seed ⇒ same episode: the world seed is drawn from the env's seeded generator.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.batch.evader import EvaderMoves
from scythe_desktop.engine.rl.episode import make_world
from scythe_desktop.engine.rl.layout import EnvLayout
from scythe_desktop.engine.rl.reward import INVALID_ACTION_PENALTY, RewardTracker, RewardWeights, Snapshot
from scythe_desktop.engine.rl.spaces import (
    EnvConfig,
    StepView,
    WorldView,
    cluster_slots,
)
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import World

ENV_ID = "scythe/ObserverEnv-v0"
DEFAULT_EPISODE_TICKS = 200


class ObserverEnv(gym.Env[dict[str, NDArray[np.float32]], np.int64]):
    """Place, move, tune and retire observers to collapse belief entropy at the lowest cost.

    :param scenario: a scenario name (``"tutorial"``, ``"regional"``, ``"global"``), a TOML path or a
        loaded :class:`Scenario`.
    :param episode_ticks: ticks per episode (default 200).
    :param config: sizes of the observation/action layout (:class:`EnvConfig`); keep the default to use
        the shipped policy.
    :param reward_weights: :class:`RewardWeights` (the seed's defaults).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - gymnasium's class attribute

    def __init__(
        self,
        scenario: str | Path | Scenario = "regional",
        episode_ticks: int = DEFAULT_EPISODE_TICKS,
        config: EnvConfig | None = None,
        reward_weights: RewardWeights | None = None,
    ) -> None:
        layout = EnvLayout.build(scenario, episode_ticks, config, reward_weights)
        self.scenario, self.config, self.weights = layout.scenario, layout.config, layout.weights
        self.episode_ticks, self.codec, self.encoder = layout.episode_ticks, layout.codec, layout.encoder
        self.action_space = self.codec.space
        self.observation_space = self.encoder.space  # type: ignore[assignment]  # Dict of float32 Boxes
        self._world: World | None = None
        self._tracker: RewardTracker | None = None
        self._view: WorldView | None = None
        self._snapshot: Snapshot | None = None  # of self._view: the next step's "before"
        self._tick = 0
        self._slots = np.zeros(0, dtype=np.intp)
        self._mask = np.ones(self.codec.n_actions, dtype=bool)

    # ------------------------------------------------------------------------------------ gymnasium API

    @property
    def world(self) -> World:
        if self._world is None:
            raise RuntimeError("ObserverEnv: call reset() before using the world")
        return self._world

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, Any]]:
        super().reset(seed=seed)
        world_seed = int(self.np_random.integers(0, 2**31 - 1))
        self._world = make_world(self.scenario, world_seed)
        self._view = WorldView.of(self._world)
        self._tracker = RewardTracker(self._view, self.weights)
        self._snapshot = Snapshot.of(self._view)
        self._tick = 0
        return self._observe(), {"world_seed": world_seed}

    def step(
        self, action: int | np.integer
    ) -> tuple[dict[str, NDArray[np.float32]], float, bool, bool, dict[str, Any]]:
        return self.step_with_evader(action, None)

    def step_with_evader(
        self, action: int | np.integer, evader: EvaderMoves | None
    ) -> tuple[dict[str, NDArray[np.float32]], float, bool, bool, dict[str, Any]]:
        """:meth:`step`, with this tick's evader moves played by someone else (an adversarial world's
        scripted evader plays when ``evader`` is None)."""
        world = self.world
        index = int(action)
        if not 0 <= index < self.codec.n_actions:
            raise ValueError(f"action must be in [0, {self.codec.n_actions}), got {index}")
        refused: str | None = None
        chosen = None
        assert self._view is not None and self._tracker is not None and self._snapshot is not None
        if self._mask[index]:
            chosen = self.codec.decode(index, self._view, self._slots)
        else:
            refused = f"masked: action {index} ({self.codec.block(index)[0]}) is not valid in this state"
        before = self._snapshot  # the world has not changed since the last step read it
        result = world.step((chosen,) if chosen is not None else (), evader=evader)
        for r in result.action_results:
            if not r.ok:  # cannot happen while the mask is right; reported, never hidden
                refused = r.reason
        self._tick += 1
        self._view = WorldView.of(world)
        after = self._snapshot = Snapshot.of(self._view)
        spend_delta = after.spend_per_hour - before.spend_per_hour if chosen is not None else 0.0
        components = self._tracker.components(before, after, self._view, spend_delta, result.info["cost_tick"])
        components["invalid_action"] = -INVALID_ACTION_PENALTY if refused else 0.0
        reward = math.fsum(components.values())
        info: dict[str, Any] = {
            "reward_components": components,
            "action": chosen,
            "refused": refused,
            "entropy_total": after.entropy,
            "spend_per_hour": after.spend_per_hour,
            "tick": self._tick,
            "activations_caught": result.info["activations_caught"],
            "activations_evaded": result.info["activations_evaded"],
        }
        truncated = self._tick >= self.episode_ticks
        return self._observe(), float(reward), False, truncated, info

    def action_index(self, action: Action | None) -> int | None:
        """The index of ``action`` in the current state's layout (0 for waiting; None if the layout cannot
        express it): how a teacher policy's decision becomes a label for imitation."""
        assert self._view is not None
        return self.codec.index(action, self._view, self._slots)

    def action_masks(self) -> NDArray[np.bool_]:
        """The joint validity mask of the current state (sb3-contrib MaskablePPO calls this)."""
        return self._mask.copy()

    # ----------------------------------------------------------------------------------------- internals

    def _observe(self) -> dict[str, NDArray[np.float32]]:
        assert self._view is not None
        world = self._view
        self._slots = cluster_slots(world, self.config.cluster_slots)
        self._mask = self.codec.mask(world, self._slots)
        return self.encoder.encode(world, StepView(self._slots, self._tick / self.episode_ticks))


def register() -> None:
    """Register ``scythe/ObserverEnv-v0`` with gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="scythe_desktop.engine.env:ObserverEnv")


register()
