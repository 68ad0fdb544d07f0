"""The ``scythe`` entry point: version, and a clear one-line refusal without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scythe_desktop import __version__

SCYTHE = str(Path(sys.executable).with_name("scythe"))


def test_version() -> None:
    out = subprocess.run([SCYTHE, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"scythe {__version__}"


def test_no_display_gives_one_line_how_to_message() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([SCYTHE], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "xvfb-run" in lines[0]
    assert "Traceback" not in out.stderr


def test_unknown_subcommand_is_a_usage_error() -> None:
    out = subprocess.run([SCYTHE, "frobnicate"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_help_lists_every_subcommand_without_importing_them() -> None:
    from scythe_desktop.cli import SUBCOMMANDS

    out = subprocess.run([SCYTHE, "--help"], capture_output=True, text=True, timeout=60, check=True)
    for name in SUBCOMMANDS:
        assert name in out.stdout


def test_every_subcommand_is_one_module_named_after_it() -> None:
    from scythe_desktop.cli import SUBCOMMANDS

    assert {name: module for name, (module, _help) in SUBCOMMANDS.items()} == {
        name: f"scythe_desktop.cli.{name}" for name in SUBCOMMANDS
    }


def test_without_torch_the_version_says_field_build_and_train_refuses_in_one_line() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "from scythe_desktop.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    version = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, timeout=120)
    assert "(field build: no torch, no training)" in version.stdout
    train = subprocess.run([sys.executable, "-c", code, "train", "--timesteps", "64"], capture_output=True,
                           text=True, timeout=120)
    assert train.returncode == 2
    assert train.stderr.strip().count("\n") == 0 and "this build has no torch" in train.stderr
    full = subprocess.run([sys.executable, "-m", "scythe_desktop", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert "field build" not in full.stdout
