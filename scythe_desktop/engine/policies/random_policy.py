"""``random``: a uniformly random valid action each tick (the no-op included), from the RL action layout.

The floor every other policy must clear. It draws from exactly the actions PPO can take, through the same
joint mask, so it never breaks a guardrail; it has no notion of gain or cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal, make_proposal
from scythe_desktop.engine.rl.spaces import ActionCodec, EnvConfig, WorldView, cluster_slots

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


class RandomPolicy(Policy):
    name: ClassVar[str] = "random"

    def __init__(self, seed: int = 0, config: EnvConfig | None = None) -> None:
        self.config = config or EnvConfig()
        self.rng = np.random.default_rng(seed)
        self._codec: ActionCodec | None = None

    def reset(self, world: World, seed: int | None = None) -> None:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._codec = ActionCodec(world.scenario, self.config)

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        if self._codec is None or self._codec.scenario is not world.scenario:
            self._codec = ActionCodec(world.scenario, self.config)
        view = WorldView.of(world)
        slots = cluster_slots(view, self.config.cluster_slots)
        valid = np.flatnonzero(self._codec.mask(view, slots))
        picks = self.rng.choice(valid, size=min(limit, valid.size), replace=False)
        out = []
        for idx in picks:
            action = self._codec.decode(int(idx), view, slots)
            if action is None:
                break  # the no-op drawn: wait (and propose nothing after it)
            gain = world.expected_information_gain(action)
            out.append(make_proposal(world, action, gain, 1.0 / valid.size, self.name, view.clusters))
        return out
