"""The package boundaries of DESIGN.md, enforced: the import-linter contract and core's dependencies."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "scythe_desktop", tmp_path / "scythe_desktop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_contract_holds_on_the_real_tree(package_copy: Path) -> None:
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/_probe.py", "import PySide6.QtCore\n", "never import Qt"),
        ("engine/_probe.py", "import vispy.scene\n", "never import Qt"),
        ("net/_probe.py", "from OpenGL import GL\n", "never import Qt"),
        ("core/_probe.py", "import torch\n", "numpy and the standard library only"),
        ("render/_probe.py", "import scythe_desktop.engine\n", "render knows no engine"),
    ],
)
def test_contract_fails_when_a_forbidden_import_is_added(
    package_copy: Path, module: str, line: str, contract: str
) -> None:
    (package_copy / "scythe_desktop" / module).write_text(line)
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and contract in result.stdout


def test_core_imports_only_numpy_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "scythe_desktop", "__future__"}
    for path in (ROOT / "scythe_desktop" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed, f"{path.relative_to(ROOT)} imports {name}"
                if top == "scythe_desktop":
                    assert name.startswith("scythe_desktop.core"), f"{path.relative_to(ROOT)} imports {name}"
