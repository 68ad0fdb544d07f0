"""``scythe scenario generate``: writes a file the normal loader accepts, stdout without --out, and one clear line
with exit status 2 for a bad family, parameter or seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.cli import main
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.scenario_generator import generate_toml

SCYTHE = str(Path(sys.executable).with_name("scythe"))


def test_generate_writes_a_file_the_loader_accepts(tmp_path: Path) -> None:
    out = tmp_path / "world.toml"
    done = subprocess.run([SCYTHE, "scenario", "generate", "--seed", "11", "--family", "polar", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    scenario = load_scenario(out)
    assert scenario.name == "gen-polar-11"
    assert out.read_text(encoding="utf-8") == generate_toml(11, "polar")


def test_generate_prints_to_stdout_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "generate", "--seed", "4", "--param", "clusters_max=9"]) == 0
    text = capsys.readouterr().out
    assert 'name = "gen-mixed-4-custom-' in text and "--param clusters_max=9" in text
    out = tmp_path / "w.toml"
    out.write_text("keep", encoding="utf-8")
    assert main(["scenario", "generate", "--seed", "4", "--out", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "keep" and "--overwrite" in capsys.readouterr().err
    assert main(["scenario", "generate", "--seed", "4", "--out", str(out), "--overwrite"]) == 0
    assert load_scenario(out).name == "gen-mixed-4"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--family", "atlantis"], "family: unknown family 'atlantis'"),
        (["--param", "clusters_max=500"], "clusters_max: must be an integer in 5..200, got 500"),
        (["--param", "regions=3"], "'regions': unknown parameter"),
        (["--param", "polar_probability=often"], "polar_probability: must be a number in 0..1, got 'often'"),
    ],
)
def test_a_bad_family_or_parameter_is_one_line_and_exit_2(
    extra: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "generate", "--seed", "1", *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and not captured.out


def test_a_negative_seed_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "generate", "--seed", "-2"]) == 2
    assert "seed: must be a non-negative integer, got -2" in capsys.readouterr().err


def test_families_lists_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    from scythe_desktop.engine.scenario_generator import FAMILIES

    assert main(["scenario", "families"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(FAMILIES)
