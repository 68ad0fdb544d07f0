"""``scythe train --ray``: one training run as a task on the cluster (e.g. on its GPU node), its progress
streamed back through a Ray queue, its files (resumable model, policy, card) written here when it ends.

The task trains in a scratch directory of the node it lands on and returns the files' bytes (a few MB), so
no shared filesystem is needed. A run on a GPU (``gpus > 0``) trains its learner on CUDA; the environments
stay on the node's CPUs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from scythe_desktop.cluster import require_ray
from scythe_desktop.engine.rl.training import FINAL_MODEL

#: Seconds between looks at the progress queue while the run trains.
POLL_S = 0.5


def _train_remote(cfg: Any, inputs: dict[str, bytes], progress: Any) -> dict[str, bytes]:
    from scythe_desktop.engine.rl.training import CARD, POLICY_FILE, progress_callback, train

    work = Path(tempfile.mkdtemp(prefix="scythe-train-"))
    try:
        for field, data in inputs.items():  # files named on the client's disk travel with the task
            path = work / f"input-{field}{Path(getattr(cfg, field)).suffix}"
            path.write_bytes(data)
            cfg = replace(cfg, **{field: str(path) if field == "scenario" else path})
        final = train(replace(cfg, out_dir=work, progress_bar=False, resume=False),
                      callbacks=[progress_callback(lambda row: progress.put(row))])
        return {name: (final.parent / name).read_bytes() for name in (FINAL_MODEL, POLICY_FILE, CARD)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def train_on_cluster(cfg: Any, cpus: float = 1.0, gpus: float = 0.0,
                     on_progress: Callable[[dict[str, float]], None] | None = None) -> Path:
    """Run ``cfg`` (a TrainConfig) as one task with ``cpus``/``gpus``; returns ``cfg.out_dir/policy.zip``."""
    ray = require_ray()
    from ray.util.queue import Empty, Queue

    progress = Queue(actor_options={"num_cpus": 0})
    if gpus > 0:
        cfg = replace(cfg, device="cuda")
    task = ray.remote(_train_remote).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
    inputs = {f: Path(getattr(cfg, f)).read_bytes() for f in ("init_from", "demos") if getattr(cfg, f)}
    scenario = Path(cfg.scenario)
    if scenario.suffix == ".toml" and scenario.is_file():
        inputs["scenario"] = scenario.read_bytes()
    ref = task.remote(cfg, inputs, progress)

    def drain() -> None:
        while True:
            try:
                row = progress.get(block=False)
            except Empty:
                return
            if on_progress is not None:
                on_progress(row)

    while not ray.wait([ref], timeout=POLL_S)[0]:
        drain()
    files = ray.get(ref)
    drain()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out / FINAL_MODEL


__all__ = ["train_on_cluster"]
