"""Evaluation episodes as Ray tasks: one task per episode, spread over the nodes, retried when a node dies.

Each episode builds its own world and policy from its seed, so a task computes the same numbers wherever it
runs and however often it is retried. The results are fetched once each, in the order of the seeds: a retried
episode is never lost and never counted twice (``tests/cluster``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scythe_desktop.cluster import require_ray

if TYPE_CHECKING:
    from scythe_desktop.engine.rl.evaluation import EpisodeResult


def _run(one: Callable[[int], EpisodeResult], seed: int) -> EpisodeResult:
    # One core per task: Ray sets OMP_NUM_THREADS to the task's num_cpus, which torch (if a policy needs it)
    # reads when it is first imported, so nothing is imported here for the policies that never use it.
    return one(seed)


@dataclass(frozen=True)
class RayEpisodes:
    """An :data:`~scythe_desktop.engine.rl.evaluation.EpisodeMap` on the joined Ray cluster."""

    max_retries: int = 3  # per task, on worker or node failure
    spread: bool = True  # SPREAD over the nodes (Ray prefers the local node otherwise)

    def __call__(self, one: Callable[[int], EpisodeResult], seeds: Sequence[int]) -> Iterator[EpisodeResult]:
        ray = require_ray()
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": self.max_retries}
        if self.spread:
            options["scheduling_strategy"] = "SPREAD"
        task = ray.remote(_run).options(**options)
        shared = ray.put(one)
        refs = [task.remote(shared, s) for s in seeds]
        for ref in refs:
            yield ray.get(ref)


__all__ = ["RayEpisodes"]
