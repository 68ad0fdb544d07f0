"""``ppo``: a trained MaskablePPO network behind the same Policy interface as the baselines.

Loads either a full training checkpoint (``.zip`` from ``scythe train``) or a policy-only file (``.pt``,
what ships in ``resources/policies/`` — a few MB, no optimizer state). Each decision encodes the world with the
same :class:`~scythe_desktop.engine.rl.spaces.ObservationEncoder` and joint mask as the env, so the network
can only pick valid actions; proposals are the masked actions ranked by the network's probability, which is
their confidence. ``decide`` takes the most probable action (deterministic) and waits when that is the no-op
or a relocation onto the observer's own position (which the world would apply as nothing).
Known weakness: it only knows the scenario it was trained on; out of distribution it is still safe (the
mask) but not necessarily good (on regional moved to Asia with 60 clusters it scored 133 against
static-grid's 427), so :meth:`PPOPolicy.trained_for` tells a caller such as ``brain`` whether to trust it.

Two backends compute the network (``backend=``): ``torch`` runs the SB3 policy itself; ``numpy`` runs its
export beside it (``.npz``, :mod:`.numpy_net`), for a build without torch. They give the same probabilities to
1e-5 and the same decisions unless two actions tie to float32 rounding; ``auto`` (the default) is torch when
torch and sb3-contrib are installed, else numpy (:func:`~scythe_desktop.engine.backend.resolve_backend`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Relocate
from scythe_desktop.engine.backend import TORCH_STACK, Backend, resolve_backend
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.policies.numpy_net import load_numpy_net
from scythe_desktop.engine.proposals import Proposal, make_proposal
from scythe_desktop.engine.rl.spaces import (
    ActionCodec,
    EnvConfig,
    ObservationEncoder,
    StepView,
    WorldView,
    cluster_slots,
)

if TYPE_CHECKING:
    from scythe_desktop.engine.scenario import Scenario
    from scythe_desktop.engine.world import World

#: The policy that ships with the app, and its card.
SHIPPED_POLICY: Final = Path(__file__).resolve().parents[3] / "resources" / "policies" / "ppo_regional.pt"
DEFAULT_EPISODE_TICKS: Final = 200


def card_path(policy_path: Path) -> Path:
    return policy_path.with_suffix(".json")


def load_network(path: Path) -> Any:
    """The MaskablePPO actor-critic network from a ``.pt`` policy file or a ``.zip`` checkpoint (CPU)."""
    # No torch.set_num_threads here: that is process-wide and the engine's torch fields share the process.
    if not path.exists():
        raise FileNotFoundError(f"policy file not found: {path}")
    if path.suffix == ".zip":
        from sb3_contrib import MaskablePPO

        return MaskablePPO.load(path, device="cpu").policy
    from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy

    return MaskableMultiInputActorCriticPolicy.load(str(path), device="cpu")


class PPOPolicy(Policy):
    """A trained network. ``path`` defaults to the shipped policy; its JSON card (if any) gives the layout.
    ``backend`` (module docstring): the numpy one reads ``path``'s ``.npz`` (or ``path`` itself, an ``.npz``)."""

    name: ClassVar[str] = "ppo"

    def __init__(
        self, path: str | Path | None = None, episode_ticks: int = DEFAULT_EPISODE_TICKS, backend: str = "auto"
    ) -> None:
        self.path = Path(path) if path is not None else SHIPPED_POLICY
        if self.path.suffix == ".npz" and backend == "torch":
            raise ValueError(f"{self.path} is a numpy export: the torch backend needs the .pt or .zip it came from")
        self.backend: Backend = "numpy" if self.path.suffix == ".npz" else resolve_backend(backend, TORCH_STACK)
        if self.backend == "torch":
            self.network = load_network(self.path)
            self.network.set_training_mode(False)
        else:
            self.network = load_numpy_net(self.path)
        if not isinstance(self.network.action_space, spaces.Discrete):
            raise ValueError(f"policy {self.path} has the action space {self.network.action_space}, not Discrete")
        card = card_path(self.path)
        self.card: dict[str, Any] = json.loads(card.read_text()) if card.exists() else {}
        self.config = EnvConfig(**self.card.get("env_config", {}))
        self.episode_ticks = episode_ticks
        self._codec: ActionCodec | None = None
        self._encoder: ObservationEncoder | None = None

    def reset(self, world: World, seed: int | None = None) -> None:
        self._codec = ActionCodec(world.scenario, self.config)
        self._encoder = ObservationEncoder(self._codec)
        n = self.network.action_space.n
        if self._codec.n_actions != n:
            raise ValueError(
                f"policy {self.path} has {n} actions but the layout {self.config} has {self._codec.n_actions}"
            )

    def trained_for(self, scenario: Scenario) -> bool:
        """Whether ``scenario`` has the rules the network was trained on: the card's ``scenario_fingerprint``
        (:meth:`Scenario.fingerprint`; or any of ``scenario_fingerprints``, for a network trained on several)
        when it has one, else the card's scenario name; and the network's action layout fits it."""
        prints = [*self.card.get("scenario_fingerprints", []), self.card.get("scenario_fingerprint")]
        prints = [p for p in prints if p]
        same = scenario.fingerprint() in prints if prints else self.card.get("scenario") == scenario.name
        return bool(same) and ActionCodec(scenario, self.config).n_actions == self.network.action_space.n

    def probabilities(self, world: World) -> tuple[NDArray[np.float64], WorldView, NDArray[np.intp]]:
        """The network's action probabilities (masked, summing to 1), the view and cluster slots used."""
        if self._codec is None or self._codec.scenario is not world.scenario:
            self.reset(world)
        assert self._codec is not None and self._encoder is not None
        view = WorldView.of(world)
        slots = cluster_slots(view, self.config.cluster_slots)
        mask = self._codec.mask(view, slots)
        step = StepView(slots, min(world.tick / self.episode_ticks, 1.0))
        obs = self._encoder.encode(view, step)
        if self.backend == "torch":
            probs = torch_probabilities(self.network, obs, mask)
        else:
            probs = self.network.masked_probabilities(obs, mask[None, :])[0].astype(np.float64)
        probs[~mask] = 0.0
        return probs, view, slots

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        probs, view, slots = self.probabilities(world)
        codec = self._codec
        assert codec is not None
        return ranked_proposals(world, probs, lambda i: codec.decode(i, view, slots), view, self.name, limit)

    def decide(self, world: World, max_actions: int = 1) -> list[Action]:
        """The most probable action (none if that is the no-op), then the next ones up to ``max_actions``."""
        probs, view, slots = self.probabilities(world)
        codec = self._codec
        assert codec is not None
        return ranked_actions(probs, lambda i: codec.decode(i, view, slots), view, max_actions)


