"""``scythe bench cluster``: evaluation and sweeps on a real Ray cluster of this machine (a head and worker nodes
started with ``ray start``, one CPU each), and whether the product ever imports Ray.

Keys (one run; ``<key>_target`` beside each):

* ``eval_ray_identical_to_local``: 1 if every episode of the evaluation run as Ray tasks equals the local run's
  (every field but the measured decision time), in the same order.
* ``eval_overhead_pct``: wall time of that Ray evaluation over the local one of the same episodes on as many
  processes as the cluster has CPUs (``--jobs 2``), minus 1, in percent. The cluster is up before the clock
  starts, as a user's would be; both runs pay for starting their worker processes.
* ``sweep_trials_completed_after_node_kill``: trials completed ÷ trials started of a sweep whose worker node is
  SIGKILLed after its first checkpoint (``sweep_trials_started`` and ``sweep_trial_starts`` beside it: the
  attempts, more than the trials when a trial restarted from its checkpoint).
* ``lost_or_duplicated_episodes``: episodes missing, repeated or differing from the local run in an evaluation
  whose worker node is SIGKILLed while it runs an episode.
* ``ray_import_in_console``: 1 if starting the console (a frame rendered under Xvfb) or ``scythe serve`` imports
  ``ray`` (``python -X importtime``).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

TARGETS: dict[str, float] = {
    "eval_ray_identical_to_local": 1,
    "eval_overhead_pct": 15.0,
    "sweep_trials_completed_after_node_kill": 1.0,
    "lost_or_duplicated_episodes": 0,
    "ray_import_in_console": 0,
}


def _imports_ray(stderr: str) -> bool:
    """Whether a ``-X importtime`` log names the ray package."""
    names = (line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:"))
    return any(n == "ray" or n.startswith("ray.") for n in names)


def ray_import_in_product(workdir: Path) -> int:
    """1 if the console's first frame or ``scythe serve``'s start imports ray, else 0."""
    from scythe_desktop.render.display import x_display

    base = [sys.executable, "-X", "importtime", "-m", "scythe_desktop"]
    with x_display() as display:
        console = subprocess.run([*base, "--screenshot", str(workdir / "frame.png"), "--frames", "1"],
                                 env={**os.environ, "DISPLAY": display}, capture_output=True, text=True,
                                 timeout=300, cwd=workdir)
    if console.returncode != 0 or not (workdir / "frame.png").exists():
        raise RuntimeError(f"the console did not render a frame: {console.stderr[-2000:]}")
    serve = subprocess.Popen([*base, "serve", "--port", "0", "--state", str(workdir / "state")], cwd=workdir,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        line = serve.stdout.readline()  # "serving ..." once the server is up
        if not line.startswith("serving"):
            raise RuntimeError(f"scythe serve did not start: {line!r}")
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=60)
    return int(_imports_ray(console.stderr) or _imports_ray(err))


def _timeless(rows: list[Any]) -> list[Any]:
    return [replace(r, decide_seconds=0.0) for r in rows]


def _watch_and_kill(cluster: Any, node: int, ready: Any) -> threading.Thread:
    from scythe_desktop.cluster.local import wait_until

    def run() -> None:
        wait_until(ready, 900, "the moment to kill the worker node")
        cluster.kill_worker(node)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _sweep_config(root: Path, quick: bool) -> Any:
    from scythe_desktop.cluster.sweep_config import parse_sweep

    steps = 512 if quick else 4096
    text = f"""
name = "bench"
storage = "{root / 'store'}"
max_failures = 3
[train]
scenario = "tutorial"
timesteps = {3 * steps}
report_every = {steps}
n_envs = 16
n_steps = 32
batch_size = 256
n_epochs = 1
net = [32, 32]
[search]
seed = {{ grid = [1, 2] }}
[validation]
seeds = "500..501"
ticks = 20
[asha]
grace_period = 3
"""
    return parse_sweep(text, root / "bench.toml")


def run(quick: bool = False) -> dict[str, Any]:
    from scythe_desktop.cluster.connect import connect, disconnect
    from scythe_desktop.cluster.episodes import RayEpisodes
    from scythe_desktop.cluster.local import LocalCluster
    from scythe_desktop.cluster.sweep import run_sweep
    from scythe_desktop.engine.policies import make_policy
    from scythe_desktop.engine.rl.evaluation import evaluate
    from scythe_desktop.engine.scenario import load_scenario

    out: dict[str, Any] = {}
    seeds, ticks = (list(range(1000, 1004)), 30) if quick else (list(range(1000, 1020)), 200)
    scenario = load_scenario("regional")
    policy = functools.partial(make_policy, "greedy-reward")
    with tempfile.TemporaryDirectory(prefix="scythe-bench-cluster-", dir="/tmp") as tmp:
        root = Path(tmp)
        out["ray_import_in_console"] = ray_import_in_product(root)
        t0 = time.perf_counter()
        local = evaluate(policy, scenario, seeds, ticks=ticks, jobs=2)
        local_s = time.perf_counter() - t0
        saved = dict(os.environ)
        cluster = LocalCluster(root / "ray", workers=1)
        try:
            cluster.start()
            os.environ.update(cluster.env)
            connect(cluster.address)
            t0 = time.perf_counter()
            remote = evaluate(policy, scenario, seeds, ticks=ticks, mapper=RayEpisodes())
            ray_s = time.perf_counter() - t0
            out["eval_ray_identical_to_local"] = int(_timeless(remote) == _timeless(local))
            out["eval_overhead_pct"] = round(100.0 * (ray_s / local_s - 1.0), 1)
            out["eval_local_s"], out["eval_ray_s"] = round(local_s, 2), round(ray_s, 2)
            out["eval_episodes"] = len(seeds)

            # A worker node dies while it runs an episode (after the first episode is back).
            done: list[Any] = []
            killer = _watch_and_kill(cluster, 1, lambda: len(done) >= 1)
            for row in RayEpisodes()(functools.partial(_episode, policy, scenario, ticks), seeds):
                done.append(row)
            killer.join(timeout=60)
            expected = {r.seed: r for r in _timeless(local)}
            got = _timeless(done)
            missing = len(set(expected) - {r.seed for r in got})
            repeated = len(got) - len({r.seed for r in got})
            wrong = sum(1 for r in got if expected.get(r.seed) != r)
            out["lost_or_duplicated_episodes"] = missing + repeated + wrong

            # A worker node dies after the sweep's first checkpoint.
            node = cluster.add_worker()
            sweep = _sweep_config(root, quick)
            store = root / "store"
            killer = _watch_and_kill(cluster, node, lambda: any(store.glob("*/*/checkpoint_*")))
            outcome = run_sweep(sweep)
            killer.join(timeout=60)
            rows = outcome.rows
            out["sweep_trials_started"] = len(rows)
            out["sweep_trials_completed_after_node_kill"] = (
                sum(r.status == "completed" for r in rows) / len(rows) if rows else 0.0)
            out["sweep_trial_starts"] = sum(r.starts for r in rows)
        finally:
            disconnect()
            cluster.stop()
            os.environ.clear()
            os.environ.update(saved)
    for key, target in TARGETS.items():
        out[f"{key}_target"] = target
    return out


def _episode(policy: Any, scenario: Any, ticks: int, seed: int) -> Any:
    from scythe_desktop.engine.rl.evaluation import run_episode

    return run_episode(policy(), scenario, seed, ticks)


__all__ = ["TARGETS", "ray_import_in_product", "run"]
