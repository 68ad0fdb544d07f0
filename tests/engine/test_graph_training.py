"""``scythe train --graph``: the teacher's demonstrations on generated and shipped worlds, the clone, its card."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scythe_desktop.engine.rl.graph_training import (
    TRAIN_SEED_LIMIT,
    GraphTrainConfig,
    collect_all,
    train_graph,
    training_worlds,
)

ROOT = Path(__file__).resolve().parents[2]


def _tiny(out: Path, **changes: object) -> GraphTrainConfig:
    options: dict[str, object] = dict(scenarios=2, shipped=("tutorial",), teacher="greedy-reward", episode_ticks=6,
                                      epochs=2, batch_size=8, jobs=1, validation_seeds=(500_000,),
                                      validation_world_seeds=(500,))
    options.update(changes)
    return GraphTrainConfig(out_dir=out, **options)  # type: ignore[arg-type]


def test_the_demonstrations_do_not_depend_on_the_number_of_processes(tmp_path: Path) -> None:
    one = _tiny(tmp_path)
    specs = training_worlds(one)
    assert [w for _, w in specs] == ["mixed:1", "mixed:2", "tutorial"]
    alone = collect_all(one, specs)
    pooled = collect_all(_tiny(tmp_path, jobs=2), specs)
    assert len(alone) == 3 * 6 and alone.episodes == 3
    np.testing.assert_array_equal(alone.actions, pooled.actions)
    np.testing.assert_array_equal(alone.masks, pooled.masks)
    for key, value in alone.obs.items():
        np.testing.assert_array_equal(value, pooled.obs[key], err_msg=key)


def test_a_trained_graph_policy_has_its_card_and_proposes_on_an_unseen_world_in_a_fresh_process(
        tmp_path: Path) -> None:
    path = train_graph(_tiny(tmp_path / "run", command="scythe train --graph (test)"))
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["training_worlds"] == ["mixed:1", "mixed:2", "tutorial"] and card["teacher"] == "greedy-reward"
    assert card["demonstrations"] == card["env_steps"] == 18 and card["training_command"].startswith("scythe train")
    assert 0.0 <= card["fit"]["accuracy"] <= 1.0 and card["layout"]["n_actions"] > 0
    validation = card["validation"]
    assert set(validation["scenarios"]["mixed-500000"]) == {"graph", "static-grid", "greedy-reward"}
    code = (
        "import json\n"
        "from scythe_desktop.engine.policies import make_policy\n"
        "from scythe_desktop.engine.scenario_generator import generate_scenario\n"
        "from scythe_desktop.engine.world import World\n"
        f"p = make_policy('graph', path={str(path)!r})\n"
        "w = World(generate_scenario(900_001), 3, emit_nodes=False); p.reset(w, 3)\n"
        "reasons = []\n"
        "for _ in range(4):\n"
        "    reasons += [w.validate(q.action) for q in p.propose(w, 3)]\n"
        "    w.step(tuple(p.decide(w)))\n"
        "print(json.dumps(reasons))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert all(reason is None for reason in json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(("args", "named"), [
    (["--family", "moonbase"], "moonbase"),
    (["--scenarios", str(TRAIN_SEED_LIMIT)], "scenarios"),
    (["--imitate", "oracle"], "oracle"),
    (["--bc-epochs", "0"], "epochs"),
])
def test_bad_graph_training_options_are_refused_in_one_line(tmp_path: Path, args: list[str], named: str) -> None:
    done = subprocess.run([sys.executable, "-m", "scythe_desktop", "train", "--graph", *args, "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()
