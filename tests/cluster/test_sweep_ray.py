"""``scythe sweep`` and ``scythe train --ray`` on a real two-node cluster: a worker node killed mid-sweep, the
driver killed and the sweep resumed, a training run on the cluster, and the sweep file's bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.cluster import ClusterError
from scythe_desktop.cluster.local import LocalCluster, free_port, wait_until
from scythe_desktop.cluster.sweep_config import parse_sweep

TIMESTEPS, STAGE = 3 * 512, 512


def sweep_file(tmp_path: Path, name: str) -> Path:
    """Two trials (seeds 1 and 2), three stages each of a tiny network on ``tutorial``."""
    lines = [
        f'name = "{name}"', f'storage = "{tmp_path / "store"}"', "max_failures = 3",
        "[train]", 'scenario = "tutorial"', f"timesteps = {TIMESTEPS}", f"report_every = {STAGE}", "n_envs = 8",
        "n_steps = 32", "batch_size = 128", "n_epochs = 1", "net = [16, 16]",
        "[search]", "seed = { grid = [1, 2] }", "learning_rate = { loguniform = [1e-4, 1e-3] }",
        "[validation]", 'seeds = "500..501"', "ticks = 10",
        "[asha]", "grace_period = 3",
    ]
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_sweep(config: Path, address: str, *more: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "scythe_desktop", "sweep", str(config), "--ray", address, *more],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def resumable_trials(store: Path, name: str) -> int:
    """Unfinished trials whose checkpoint the sweep's saved experiment state records: what a restart (of a trial,
    or of the whole sweep with --resume) restores from. A checkpoint directory on disk is not enough: the driver
    writes the state after it has processed the trial's report, and syncs it to the storage after that."""
    count = 0
    for state in (store / name).glob("experiment_state-*.json"):
        try:
            trials = json.loads(state.read_text())["trial_data"]
        except (OSError, ValueError, KeyError):  # mid-write: look again at the next poll
            return 0
        for trial, metadata in trials:
            if json.loads(trial)["status"] != "TERMINATED" and re.search(r'"checkpoint_dir_name": "checkpoint_',
                                                                         metadata):
                count += 1
    return count


def finished(tmp_path: Path, name: str, proc: subprocess.Popen[str]) -> list[dict]:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    rows: list[dict] = json.loads((tmp_path / "store" / name / "results.json").read_text())
    assert len(rows) == 2
    assert all(r["status"] == "completed" and r["env_steps"] == TIMESTEPS for r in rows), rows
    card = json.loads((tmp_path / "store" / name / "best" / "policy.json").read_text())
    assert card["sweep"]["name"] == name and len(card["sweep"]["trials"]) == 2
    assert (tmp_path / "store" / name / "best" / "policy.pt").stat().st_size > 0
    assert "best policy:" in out
    return rows


