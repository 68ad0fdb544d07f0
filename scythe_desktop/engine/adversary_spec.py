"""The ``[adversary]`` table of a scenario: an evader that steers its own clusters under a stealth budget.

Without the table a world's clusters follow the scenario's random dynamics only (the ``random`` evader).
With it, each tick the evader may also make up to ``moves_per_tick`` moves on its clusters — go quiet,
activate, shift ASN (and move), spawn a decoy — each paid from a stealth budget that refills by
``stealth_regen`` per tick up to ``stealth_budget``. ``evader`` names the scripted evader the world runs when
no agent plays that side (:mod:`scythe_desktop.engine.evaders`). Knows nothing of worlds at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scythe_desktop.engine.scenario_reader import Reader

#: The scripted evaders a scenario may name (their code is in :mod:`scythe_desktop.engine.evaders`).
EVADER_NAMES: Final = ("random", "evade-when-watched", "decoy")
#: Moves an evader may make in one tick, at most: the batched kernels loop over move slots.
MAX_MOVES_PER_TICK: Final = 8


@dataclass(frozen=True)
class Adversary:
    """What the evader may do, and what each move costs in stealth points."""

    evader: str = "random"
    stealth_budget: float = 12.0
    stealth_regen: float = 0.5
    moves_per_tick: int = 2
    cost_quiet: float = 1.0
    cost_activate: float = 1.0
    cost_shift: float = 3.0
    cost_decoy: float = 2.0
    #: How far a shift moves the cluster's centroid (km), in the direction the evader picks.
    shift_km: float = 400.0
    #: Nodes of a decoy: a small, loud cluster that pays the defender nothing when found.
    decoy_nodes: int = 40
    #: Footprint weight (the sum of every observer's footprint at a cluster) above which the scripted
    #: evaders call a cluster watched.
    watched_exposure: float = 0.3

    @property
    def move_costs(self) -> tuple[float, float, float, float, float]:
        """Stealth cost by move kind: none, quiet, activate, shift, decoy."""
        return 0.0, self.cost_quiet, self.cost_activate, self.cost_shift, self.cost_decoy


def parse_adversary(r: Reader) -> Adversary:
    """The ``[adversary]`` table (every key optional; defaults as in :class:`Adversary`)."""
    d = Adversary()
    evader = r.string("evader", d.evader)
    if evader not in EVADER_NAMES:
        raise r.fail("evader", f"expected one of the scripted evaders {list(EVADER_NAMES)}, got {evader!r}")
    budget = r.number("stealth_budget", d.stealth_budget, lo=0.0, hi=1e6)
    return Adversary(
        evader=evader,
        stealth_budget=budget,
        stealth_regen=r.number("stealth_regen", d.stealth_regen, lo=0.0, hi=1e6),
        moves_per_tick=r.integer("moves_per_tick", d.moves_per_tick, lo=1, hi=MAX_MOVES_PER_TICK),
        cost_quiet=r.number("cost_quiet", d.cost_quiet, lo=0.0, hi=1e6),
        cost_activate=r.number("cost_activate", d.cost_activate, lo=0.0, hi=1e6),
        cost_shift=r.number("cost_shift", d.cost_shift, lo=0.0, hi=1e6),
        cost_decoy=r.number("cost_decoy", d.cost_decoy, lo=0.0, hi=1e6),
        shift_km=r.number("shift_km", d.shift_km, lo=0.0, hi=5000.0),
        decoy_nodes=r.integer("decoy_nodes", d.decoy_nodes, lo=1, hi=100_000),
        watched_exposure=r.number("watched_exposure", d.watched_exposure, lo=0.0, hi=1e6),
    )


__all__ = ["EVADER_NAMES", "MAX_MOVES_PER_TICK", "Adversary", "parse_adversary"]