def torch_probabilities(network: Any, obs: dict[str, Any], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The SB3 ``network``'s masked action probabilities for one observation (float32 values, as float64)."""
    import torch

    with torch.no_grad():
        tensor, _ = network.obs_to_tensor(obs)
        dist = network.get_distribution(tensor, action_masks=mask[None, :])
        return dist.distribution.probs[0].numpy().astype(np.float64)


Decoder = Callable[[int], Action | None]


def ranked_proposals(
    world: World, probs: NDArray[np.float64], decode: Decoder, view: WorldView, name: str, limit: int
) -> list[Proposal]:
    """Up to ``limit`` proposals: the unmasked actions by probability (their confidence), waits skipped."""
    out: list[Proposal] = []
    for idx in np.argsort(-probs, kind="stable"):
        if len(out) >= limit or probs[idx] <= 0.0:
            break
        action = decode(int(idx))
        if action is None or _stays_put(action, view):
            continue  # waiting is not something to show an operator
        gain = world.expected_information_gain(action)
        out.append(make_proposal(world, action, gain, float(probs[idx]), name, view.clusters))
    return out


def ranked_actions(probs: NDArray[np.float64], decode: Decoder, view: WorldView, max_actions: int) -> list[Action]:
    """The most probable action (none if that is a wait), then the next ones up to ``max_actions``."""
    actions: list[Action] = []
    for idx in np.argsort(-probs, kind="stable")[:max_actions]:
        action = decode(int(idx)) if probs[idx] > 0 else None
        if action is None or _stays_put(action, view):
            break  # the network chose to wait (explicitly, or by moving an observer onto itself)
        actions.append(action)
    return actions


def _stays_put(action: Action, view: WorldView) -> bool:
    """A relocation onto the observer's own position: the world would change nothing, so it is a wait."""
    if not isinstance(action, Relocate):
        return False
    row = np.flatnonzero(view.observers["id"] == action.observer_id)
    if row.size == 0:
        return False
    o = view.observers[row[0]]
    return bool(great_circle_km(action.lon, action.lat, o["lon"], o["lat"]) < 1.0)
