"""What every batched SB3 ``VecEnv`` of the engine shares: one env object for all B worlds, so attributes and
methods are the env's own, and MaskablePPO's ``action_masks`` is one row per world of the current mask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv


class BatchedVecEnv(VecEnv):
    """A VecEnv whose worlds live in one object; subclasses keep the (B, n) mask in ``_mask``."""

    _mask: NDArray[np.bool_]

    def action_masks(self) -> NDArray[np.bool_]:
        """(B, n) validity mask of the current states (what sb3-contrib's MaskablePPO reads)."""
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


__all__ = ["BatchedVecEnv"]
