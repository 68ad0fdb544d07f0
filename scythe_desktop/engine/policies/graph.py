"""``graph``: the graph network (:mod:`~scythe_desktop.engine.rl.graph_net`) behind the Policy interface.

Loads a policy-only ``.pt`` (what :func:`save_policy` writes, with its JSON card beside it) on the CPU and
needs nothing else at run time. Each decision encodes the world as a batch of one with the same
:class:`~scythe_desktop.engine.rl.graph_spaces.GraphView` as the training env, so the network only ever
picks actions the world accepts (the mask is exact); proposals are the unmasked actions by probability, as
:mod:`~scythe_desktop.engine.policies.ppo` ranks them. Unlike the fixed-slot ``ppo`` it has no per-scenario
layout: :meth:`GraphPolicy.trained_for` is true for every scenario within the graph maxima. Known weakness:
nothing trained at scale ships yet, so it is only as good as the file it is given. Torch only: without torch
(the field-laptop build) it is refused with a one-line error (``backend.BackendUnavailable``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.backend import BackendUnavailable, available
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.policies.ppo import card_path, ranked_actions, ranked_proposals
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.spaces import WorldView

if TYPE_CHECKING:
    from scythe_desktop.engine.rl.graph_spaces import GraphView
    from scythe_desktop.engine.scenario import Scenario
    from scythe_desktop.engine.world import World

#: Where a trained graph policy will ship (none does yet).
SHIPPED_GRAPH_POLICY: Final = Path(__file__).resolve().parents[3] / "resources" / "policies" / "graph.pt"
DEFAULT_EPISODE_TICKS: Final = 200
#: What the graph network runs on (torch only: unlike ``ppo`` it has no numpy backend).
GRAPH_STACK: Final = ("torch", "torch_geometric", "sb3_contrib")


def save_policy(policy: Any, path: Path, card: dict[str, Any] | None = None) -> Path:
    """Write ``policy`` (a :class:`~scythe_desktop.engine.rl.graph_net.GraphActorCriticPolicy`) as ``path``
    (``.pt``) and its card (``.json``: the layout it was built for, plus ``card``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    policy.save(str(path))
    full = {"layout": layout_card(), **(card or {})}
    card_path(path).write_text(json.dumps(full, indent=2) + "\n")
    return path


def layout_card() -> dict[str, int]:
    """The maxima a saved network depends on: a file made for another layout is refused at load."""
    return {"n_actions": gl.N_ACTIONS, "max_clusters": gl.MAX_CLUSTERS, "max_observers": gl.MAX_OBSERVERS,
            "max_sites": gl.MAX_SITES, "max_types": gl.MAX_TYPES}


class GraphPolicy(Policy):
    """A trained graph network; ``path`` defaults to :data:`SHIPPED_GRAPH_POLICY`."""

    name: ClassVar[str] = "graph"

    def __init__(self, path: str | Path | None = None, episode_ticks: int = DEFAULT_EPISODE_TICKS) -> None:
        missing = [m for m in GRAPH_STACK if not available(m)]
        if missing:  # the graph network has no numpy backend; say so instead of a traceback from deep inside
            raise BackendUnavailable(f"the graph policy needs {', '.join(missing)}, which this installation does "
                                     "not have (a build without torch can use the ppo or brain policy)")
        from scythe_desktop.engine.rl.graph_net import GraphActorCriticPolicy

        self.path = Path(path) if path is not None else SHIPPED_GRAPH_POLICY
        if not self.path.exists():
            raise FileNotFoundError(f"graph policy file not found: {self.path}")
        card = card_path(self.path)
        self.card: dict[str, Any] = json.loads(card.read_text()) if card.exists() else {}
        if self.card.get("layout", layout_card()) != layout_card():
            raise ValueError(f"{self.path} was saved for the graph layout {self.card['layout']}, not {layout_card()}")
        self.network = GraphActorCriticPolicy.load(str(self.path), device="cpu")
        self.network.set_training_mode(False)
        self.episode_ticks = episode_ticks
        self._view: GraphView | None = None

    def reset(self, world: World, seed: int | None = None) -> None:
        self._view = None

    def trained_for(self, scenario: Scenario) -> bool:
        """True for every scenario within the graph maxima (:func:`~scythe_desktop.engine.rl.graph_layout.fits`)."""
        return gl.fits(scenario)

    def encode(self, world: World) -> GraphView:
        """The world's graph view, refreshed for this tick (one view per world, reused)."""
        from scythe_desktop.engine.rl.graph_spaces import GraphView

        if self._view is None or self._view.batch is not world.batch:
            self._view = GraphView(world.batch)
        self._view.refresh(np.array([min(world.tick / self.episode_ticks, 1.0)]))
        return self._view

    def probabilities(self, world: World) -> tuple[NDArray[np.float64], GraphView]:
        """The network's action probabilities (zero where masked, summing to 1) and the view they index."""
        import torch

        view = self.encode(world)
        with torch.no_grad():
            tensor, _ = self.network.obs_to_tensor(view.obs)
            dist: Any = self.network.get_distribution(tensor, action_masks=view.mask)
            probs = dist.distribution.probs[0].numpy().astype(np.float64)
        probs[~view.mask[0]] = 0.0
        return probs, view

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        probs, view = self.probabilities(world)
        return ranked_proposals(world, probs, view.action, WorldView.of(world), self.name, limit)

    def decide(self, world: World, max_actions: int = 1) -> list[Action]:
        """The most probable action (none if that is the no-op), then the next ones up to ``max_actions``."""
        probs, view = self.probabilities(world)
        return ranked_actions(probs, view.action, WorldView.of(world), max_actions)


__all__ = ["SHIPPED_GRAPH_POLICY", "GraphPolicy", "layout_card", "save_policy"]