def test_a_worker_node_killed_mid_sweep_only_restarts_its_trial(doomed_cluster: LocalCluster,
                                                                 tmp_path: Path) -> None:
    proc = start_sweep(sweep_file(tmp_path, "kill-node"), doomed_cluster.address)
    try:
        # Both trials (one per node), so the one on the killed node has a checkpoint to restart from.
        wait_until(lambda: resumable_trials(tmp_path / "store", "kill-node") >= 2, 600, "both trials' checkpoints")
        doomed_cluster.kill_worker(1)
        rows = finished(tmp_path, "kill-node", proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert sum(r["starts"] for r in rows) >= 3  # the killed node's trial ran again from its checkpoint


def test_an_interrupted_sweep_resumes_from_its_checkpoints(cluster: LocalCluster, tmp_path: Path) -> None:
    config = sweep_file(tmp_path, "resume")
    proc = start_sweep(config, cluster.address)
    wait_until(lambda: resumable_trials(tmp_path / "store", "resume") >= 1, 600, "a checkpoint in the sweep's state")
    os.killpg(proc.pid, signal.SIGKILL)  # the driver dies; its trials end with it
    proc.wait(timeout=60)
    again = start_sweep(config, cluster.address, "--resume")
    rows = finished(tmp_path, "resume", again)
    assert sum(r["starts"] for r in rows) >= 3


def test_train_on_the_cluster_streams_progress_and_writes_the_files(cluster: LocalCluster, tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "train", "--scenario", "tutorial", "--timesteps", "512", "--envs",
         "8", "--n-steps", "32", "--batch-size", "128", "--n-epochs", "1", "--net", "16,16", "--seed", "3",
         "--out", str(out), "--ray", cluster.address],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "/ 512 env steps, episode reward" in done.stderr
    card = json.loads((out / "policy.json").read_text())
    assert card["timesteps"] >= 512 and card["seed"] == 3
    from scythe_desktop.engine.policies.ppo import PPOPolicy

    assert PPOPolicy(out / "policy.pt").name == "ppo"
    assert (out / "policy.zip").stat().st_size > 0


def test_bad_sweep_input_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    bad = sweep_file(tmp_path, "bad").read_text()
    config = tmp_path / "bad.toml"
    config.write_text(bad.replace("seed = { grid = [1, 2] }", "sed = { grid = [1, 2] }"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = tmp_path / "unwritable.toml"
    unwritable.write_text(sweep_file(tmp_path, "x").read_text().replace(str(tmp_path / "store"), str(blocker / "s")))
    port = free_port()
    cases = [
        (config, "local", "search.sed: unknown key 'sed'"),
        (unwritable, "local", f"storage {blocker / 's'}: not writable"),
        (sweep_file(tmp_path, "y"), f"127.0.0.1:{port}", f"--ray 127.0.0.1:{port}: no Ray head node answers there"),
    ]
    for path, address, message in cases:
        done = subprocess.run([sys.executable, "-m", "scythe_desktop", "sweep", str(path), "--ray", address],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
        assert done.stderr.strip().count("\n") == 0, done.stderr


@pytest.mark.parametrize(("edit", "message"), [
    (("ent_coef = 0.0", "ent_coef = 'x'"), "train.ent_coef: expected a number"),
    (("seed = { grid = [1, 2] }", "seed = { normal = [1, 2] }"), "unknown distribution 'normal'"),
    (("seed = { grid = [1, 2] }", "seed = { uniform = [1, 2] }"), "uniform is for real-valued keys"),
    (("seed = { grid = [1, 2] }", "'reward.cost' = { uniform = [1, 2] }"), "unknown reward weight 'reward.cost'"),
    (("learning_rate = { loguniform = [1e-4, 1e-3] }", "learning_rate = { loguniform = [0, 1e-3] }"),
     "loguniform needs low > 0"),
    (("learning_rate = { loguniform = [1e-4, 1e-3] }", "learning_rate = 0.1"), "learning_rate: expected one"),
    (('seeds = "500..501"', 'seeds = "9..1"'), "validation.seeds"),
    ((f"report_every = {STAGE}", f"report_every = {TIMESTEPS * 2}"), "train.report_every: is more than"),
    (("max_failures = 3", "max_failures = 3\nbogus = 1"), "bogus: unknown key"),
])
def test_sweep_file_errors_name_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    text = sweep_file(tmp_path, "e").read_text().replace("n_epochs = 1", "n_epochs = 1\nent_coef = 0.0")
    assert edit[0] in text
    with pytest.raises(ClusterError) as caught:
        parse_sweep(text.replace(edit[0], edit[1]), Path("sweep.toml"))
    assert message in str(caught.value) and str(caught.value).startswith("sweep.toml: ")


def test_the_example_sweep_file_parses() -> None:
    path = Path(__file__).resolve().parents[2] / "deploy" / "sweep-regional.toml"
    sweep = parse_sweep(path.read_text(), path)
    assert sweep.reports == 4 and {d.key for d in sweep.search} == {"learning_rate", "ent_coef", "seed"}
    assert sweep.validation_seeds == tuple(range(500, 510))
