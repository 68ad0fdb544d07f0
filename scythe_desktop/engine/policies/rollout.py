"""``rollout``: one-step lookahead by simulation — each candidate action (and waiting) is played out on copies of
the world for ``horizon`` ticks, and the action with the best mean seed reward is proposed.

Candidates are the top ``candidates`` proposals of a base policy (``greedy-reward`` by default) plus "wait". Every
candidate is rolled out ``samples`` times on a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch`
of copies (all candidates × samples in one batch, so the lookahead is a few batched steps, not a Python loop
over worlds); sample ``m`` of every candidate uses the same seed, so the candidates face the same future
(common random numbers) and their difference is the action's own effect. After the first action the copies
wait (the base policy of the rollout is "no further action"), and the return is the seed reward with the
default weights summed over the horizon — the set-up fee and minimum billing of a deploy are paid inside it,
so the planner weighs them against the information the observer will bring. A proposal's confidence is
the fraction of samples in which the action beat waiting.

Guarantee: never worse than waiting in expectation over the sampled futures (Bertsekas' rollout improvement
property, with "wait" as the base policy) — not the stronger guarantee of a rollout on the greedy base policy,
which needs a batched greedy. Weakness: myopic after the first action (later actions are not planned), and the
episode memory of the reward (first detections) is approximated from the belief (a cluster counts as
detected before if it ever produced a report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine import keyed_random as kr
from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.batch.actions import ActionBatch
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import ACTIVATING
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.rl.reward import RewardWeights

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World

_ROLLOUT_STREAM = 0x2011


def rollout_returns(
    world: World,
    actions: list[Action | None],
    horizon: int,
    samples: int,
    weights: RewardWeights | None = None,
    stream: int = _ROLLOUT_STREAM,
) -> NDArray[np.float64]:
    """(len(actions), samples) seed rewards over ``horizon`` ticks of each first action (None = wait) on
    copies of ``world``; sample ``m`` shares its seed across actions. ``stream`` keys the sampled futures
    (another stream gives futures independent of these). The world is not changed."""
    from scythe_desktop.engine.rl.batch_episodes import BatchReward

    k = len(actions)
    base = np.full(samples, world.seed, dtype=np.int64)
    keys = kr.tick_keys(base, world.tick)[kr.Stream.NODE_SEEDS]
    sample_seeds = (kr.bits(keys, np.arange(samples) + stream) >> np.uint64(33)).astype(np.int64)
    batch = WorldBatch.replicate(world._batch, 0, np.tile(sample_seeds, k))
    c = batch.clusters
    c.ever_detected[:] = c.majority >= 0  # reported at least once: its first detection is behind us
    c.credited[:] = (c.state == ACTIVATING) & c.detected
    first = ActionBatch.noop(batch.size)
    for i, action in enumerate(actions):
        if action is None:
            continue
        reason, single = world._check(action)
        if reason is not None or single is None:
            raise ValueError(f"rollout: candidate {action!r} is not valid now: {reason}")
        rows = slice(i * samples, (i + 1) * samples)
        for name in ("kind", "slot", "lon", "lat", "type", "cluster"):
            getattr(first, name)[rows] = getattr(single, name)[0]
    reward = BatchReward(world.scenario, weights or RewardWeights())
    total = np.zeros(batch.size)
    for t in range(horizon):
        before = reward.before(batch)
        step = batch.step(first if t == 0 else None)
        acted = first.kind != 0 if t == 0 else np.zeros(batch.size, dtype=bool)
        parts = reward.components(batch, before, step, acted)
        for v in parts.values():
            total += v
    return total.reshape(k, samples)


class RolloutPolicy(Policy):
    """See the module docstring."""

    name: ClassVar[str] = "rollout"

    def __init__(self, base: Policy | None = None, candidates: int = 4, horizon: int = 30, samples: int = 8) -> None:
        from scythe_desktop.engine.policies.greedy_reward import GreedyRewardPolicy

        if candidates < 1 or horizon < 1 or samples < 1:
            raise ValueError(
                f"rollout needs candidates, horizon and samples >= 1, got {candidates}, {horizon}, {samples}"
            )
        self.base = base or GreedyRewardPolicy()
        self.candidates, self.horizon, self.samples = candidates, horizon, samples

    def reset(self, world: World, seed: int | None = None) -> None:
        self.base.reset(world, seed)

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        options = self.base.propose(world, limit=self.candidates)
        gain, share = judge(world, options, self.horizon, self.samples)
        return offer(options, gain, share, limit, self.name, f"reward over {self.horizon} ticks vs waiting")


def judge(
    world: World, options: list[Proposal], horizon: int, samples: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each option's mean gain in seed reward over waiting, and the share of sampled futures it beat waiting."""
    if not options:
        return np.zeros(0), np.zeros(0)
    returns = rollout_returns(world, [None, *(p.action for p in options)], horizon, samples)
    wait = returns[0]
    return returns[1:].mean(axis=1) - wait.mean(), (returns[1:] > wait).mean(axis=1)


def offer(
    options: list[Proposal],
    gain: NDArray[np.float64],
    share: NDArray[np.float64],
    limit: int,
    policy: str,
    what: str,
    confidence: Callable[[float], float] = float,
) -> list[Proposal]:
    """The options expected to beat waiting, best first (at most ``limit``), with ``confidence(share)``."""
    out: list[Proposal] = []
    for j in np.argsort(-gain, kind="stable"):
        if gain[j] <= 0.0 or len(out) >= limit:
            break  # waiting is expected to pay better than this and every later option
        p = options[int(j)]
        note = f"{p.explanation}; +{gain[j]:.2f} {what}"
        out.append(Proposal(p.action, p.target, p.predicted_information_gain, p.cost_per_hour,
                            float(confidence(float(share[j]))), note, policy))
    return out


__all__ = ["RolloutPolicy", "judge", "offer", "rollout_returns"]
