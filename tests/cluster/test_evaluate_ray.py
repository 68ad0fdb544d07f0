"""``scythe evaluate --ray`` on a real two-node cluster: the local rows, in order; a node killed mid-evaluation
loses and duplicates no episode."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import cloudpickle
import pytest

from scythe_desktop.cluster.connect import connect
from scythe_desktop.cluster.episodes import RayEpisodes
from scythe_desktop.cluster.local import LocalCluster, free_port, wait_until
from scythe_desktop.engine.policies import make_policy
from scythe_desktop.engine.rl.evaluation import EpisodeResult, evaluate, run_episode
from scythe_desktop.engine.scenario import load_scenario

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module


def _timeless(rows: list[EpisodeResult]) -> list[EpisodeResult]:
    """Rows without the one measured field (decide time): everything a run computes."""
    return [replace(r, decide_seconds=0.0) for r in rows]


def _node(_seed: int) -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())


def test_rows_equal_the_local_rows_in_order_and_use_both_nodes(cluster: LocalCluster, joined: None) -> None:
    scenario = load_scenario("tutorial")
    seeds = [3, 4, 5, 6]
    local = evaluate(functools.partial(make_policy, "greedy-reward"), scenario, seeds, ticks=15)
    connect(cluster.address)
    remote = evaluate(functools.partial(make_policy, "greedy-reward"), scenario, seeds, ticks=15,
                      mapper=RayEpisodes())
    assert [r.seed for r in remote] == seeds
    assert _timeless(remote) == _timeless(local)
    assert len(set(RayEpisodes()(_node, range(8)))) == 2  # SPREAD: tasks ran on the head and on the worker


def test_cli_evaluate_on_ray_writes_the_local_episodes(cluster: LocalCluster, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "scythe_desktop", "evaluate", "--policy", "static-grid,greedy", "--scenario",
            "tutorial", "--seeds", "3..5", "--ticks", "12", "--no-progress", "--equal-spend", "none"]
    for name, extra in (("local", []), ("ray", ["--ray", cluster.address])):
        done = subprocess.run([*base, *extra, "--json", str(tmp_path / f"{name}.json")], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    rows = {n: json.loads((tmp_path / f"{n}.json").read_text())["episodes"] for n in ("local", "ray")}
    for row in (*rows["local"], *rows["ray"]):
        row.pop("decide_seconds")
    assert rows["ray"] == rows["local"]
    assert len(rows["ray"]) == 6


def _logged_episode(log: Path, ticks: int, seed: int) -> EpisodeResult:
    """An episode that writes when it starts and ends on which node (to see a retry happen)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    with (log / f"{seed}.log").open("a") as f:
        f.write(f"start {node}\n")
    result = run_episode(make_policy("greedy-reward"), load_scenario("regional"), seed, ticks)
    with (log / f"{seed}.log").open("a") as f:
        f.write(f"end {node}\n")
    return result


def _running_on(log: Path, node: str) -> bool:
    for path in log.glob("*.log"):
        lines = path.read_text().split("\n")
        if f"start {node}" in lines and f"end {node}" not in lines:
            return True
    return False


def test_a_node_killed_mid_evaluation_loses_and_duplicates_nothing(doomed_cluster: LocalCluster, joined: None,
                                                                    tmp_path: Path) -> None:
    import ray

    log = tmp_path / "log"
    log.mkdir()
    seeds, ticks = [11, 12, 13, 14, 15, 16], 120
    connect(doomed_cluster.address)
    head = ray.get_runtime_context().get_node_id()
    worker = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] != head)
    out: list[EpisodeResult] = []
    runner = threading.Thread(
        target=lambda: out.extend(RayEpisodes()(functools.partial(_logged_episode, log, ticks), seeds)))
    runner.start()
    wait_until(lambda: _running_on(log, worker), 240, "an episode in flight on the worker node")
    doomed_cluster.kill_worker(1)
    runner.join(timeout=600)
    assert not runner.is_alive()
    local = [run_episode(make_policy("greedy-reward"), load_scenario("regional"), s, ticks) for s in seeds]
    assert [r.seed for r in out] == seeds  # each once, in order
    assert _timeless(out) == _timeless(local)
    starts = {s: (log / f"{s}.log").read_text().count("start") for s in seeds}
    assert max(starts.values()) >= 2, starts  # the episode on the killed node really ran again
    assert sum(n["Alive"] for n in ray.nodes()) == 1


def test_an_unreachable_address_is_one_clear_line() -> None:
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "scythe_desktop", "evaluate", "--policy", "static-grid",
                           "--scenario", "tutorial", "--seeds", "3", "--ticks", "2", "--ray", f"127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert f"--ray 127.0.0.1:{port}: no Ray head node answers there" in done.stderr


@pytest.mark.parametrize("command", [
    ["evaluate", "--policy", "static-grid", "--seeds", "3", "--ticks", "2", "--ray", "local"],
    ["train", "--timesteps", "64", "--ray", "local"],
    ["sweep", "missing.toml", "--ray", "local"],
])
def test_without_the_cluster_extra_ray_commands_say_what_to_install(command: list[str]) -> None:
    code = ("import sys; sys.modules['ray'] = None; from scythe_desktop.cli import main; "
            f"sys.exit(main({command!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "pip install -e '.[cluster]'" in done.stderr
    assert done.stderr.strip().count("\n") == 0
