"""The one interface every decision maker implements: PPO and every baseline alike.

A policy looks at a :class:`~scythe_desktop.engine.world.World` and returns ranked
:class:`~scythe_desktop.engine.proposals.Proposal` objects; :meth:`Policy.decide` takes the top ones as the
actions to apply this tick. Evaluation, the benchmark, the console and the orchestrator only ever talk to this
interface, so a new policy is one new module. Policies never mutate the world: they only read it and, where
they predict gains, ask ``world.expected_information_gain``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.proposals import Proposal

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


class Policy(ABC):
    """Turns a world state into ranked proposals. Subclasses set :attr:`name` and implement :meth:`propose`."""

    name: ClassVar[str]

    def reset(self, world: World, seed: int | None = None) -> None:  # noqa: B027 - optional hook
        """Start of an episode on ``world``; stateful policies (static grid, random) re-seed here."""

    @abstractmethod
    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        """Up to ``limit`` proposals, best first, each valid for ``world`` right now; empty means wait."""

    def decide(self, world: World, max_actions: int = 1) -> list[Action]:
        """The actions to apply this tick: the top ``max_actions`` proposals."""
        return [p.action for p in self.propose(world, limit=max_actions)]
