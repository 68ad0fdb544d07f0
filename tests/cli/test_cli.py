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
