"""``brain``: the trained network as the prior of a bounded lookahead, with calibrated confidence.

Candidates are the network's ``prior_candidates`` most probable actions (PPO, see :mod:`.ppo`) and
``greedy-reward``'s top ``base_candidates`` (so a prior that is wrong about a state cannot hide the
heuristic's move), plus "wait". The network is asked only on the scenario it was trained on
(:meth:`~scythe_desktop.engine.policies.ppo.PPOPolicy.trained_for`); on any other world its slots go to
greedy-reward, which reads the reward off the scenario itself, so the brain is a rollout over greedy-reward's
``prior_candidates + base_candidates`` best moves there. Each is played out ``samples`` times over ``horizon``
ticks on copies of the world with common random numbers
(:func:`~scythe_desktop.engine.policies.rollout.rollout_returns`); the candidates whose mean seed reward beats
waiting are offered, best first. Nothing whose expected effect is negative is ever offered: when no candidate
pays for itself the brain proposes nothing (the console says "wait"). The confidence of a proposal is the
share of sampled futures in which it beat waiting, mapped to a probability by the isotonic
:class:`~scythe_desktop.engine.rl.calibration.Calibrator` stored in the card (``calibration.brain``), fitted
on validation seeds; the definition of that probability and the horizon are
:mod:`scythe_desktop.engine.rl.calibration`'s.

The lookahead's work grows with the world: on a world with more clusters than ``regional`` (50) the number of
samples shrinks in proportion (never below 2), so the cost per decision stays near regional's; the horizon is
kept (a shorter one cannot see a deploy pay back its set-up fee).

Guarantee: in expectation over the sampled futures never worse than waiting, nor than the best single move
of the network or of greedy-reward followed by waiting (rollout improvement). Weaknesses: after the first
action the lookahead waits, so moves that pay only with a follow-up are undervalued; and it costs
(1 + candidates) × samples worlds × horizon ticks per decision.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.rl.calibration import CONFIDENCE_HORIZON, Calibrator

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


#: Clusters of the world the lookahead's sample count is set for (``regional``).
REFERENCE_CLUSTERS = 50


class BrainPolicy(Policy):
    """See the module docstring."""

    name: ClassVar[str] = "brain"

    def __init__(
        self,
        path: str | Path | None = None,
        prior_candidates: int = 3,
        base_candidates: int = 2,
        horizon: int = CONFIDENCE_HORIZON,
        samples: int = 8,
        calibrator: Calibrator | None = None,
        backend: str = "auto",
    ) -> None:
        from scythe_desktop.engine.policies.greedy_reward import GreedyRewardPolicy
        from scythe_desktop.engine.policies.ppo import PPOPolicy, card_path

        if min(prior_candidates + base_candidates, horizon, samples) < 1:
            raise ValueError(
                f"brain needs candidates, horizon and samples >= 1, got {prior_candidates}+{base_candidates}, "
                f"{horizon}, {samples}"
            )
        self.prior = PPOPolicy(path, backend=backend)  # the network's backend (PPOPolicy's docstring)
        self.base = GreedyRewardPolicy()
        self.prior_candidates, self.base_candidates = prior_candidates, base_candidates
        self.horizon, self.samples = horizon, samples
        if calibrator is None:
            card = card_path(self.prior.path)
            doc = json.loads(card.read_text()).get("calibration", {}) if card.exists() else {}
            calibrator = Calibrator.from_json(doc["brain"]) if "brain" in doc else Calibrator.identity()
        self.calibrator = calibrator
        self._judged_scenario: object = None
        self._prior_fits = False

    def reset(self, world: World, seed: int | None = None) -> None:
        if self._prior_applies(world):
            self.prior.reset(world, seed)
        self.base.reset(world, seed)

    def candidates(self, world: World) -> list[Proposal]:
        """The network's and greedy-reward's candidates, without repeats (network first); greedy-reward's
        alone on a scenario the network was not trained on."""
        seen: set[object] = set()
        out: list[Proposal] = []
        prior = self.prior_candidates if self._prior_applies(world) else 0
        base = self.base_candidates + self.prior_candidates - prior
        options = self.prior.propose(world, prior) if prior else []
        options += self.base.propose(world, base) if base else []
        for p in options:
            if p.action not in seen:
                seen.add(p.action)
                out.append(p)
        return out

    def _prior_applies(self, world: World) -> bool:
        scenario = world.scenario
        if scenario is not self._judged_scenario:  # one fingerprint per world, not per decision
            self._judged_scenario, self._prior_fits = scenario, self.prior.trained_for(scenario)
        return self._prior_fits

    def samples_for(self, world: World) -> int:
        """Lookahead samples on ``world``: ``samples`` up to ``REFERENCE_CLUSTERS`` clusters, fewer beyond."""
        n = max(len(world.clusters), 1)
        return max(min(self.samples, round(self.samples * REFERENCE_CLUSTERS / n)), min(2, self.samples))

    def score(self, world: World) -> tuple[list[Proposal], np.ndarray, np.ndarray]:
        """Candidates, their mean gain over waiting, and the share of futures in which each beat waiting."""
        from scythe_desktop.engine.policies.rollout import judge

        options = self.candidates(world)
        return (options, *judge(world, options, self.horizon, self.samples_for(world)))

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        from scythe_desktop.engine.policies.rollout import offer

        options, gain, share = self.score(world)
        offered = offer(options, gain, share, limit, self.name,
                        f"seed reward over {self.horizon} ticks vs waiting",
                        lambda s: float(self.calibrator(s)))
        by_action = {p.action: p.policy for p in options}
        return [replace(p, explanation=f"{p.explanation} (suggested by {by_action[p.action]})") for p in offered]


__all__ = ["BrainPolicy"]
