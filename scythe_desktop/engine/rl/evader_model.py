"""A trained evader network playing an adversarial world's evader (``scythe evaluate --evader trained``).

Apart from :mod:`.adversary_vec` (which trains against it and imports Stable-Baselines3) so that playing one
needs no torch: :func:`load_evader` runs the saved SB3 policy on torch or its numpy export (``evader.npz``
beside it, :mod:`~scythe_desktop.engine.policies.numpy_net`), the same most probable moves either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scythe_desktop.engine.backend import TORCH_STACK, resolve_backend
from scythe_desktop.engine.batch.evader import EvaderMoves, EvaderView
from scythe_desktop.engine.env import DEFAULT_EPISODE_TICKS
from scythe_desktop.engine.rl.evader_spaces import EvaderLayout
from scythe_desktop.engine.scenario import Scenario


class Predictor(Protocol):
    """What SB3's (Maskable)PPO offers: actions for a batch of observations under masks."""

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False,
                action_masks: Any = None) -> tuple[np.ndarray, Any]: ...


class ModelEvader:
    """The evader of a trained network: its most probable moves (``deterministic``) or samples of them."""

    name = "trained"

    def __init__(self, layout: EvaderLayout, model: Predictor, episode_ticks: int, deterministic: bool = True) -> None:
        self.layout, self.model = layout, model
        self.episode_ticks, self.deterministic = episode_ticks, deterministic

    def moves(self, view: EvaderView) -> EvaderMoves:
        rows = self.layout.slot_rows(view)
        obs = self.layout.observe(view, rows, view.tick / self.episode_ticks)
        mask = self.layout.mask(view, rows)
        index, _ = self.model.predict(obs, deterministic=self.deterministic, action_masks=mask)
        index = np.asarray(index, dtype=np.int64).reshape(view.own.shape[0], -1)
        return self.layout.decode(index, view, rows)


def load_evader(path: Path, scenario: Scenario, deterministic: bool = True, backend: str = "auto") -> ModelEvader:
    """The evader network saved at ``path`` (an ``evader.pt`` of ``scythe train --adversarial``), to play
    ``scenario``'s evader; its card beside it (``evader.json``), if any, gives the episode length it saw.
    ``backend``: ``torch`` loads the SB3 policy, ``numpy`` its ``.npz`` export (``auto``: torch if installed).
    Sampled moves (``deterministic=False``) follow numpy's random stream on numpy, torch's on torch."""
    path = Path(path)
    model: Predictor
    if path.suffix == ".npz" or resolve_backend(backend, TORCH_STACK) == "numpy":
        from scythe_desktop.engine.policies.numpy_net import load_numpy_net

        model = load_numpy_net(path)
    else:
        from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

        model = MaskableActorCriticPolicy.load(str(path), device="cpu")
    card = path.with_suffix(".json")
    ticks = json.loads(card.read_text()).get("episode_ticks", DEFAULT_EPISODE_TICKS) if card.exists() else \
        DEFAULT_EPISODE_TICKS
    return ModelEvader(EvaderLayout(scenario), model, int(ticks), deterministic)


__all__ = ["ModelEvader", "Predictor", "load_evader"]
