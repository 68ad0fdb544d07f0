"""Evaluate policies over whole episodes and summarise them as a table (mean ± 95% CI per metric).

Every policy — PPO and each baseline — runs through :func:`run_episode` on the same worlds (same scenario,
same seeds, same episode length, same number of actions per tick), so the numbers compare like with like.
Metrics per episode: the **seed reward** with the default weights (the product's objective, whatever weights a
policy was trained with; its components are in ``reward_components``), entropy reduction (bits), information
gain (bits of entropy removed by observation), clusters detected, cost ($ spent, running cost and one-off
charges), information gain per dollar, and constraint violations (actions the world refused — must be 0 for
every policy, since each proposes only valid actions). :func:`capped` re-runs a spending baseline with its
budget capped at another policy's spend rate (comparisons at equal spend); :func:`dominated` says whether an
(information, cost) point lies below a frontier of such runs.
This module knows nothing of the CLI; it returns plain records and formats them.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.rl.stats import MeanCI, mean_ci95
from scythe_desktop.engine.scenario import Scenario

EPISODE_SEED_STRIDE = 1_000_003  # keeps the episodes of neighbouring seeds apart

#: How the episodes of :func:`evaluate` run elsewhere: given the one-episode function and the world seeds, the
#: results in the order of the seeds, each exactly once (e.g. :class:`scythe_desktop.cluster.RayEpisodes`).
EpisodeMap = Callable[[Callable[[int], "EpisodeResult"], Sequence[int]], Iterable["EpisodeResult"]]

METRICS: tuple[str, ...] = (
    "seed_reward",
    "entropy_reduction",
    "information_gain",
    "clusters_detected",
    "cost",
    "information_gain_per_dollar",
    "early_activations",
    "activations_evaded",
    "detections",
    "flaps",
    "violations",
    "decide_ms",
)


@dataclass(frozen=True)
class EpisodeResult:
    policy: str
    seed: int
    ticks: int
    entropy_reduction: float
    information_gain: float
    clusters_detected: int
    cost: float
    information_gain_per_dollar: float
    violations: int
    actions: int
    decide_seconds: float  # total time spent inside policy.decide
    seed_reward: float = 0.0
    reward_components: dict[str, float] = field(default_factory=dict)
    flaps: int = 0  # observers retired or moved inside the minimum billing period of their last placement
    activations_evaded: int = 0  # activations completed unseen (what an evader wants)
    detections: int = 0  # real clusters detected, summed over ticks

    @property
    def spend_per_hour(self) -> float:
        """Mean spend rate of the episode ($/h)."""
        return self.cost / max(self.ticks * self.tick_hours, 1e-12)

    tick_hours: float = 1.0 / 60.0

    @property
    def early_activations(self) -> float:
        """Clusters caught while activating (from the seed reward's component, default weight)."""
        from scythe_desktop.engine.rl.reward import RewardWeights

        return self.reward_components.get("early_activation", 0.0) / RewardWeights().early_activation

    @property
    def decide_ms(self) -> float:
        """Mean time per tick inside the policy's decide (ms)."""
        return 1000.0 * self.decide_seconds / max(self.ticks, 1)


def run_episode(
    policy: Policy,
    scenario: Scenario,
    seed: int,
    ticks: int,
    actions_per_tick: int = 1,
    evader_model: Path | None = None,
) -> EpisodeResult:
    """One episode of ``ticks`` world ticks with ``policy`` deciding before each tick (and, on an adversarial
    world, the evader network ``evader_model`` playing the evader instead of the scenario's own)."""
    import time

    from scythe_desktop.engine.rl.episode import EpisodeMeter, make_world

    world = make_world(scenario, seed)
    if evader_model is not None:
        from scythe_desktop.engine.rl.evader_model import load_evader

        world.batch.evader = load_evader(evader_model, scenario)
    policy.reset(world, seed)
    meter = EpisodeMeter(world)
    decide_s = 0.0
    for _ in range(ticks):
        t0 = time.perf_counter()
        actions = policy.decide(world, max_actions=actions_per_tick)
        decide_s += time.perf_counter() - t0
        meter.step(world, actions)
    m = meter.summary(world)
    return EpisodeResult(
        policy=policy.name,
        seed=seed,
        ticks=ticks,
        entropy_reduction=m.entropy_reduction,
        information_gain=m.information_gain,
        clusters_detected=m.clusters_detected,
        cost=m.cost,
        information_gain_per_dollar=m.information_gain / m.cost if m.cost > 0 else math.nan,
        violations=m.violations,
        actions=m.actions,
        decide_seconds=decide_s,
        seed_reward=m.seed_reward,
        reward_components=m.reward_components,
        flaps=m.flaps,
        activations_evaded=m.activations_evaded,
        detections=m.detections,
        tick_hours=scenario.tick_hours,
    )


def evaluate(
    make_policy: Callable[[], Policy],
    scenario: Scenario,
    seeds: Iterable[int],
    episodes_per_seed: int = 1,
    ticks: int = 200,
    actions_per_tick: int = 1,
    on_episode: Callable[[EpisodeResult], None] | None = None,
    jobs: int = 1,
    evader_model: Path | None = None,
    mapper: EpisodeMap | None = None,
) -> list[EpisodeResult]:
    """Episodes for every seed (episode ``k`` of seed ``s`` uses world seed ``s + EPISODE_SEED_STRIDE * k``),
    in that order. ``jobs > 1`` runs them in that many processes, ``mapper`` wherever it sends them (a Ray
    cluster); every episode is the same as in one process (each builds its own policy and world from the
    seed), so the rows are identical, in order, except for the measured ``decide_seconds``."""
    tasks = [s + EPISODE_SEED_STRIDE * k for s in seeds for k in range(episodes_per_seed)]
    one = functools.partial(_episode, make_policy, scenario, ticks=ticks, actions_per_tick=actions_per_tick,
                            evader_model=evader_model)
    results: list[EpisodeResult] = []

    def take(rows: Iterable[EpisodeResult]) -> list[EpisodeResult]:
        for r in rows:
            results.append(r)
            if on_episode is not None:
                on_episode(r)
        return results

    if mapper is not None:
        return take(mapper(one, tasks))
    if jobs <= 1 or len(tasks) <= 1:
        return take(map(one, tasks))
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_one_thread) as pool:
        return take(pool.map(one, tasks))


