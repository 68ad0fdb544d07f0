"""``scythe sweep``: Ray Tune over training configurations, ASHA early stopping on the validation seed reward.

A trial trains MaskablePPO (:func:`scythe_desktop.engine.rl.training.train`) in stages of ``report_every`` env
steps. After each stage it scores the network alone on the validation seeds with the **default** reward
weights (whatever shaping it trained with) and reports that score with a checkpoint: the resumable model, the
policy file and its card. ASHA stops the trials that fall behind at each rung. A trial whose worker or node
dies is restarted from its last checkpoint (``max_failures``); an interrupted sweep continues with
``--resume``. At the end: a table of every trial (also ``results.csv`` and ``results.json`` under the sweep's
directory) and the best trial's policy exported with its card to ``best/`` (or ``--out``).

A stage boundary restarts the trial's environments from their seeds (the model, its optimizer and its step
count carry over), so a staged run is not bit-identical to one ``scythe train`` of the same length.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from scythe_desktop.cluster import ClusterError, require_ray
from scythe_desktop.cluster.sweep_config import SweepConfig

METRIC: Final = "validation_seed_reward"
TRIAL_STATE: Final = "trial.json"


def trial_train_config(settings: dict[str, Any], sweep: SweepConfig, work: Path) -> Any:
    """The :class:`TrainConfig` of one trial's settings (fixed keys plus the drawn ones), training in
    ``work``; a generated scenario is written there first."""
    from scythe_desktop.engine.rl.reward import RewardWeights
    from scythe_desktop.engine.rl.training import TrainConfig

    scenario = str(settings.get("scenario", "regional"))
    if "scenario_family" in settings:
        from scythe_desktop.engine.scenario_generator import generate_toml

        path = work / "scenario.toml"
        path.write_text(generate_toml(int(settings.get("scenario_seed", 0)), str(settings["scenario_family"])))
        scenario = str(path)
    rewards = {k.removeprefix("reward."): float(v) for k, v in settings.items() if k.startswith("reward.")}
    plain = {k: settings[k] for k in ("learning_rate", "ent_coef", "gamma", "n_steps", "n_epochs",
                                      "batch_size", "seed") if k in settings}
    return TrainConfig(
        scenario=scenario,
        timesteps=sweep.report_every,
        out_dir=work,
        n_envs=sweep.n_envs,
        checkpoint_every=sweep.timesteps + 1,  # the trial checkpoints at its own stage boundaries
        progress_bar=False,
        net_arch=tuple(settings.get("net", (256, 256))),
        env_kwargs={"reward_weights": RewardWeights(**rewards)} if rewards else {},
        **plain,
    )


def validate(policy_file: Path, scenario: str, seeds: tuple[int, ...], ticks: int) -> dict[str, float]:
    """The network alone on ``seeds``: mean seed reward (default weights), its 95% CI, mean cost."""
    import functools

    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.evaluation import evaluate
    from scythe_desktop.engine.rl.stats import mean_ci95
    from scythe_desktop.engine.scenario import load_scenario

    rows = evaluate(functools.partial(make_policy, "ppo", path=policy_file), load_scenario(scenario), seeds,
                    ticks=ticks)
    reward = mean_ci95([r.seed_reward for r in rows])
    return {METRIC: reward.mean, f"{METRIC}_ci95": reward.half_width,
            "validation_cost": sum(r.cost for r in rows) / len(rows)}


def _trial(config: dict[str, Any], sweep: SweepConfig) -> None:
    """The Tune trainable: staged training, a validation and a checkpoint per stage."""
    import torch
    from ray import tune

    from scythe_desktop.engine.rl.training import CHECKPOINT_PREFIX, FINAL_MODEL, POLICY_FILE, train

    torch.set_num_threads(1)  # a trial is given one CPU
    settings = {**sweep.fixed, **config}
    work = Path(tempfile.mkdtemp(prefix="scythe-trial-"))
    stage = starts = 0
    restored = tune.get_checkpoint()
    if restored is not None:
        with restored.as_directory() as saved:
            shutil.copytree(saved, work, dirs_exist_ok=True)
        state = json.loads((work / TRIAL_STATE).read_text())
        stage, starts = int(state["stage"]), int(state["starts"])
    starts += 1  # this attempt: more than 1 means the trial was restarted from a checkpoint
    cfg = trial_train_config(settings, sweep, work)
    try:
        while stage < sweep.reports:
            stage += 1
            steps = min(stage * sweep.report_every, sweep.timesteps)
            final = train(replace(cfg, timesteps=steps, resume=stage > 1))
            checkpoints = work / "checkpoints"
            shutil.rmtree(checkpoints, ignore_errors=True)
            checkpoints.mkdir()
            shutil.copy(final, checkpoints / f"{CHECKPOINT_PREFIX}_{steps}_steps.zip")  # what resume= loads
            (work / TRIAL_STATE).write_text(json.dumps({"stage": stage, "env_steps": steps, "starts": starts}))
            score = validate(work / POLICY_FILE, cfg.scenario, sweep.validation_seeds, sweep.validation_ticks)
            (work / FINAL_MODEL).unlink()  # the checkpoints/ copy is the resumable one
            tune.report({**score, "env_steps": steps, "stage": stage, "starts": starts},
                        checkpoint=tune.Checkpoint.from_directory(str(work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def param_space(sweep: SweepConfig) -> dict[str, Any]:
    from ray import tune

    make: dict[str, Callable[..., Any]] = {
        "choice": lambda v: tune.choice(list(v)),
        "grid": lambda v: tune.grid_search(list(v)),
        "uniform": lambda v: tune.uniform(*v),
        "loguniform": lambda v: tune.loguniform(*v),
        "randint": lambda v: tune.randint(*v),
    }
    return {d.key: make[d.kind](d.values) for d in sweep.search}


def check_storage(path: Path) -> Path:
    """``path`` made absolute, created and proven writable, or a ClusterError naming it."""
    path = path.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".scythe-write-test-"):
            pass
    except OSError as exc:
        raise ClusterError(f"storage {path}: not writable ({exc.strerror or exc})") from None
    return path


@dataclass(frozen=True)
class TrialRow:
    """One trial of a finished sweep."""

    trial_id: str
    config: dict[str, Any]
    status: str  # "completed" (every stage), "stopped" (by ASHA) or "error"
    stages: int
    env_steps: int
    score: float
    score_ci95: float
    cost: float
    starts: int = 1  # attempts: a trial restarted after a failure (its node died, say) has more than 1
    error: str = ""


def _rows(grid: Any, sweep: SweepConfig) -> list[TrialRow]:
    rows = []
    for result in grid:
        m = result.metrics or {}
        stages = int(m.get("stage", 0))
        status = "error" if result.error else ("completed" if stages >= sweep.reports else "stopped")
        trial_id = str(m.get("trial_id") or Path(result.path).name)
        rows.append(TrialRow(trial_id, {**sweep.fixed, **(result.config or {})}, status, stages,
                             int(m.get("env_steps", 0)), float(m.get(METRIC, math.nan)),
                             float(m.get(f"{METRIC}_ci95", math.nan)), float(m.get("validation_cost", math.nan)),
                             int(m.get("starts", 1)), str(result.error).splitlines()[0] if result.error else ""))
    return sorted(rows, key=lambda r: r.trial_id)


def format_rows(rows: list[TrialRow]) -> str:
    headers = ["trial", "status", "stages", "starts", "env_steps", METRIC, "cost", "config"]
    body = [[r.trial_id, r.status, str(r.stages), str(r.starts), f"{r.env_steps:,}",
             f"{r.score:.1f} ± {r.score_ci95:.1f}", f"{r.cost:.1f}", json.dumps(r.config, sort_keys=True)]
            for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def _write_results(rows: list[TrialRow], where: Path) -> None:
    records = [r.__dict__ for r in rows]
    (where / "results.json").write_text(json.dumps(records, indent=2, default=str) + "\n")
    with (where / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(TrialRow.__dataclass_fields__))
        writer.writeheader()
        for r in records:
            writer.writerow({**r, "config": json.dumps(r["config"], sort_keys=True)})


def _export_best(grid: Any, rows: list[TrialRow], sweep: SweepConfig, dest: Path) -> Path:
    """The best trial's best checkpoint: policy.pt and its card (with the sweep's every trial) in ``dest``."""
    from scythe_desktop.engine.rl.training import CARD, POLICY_FILE

    best = grid.get_best_result(metric=METRIC, mode="max", scope="all")
    saved_points = [(c, m) for c, m in (best.best_checkpoints or []) if math.isfinite(m.get(METRIC, math.nan))]
    if not saved_points:
        raise ClusterError(f"sweep {sweep.name}: no trial reported a checkpoint")
    checkpoint, metrics = max(saved_points, key=lambda cm: cm[1][METRIC])
    dest.mkdir(parents=True, exist_ok=True)
    with checkpoint.as_directory() as saved:
        shutil.copy(Path(saved) / POLICY_FILE, dest / POLICY_FILE)
        card = json.loads((Path(saved) / CARD).read_text())
        state = json.loads((Path(saved) / TRIAL_STATE).read_text())
    card["sweep"] = {
        "name": sweep.name,
        "selection": f"the checkpoint with the best {METRIC} (network alone, default reward weights, validation "
                     f"seeds {sweep.validation_seeds[0]}..{sweep.validation_seeds[-1]}, {sweep.validation_ticks} "
                     "ticks) over every trial and stage",
        "best_trial_config": {**sweep.fixed, **best.config},
        "best_env_steps": state["env_steps"],
        METRIC: metrics.get(METRIC),
        "trials": [r.__dict__ for r in rows],
    }
    (dest / CARD).write_text(json.dumps(card, indent=2, default=str) + "\n")
    return dest / POLICY_FILE


@dataclass(frozen=True)
class SweepOutcome:
    rows: list[TrialRow]
    directory: Path
    best_policy: Path


def run_sweep(sweep: SweepConfig, resume: bool = False, out: Path | None = None) -> SweepOutcome:
    """Run (or, with ``resume``, continue) the sweep on the joined cluster."""
    require_ray()
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    storage = check_storage(sweep.storage)
    directory = storage / sweep.name
    trainable = tune.with_resources(tune.with_parameters(_trial, sweep=sweep), {"cpu": 1})
    if resume:
        if not tune.Tuner.can_restore(str(directory)):
            raise ClusterError(f"--resume: no sweep to resume at {directory}")
        tuner = tune.Tuner.restore(str(directory), trainable, resume_errored=True)
    else:
        if directory.exists() and any(directory.iterdir()):
            raise ClusterError(f"sweep {sweep.name}: {directory} already holds a sweep; pass --resume to continue "
                               "it or choose another name")
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(sweep),
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="max",
                scheduler=ASHAScheduler(time_attr="training_iteration", max_t=sweep.reports,
                                        grace_period=min(sweep.grace_period, sweep.reports),
                                        reduction_factor=sweep.reduction_factor),
                num_samples=sweep.samples,
                max_concurrent_trials=sweep.max_concurrent or None,
            ),
            run_config=tune.RunConfig(
                name=sweep.name,
                storage_path=str(storage),
                failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
                # Keep each trial's best stage (the export) and its latest (Tune keeps that for resuming); a
                # num_to_keep also makes Tune save the experiment state at every checkpoint, so --resume after
                # a crash restarts each trial from its newest stage, not from scratch.
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1, checkpoint_score_attribute=METRIC,
                                                        checkpoint_score_order="max"),
                verbose=0,
            ),
        )
    grid = tuner.fit()
    rows = _rows(grid, sweep)
    _write_results(rows, directory)
    best = _export_best(grid, rows, sweep, out or directory / "best")
    return SweepOutcome(rows, directory, best)


__all__ = ["METRIC", "SweepOutcome", "TrialRow", "format_rows", "param_space", "run_sweep", "trial_train_config",
           "validate"]
