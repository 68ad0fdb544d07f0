"""``scythe evaluate`` as a user runs it: a table with CIs on stdout, raw rows as CSV and JSON."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.cli.evaluate import parse_seeds
from scythe_desktop.engine.rl.stats import mean_ci95


def test_evaluate_prints_a_table_and_writes_csv_and_json(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "scythe_desktop",
        "evaluate",
        "--policy",
        "greedy,random,static-grid",
        "--scenario",
        "tutorial",
        "--seeds",
        "3..5",
        "--ticks",
        "15",
        "--no-progress",
        "--csv",
        str(tmp_path / "e.csv"),
        "--json",
        str(tmp_path / "e.json"),
        "--card",
        str(tmp_path / "card.json"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "information_gain_per_dollar" in lines[1] and "violations" in lines[1]
    assert [ln.split()[0] for ln in lines[3:6]] == ["greedy", "random", "static-grid"]
    assert all("±" in ln for ln in lines[3:6])
    # At equal spend by default: greedy re-run at static-grid's spend rate (not at random's, not at its own).
    equal = lines.index(next(ln for ln in lines if ln.startswith("at equal spend")))
    assert [ln.split()[0] for ln in lines[equal + 3 :]] == ["greedy@static-grid"]
    rows = list(csv.DictReader((tmp_path / "e.csv").open()))
    assert len(rows) == 12 and {r["seed"] for r in rows} == {"3", "4", "5"}
    assert all(r["violations"] == "0" for r in rows)
    capped = [r for r in rows if r["policy"] == "greedy@static-grid"]
    assert len(capped) == 3
    summary = json.loads((tmp_path / "e.json").read_text())["summary"]
    assert summary["greedy"]["violations"]["mean"] == 0
    assert summary["random"]["cost"]["n"] == 3
    card = json.loads((tmp_path / "card.json").read_text())["evaluation"]
    assert card["seeds"] == "3..5" and card["scenario"] == "tutorial"
    assert card["summary"] == {k: summary[k] for k in ("greedy", "random", "static-grid")}


def test_evaluate_draws_the_frontier_and_says_who_is_on_it(tmp_path: Path) -> None:
    cmd = [
        sys.executable, "-m", "scythe_desktop", "evaluate", "--policy", "static-grid,random", "--scenario", "tutorial",
        "--seeds", "3,4", "--ticks", "12", "--no-progress", "--equal-spend", "none", "--jobs", "2",
        "--plot", str(tmp_path / "f.png"), "--json", str(tmp_path / "f.json"),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads((tmp_path / "f.json").read_text())
    assert [p["fraction"] for p in doc["frontier"]] == [round(0.1 * k, 1) for k in range(1, 11)]
    assert set(doc["on_frontier"]) == {"static-grid", "random"}
    assert "greedy@50%" in doc["summary"] and "at equal spend" not in done.stdout
    for name, verdict in doc["on_frontier"].items():
        assert f"{name}: {'on or above' if verdict else 'below'} the frontier" in done.stdout


def test_evaluate_rejects_an_unknown_policy_by_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "evaluate", "--policy", "oracle"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "oracle" in done.stderr


def test_seed_ranges_parse_inclusively_and_bad_ones_are_named() -> None:
    assert parse_seeds("3..5") == [3, 4, 5]
    assert parse_seeds("1,7") == [1, 7]
    with pytest.raises(Exception, match="--seeds"):
        parse_seeds("9..2")


def test_confidence_interval_matches_the_t_distribution() -> None:
    ci = mean_ci95([1.0, 2.0, 3.0, 4.0])
    assert ci.mean == 2.5
    assert ci.half_width == pytest.approx(3.182446 * (1.2909944 / 2.0), rel=1e-5)
    assert mean_ci95([5.0]).half_width == 0.0


def _evaluate(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scythe_desktop", "evaluate", "--no-progress", "--equal-spend", "none", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def test_evaluate_against_an_evader_reports_activations_evaded_and_detections(tmp_path: Path) -> None:
    done = _evaluate("--scenario", "adversarial", "--evader", "decoy", "--policy", "static-grid", "--seeds", "3",
                     "--ticks", "30", "--json", str(tmp_path / "e.json"))
    assert done.returncode == 0, done.stderr
    assert "scenario adversarial, evader decoy" in done.stdout
    row = json.loads((tmp_path / "e.json").read_text())["episodes"][0]
    assert row["detections"] > 0 and row["activations_evaded"] >= 0


def test_evaluate_with_an_evader_on_a_world_without_one_says_so() -> None:
    done = _evaluate("--scenario", "tutorial", "--evader", "decoy", "--policy", "random", "--seeds", "1",
                     "--ticks", "2")
    assert done.returncode == 2
    assert "'tutorial' has no [adversary] table" in done.stderr and "adversarial" in done.stderr