def _episode(
    make_policy: Callable[[], Policy], scenario: Scenario, seed: int, ticks: int, actions_per_tick: int,
    evader_model: Path | None = None,
) -> EpisodeResult:
    return run_episode(make_policy(), scenario, seed, ticks, actions_per_tick, evader_model)


def _one_thread() -> None:
    """Worker processes share the cores: one math thread each (torch's default would oversubscribe)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def capped(scenario: Scenario, budget_per_hour: float) -> Scenario:
    """``scenario`` with its budget capped at ``budget_per_hour`` (never raised, never below
    :func:`initial_spend`): a baseline run on it spends at most that rate, for comparisons at equal spend."""
    if not math.isfinite(budget_per_hour) or budget_per_hour < 0:
        raise ValueError(f"budget cap must be a finite number >= 0, got {budget_per_hour!r}")
    cap = min(max(budget_per_hour, initial_spend(scenario)), scenario.constraints.budget_per_hour)
    return replace(scenario, constraints=replace(scenario.constraints, budget_per_hour=cap))


def initial_spend(scenario: Scenario) -> float:
    """The least hourly budget that places the scenario's initial observers (each deploy's running rate plus
    its set-up fee): a cap never goes below it, or the capped world could not be built at all. A policy
    that decommissions its initial observers can spend less; the capped baseline then keeps this floor."""
    running = need = 0.0
    for o in scenario.initial_observers:
        kind = scenario.observer_type(o.observer_type)
        running += kind.cost_per_hour
        need = max(need, running + kind.setup_fee)
    return need


def dominated(point: tuple[float, float], frontier: Iterable[tuple[float, float]]) -> bool:
    """Whether an (information, cost) point is beaten by a frontier point with both more information and a
    lower cost (a point on or above the frontier is not dominated)."""
    info, cost = point
    return any(f_info > info and f_cost < cost for f_info, f_cost in frontier)


def summarise(results: Sequence[EpisodeResult]) -> dict[str, dict[str, MeanCI]]:
    """policy name -> metric -> mean ± CI, in the order policies first appear."""
    table: dict[str, dict[str, MeanCI]] = {}
    for name in dict.fromkeys(r.policy for r in results):
        rows = [r for r in results if r.policy == name]
        table[name] = {
            m: mean_ci95([float(getattr(r, m)) for r in rows if math.isfinite(getattr(r, m))]) for m in METRICS
        }
    return table


def format_table(summary: dict[str, dict[str, MeanCI]]) -> str:
    """A fixed-width text table: one row per policy, ``mean ± ci`` per metric."""
    headers = ["policy", *METRICS]
    rows = [[name, *(str(stats[m]) for m in METRICS)] for name, stats in summary.items()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def to_csv(results: Sequence[EpisodeResult]) -> str:
    """Raw per-episode records as CSV (one row per episode)."""
    buf = io.StringIO()
    names = sorted({k for r in results for k in r.reward_components})
    fields = [f for f in EpisodeResult.__dataclass_fields__ if f != "reward_components"]
    writer = csv.DictWriter(buf, fieldnames=fields + [f"reward_{k}" for k in names])
    writer.writeheader()
    for r in results:
        row = asdict(r)
        parts = row.pop("reward_components")
        writer.writerow({**row, **{f"reward_{k}": parts.get(k, 0.0) for k in names}})
    return buf.getvalue()


def to_json(results: Sequence[EpisodeResult]) -> str:
    """Summary (mean, ci95, n per metric and policy) plus the raw episodes, as one JSON document."""
    summary = {
        name: {m: {"mean": c.mean, "ci95": c.half_width, "n": c.n} for m, c in stats.items()}
        for name, stats in summarise(results).items()
    }
    return json.dumps({"summary": summary, "episodes": [asdict(r) for r in results]}, indent=2)
