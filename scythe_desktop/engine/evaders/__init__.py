"""Evaders: who plays the infrastructure's side of an adversarial world (the one registry).

An evader turns an :class:`~scythe_desktop.engine.batch.evader.EvaderView` of B worlds into
:class:`~scythe_desktop.engine.batch.evader.EvaderMoves` (or ``None``: no moves this tick). It sees only what
the view holds — its own clusters, the observers and their footprints — never the defender's belief. The
scripted ones are deterministic and vectorised over worlds; a scenario's ``[adversary] evader`` names the
one its worlds run when no agent plays that side.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from scythe_desktop.engine.adversary_spec import EVADER_NAMES, Adversary
from scythe_desktop.engine.batch.evader import EvaderMoves, EvaderView
from scythe_desktop.engine.evaders.scripted import DecoyEvader, WatchedEvader

if TYPE_CHECKING:
    from scythe_desktop.engine.scenario import Scenario


class Evader(Protocol):
    name: str

    def moves(self, view: EvaderView) -> EvaderMoves | None: ...


def make_evader(name: str, adversary: Adversary) -> Evader | None:
    """The scripted evader called ``name``; ``None`` for ``random`` (the scenario's dynamics alone)."""
    if name == "random":
        return None
    if name == "evade-when-watched":
        return WatchedEvader(adversary)
    if name == "decoy":
        return DecoyEvader(adversary)
    raise ValueError(f"unknown evader {name!r}; expected one of {list(EVADER_NAMES)}")


def with_evader(scenario: Scenario, name: str | None) -> Scenario:
    """``scenario`` with ``name`` playing its evader (``None``: as the scenario says). A world without an
    ``[adversary]`` table has no evader to replace: that is a ValueError naming the scenario."""
    if name is None:
        return scenario
    if name not in EVADER_NAMES:
        raise ValueError(f"unknown evader {name!r}; expected one of {list(EVADER_NAMES)}")
    if scenario.adversary is None:
        raise ValueError(f"scenario {scenario.name!r} has no [adversary] table, so no evader plays in it; "
                         "use one that has (e.g. adversarial)")
    return replace(scenario, adversary=replace(scenario.adversary, evader=name))


__all__ = ["EVADER_NAMES", "DecoyEvader", "Evader", "WatchedEvader", "make_evader", "with_evader"]
