"""The frozen binary's entry point (packaging/scythe_entry.py), run from source as PyInstaller would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ENTRY = Path(__file__).resolve().parents[2] / "packaging" / "scythe_entry.py"


def _entry(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ENTRY), *args], capture_output=True, text=True, timeout=60,
                          check=False)


def test_entry_runs_the_scythe_cli() -> None:
    proc = _entry("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("scythe ")


def test_dash_m_runs_a_module_as_main_like_python_does() -> None:
    # The orchestrator's process backend starts observers as `sys.executable -m scythe_desktop observer ...`;
    # in the binary sys.executable is scythe itself.
    proc = _entry("-m", "scythe_desktop", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("scythe ")


def test_dash_m_passes_the_remaining_arguments_and_errors_through() -> None:
    proc = _entry("-m", "scythe_desktop", "no-such-command")
    assert proc.returncode == 2
    assert "no-such-command" in proc.stderr
