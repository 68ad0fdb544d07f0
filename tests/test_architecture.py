"""The package boundaries of docs/architecture.md, enforced: the import-linter contracts (and that they bite),
core's dependencies, who may speak gRPC, module sizes and copied code."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scythe_desktop"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
GENERATED = PACKAGE / "protocol" / "proto"

#: The only packages that may import grpc, protobuf or the generated scythe.v1 messages.
WIRE_PACKAGES = ("protocol", "orchestrator", "client", "recording")
#: Benchmarks of the gRPC stream itself (a bare keyframe server, a hub behind real servicers): measuring the
#: wire is their job, so they build servers and channels directly.
WIRE_BENCHMARKS = frozenset({"scythe_desktop/bench/net.py", "scythe_desktop/bench/keyframe_pump.py"})
MAX_MODULE_LINES = 500
MAX_MAIN_WINDOW_LINES = 350
DUPLICATE_BLOCK_LINES = 6


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300,
    )


def _hand_written() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if GENERATED not in p.parents)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(PACKAGE, tmp_path / "scythe_desktop", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_contract_holds_on_the_real_tree(package_copy: Path) -> None:
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_contract_names_the_whole_direction() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = [c["layers"] for c in contracts if c["type"] == "layers"]
    assert layers == [[
        "scythe_desktop.console",
        "scythe_desktop.recording | scythe_desktop.render",
        "scythe_desktop.client",
        "scythe_desktop.orchestrator",
        "scythe_desktop.protocol",
        "scythe_desktop.engine",
        "scythe_desktop.core",
    ]]


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/_probe.py", "import PySide6.QtCore\n", "never import Qt"),
        ("engine/_probe.py", "import vispy.scene\n", "never import Qt"),
        ("orchestrator/_probe.py", "from OpenGL import GL\n", "never import Qt"),
        ("console/model/_probe.py", "import PySide6.QtWidgets\n", "never import Qt"),
        ("core/_probe.py", "import torch\n", "numpy and the standard library only"),
        ("render/_probe.py", "import scythe_desktop.engine\n", "render knows no engine"),
        # the layers, crossed upwards one step at a time
        ("core/_probe.py", "import scythe_desktop.engine.actions\n", "layers:"),
        ("engine/_probe.py", "import scythe_desktop.protocol.wire\n", "layers:"),
        ("protocol/_probe.py", "import scythe_desktop.orchestrator.hub\n", "layers:"),
        ("orchestrator/_probe.py", "import scythe_desktop.client.grpc_client\n", "layers:"),
        ("client/_probe.py", "import scythe_desktop.recording.reader\n", "layers:"),
        ("recording/_probe.py", "import scythe_desktop.render.nodes\n", "layers:"),
        ("recording/_probe.py", "import scythe_desktop.console.sources\n", "layers:"),
        ("console/_probe.py", "import scythe_desktop.orchestrator.server\n",
         "only through scythe_desktop.client.embedded"),
        ("client/source.py+", "import scythe_desktop.orchestrator.hub\n", "only in its embedded entry point"),
        ("orchestrator/dispatch.py+", "import grpc\n", "the action and field desks speak domain types"),
        ("orchestrator/requests.py+", "from google.protobuf import json_format\n",
         "the action and field desks speak domain types"),
        ("orchestrator/field_desk.py+", "from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2\n",
         "the action and field desks speak domain types"),
        ("console/_probe.py", "import grpc\n", "speak gRPC or protobuf"),
        ("console/_probe.py", "from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2\n",
         "speak gRPC or protobuf"),
    ],
)
def test_contract_fails_when_a_forbidden_import_is_added(
    package_copy: Path, module: str, line: str, contract: str
) -> None:
    if module.endswith("+"):  # the import added to an existing module
        target = package_copy / "scythe_desktop" / module[:-1]
        target.write_text(target.read_text() + line)
    else:
        (package_copy / "scythe_desktop" / module).write_text(line)
    result = _lint(package_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and contract in result.stdout


def test_core_imports_only_numpy_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "scythe_desktop", "__future__"}
    for path in (PACKAGE / "core").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in allowed, f"{_rel(path)} imports {name}"
            if top == "scythe_desktop":
                assert name.startswith("scythe_desktop.core"), f"{_rel(path)} imports {name}"


def test_only_the_wire_packages_import_grpc_or_the_generated_messages() -> None:
    offenders = []
    for path in _hand_written():
        inside = path.relative_to(PACKAGE).parts[0] in WIRE_PACKAGES or _rel(path) in WIRE_BENCHMARKS
        for name in _imports(path):
            wire = name.split(".")[0] in ("grpc", "grpc_health", "grpc_reflection") or name.startswith(
                ("google.protobuf", "scythe_desktop.protocol.proto"))
            if wire and not inside:
                offenders.append(f"{_rel(path)} imports {name}")
    assert offenders == []


def test_no_hand_written_module_is_over_500_lines() -> None:
    sizes = {_rel(p): len(p.read_text().splitlines()) for p in _hand_written()}
    over = {path: n for path, n in sizes.items() if n > MAX_MODULE_LINES}
    assert over == {}


def test_main_window_is_thin() -> None:
    tree = ast.parse((PACKAGE / "console" / "main_window.py").read_text())
    [window] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MainWindow"]
    assert window.end_lineno is not None
    assert window.end_lineno - window.lineno + 1 <= MAX_MAIN_WINDOW_LINES


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, whitespace-normalised text) of the lines that carry code: no blanks, comments,
    docstrings or import lines, which would make every pair of modules look alike."""
    source = path.read_text()
    skip: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            skip.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
        if isinstance(node, ast.Import | ast.ImportFrom):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    out = []
    for number, text in enumerate(source.splitlines(), start=1):
        normal = " ".join(text.split())
        if number in skip or not normal or normal.startswith("#"):
            continue
        out.append((number, normal))
    return out


def duplicate_blocks(paths: list[Path], size: int = DUPLICATE_BLOCK_LINES) -> list[tuple[str, int, str, int]]:
    """Every pair of places where ``size`` consecutive code lines are the same: (path, line, path, line).
    Blocks of closing brackets and other trivial lines (under 4 characters) do not count."""
    seen: dict[tuple[str, ...], tuple[str, int]] = {}
    found: list[tuple[str, int, str, int]] = []
    for path in paths:
        lines = _code_lines(path)
        last_reported = -size
        for i in range(len(lines) - size + 1):
            window = tuple(text for _, text in lines[i:i + size])
            if sum(len(t) >= 4 for t in window) < size - 1:
                continue
            here = (_rel(path), lines[i][0])
            first = seen.setdefault(window, here)
            if first != here and i >= last_reported + size:  # report each copied run once
                found.append((*first, *here))
                last_reported = i
    return found


def test_the_duplicate_checker_finds_a_copied_block(tmp_path: Path) -> None:
    body = "".join(f"    total = total + {i} * factor\n" for i in range(7))
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(f"def f(factor):\n    total = 0\n{body}    return total\n")
    b.write_text(f"def g(factor):\n    'Other.'\n    total = 1\n    if factor:\n{body.replace('    ', '        ')}\n")
    [(first, line_a, second, line_b)] = duplicate_blocks([a, b])
    assert (Path(first).name, line_a, Path(second).name, line_b) == ("a.py", 3, "b.py", 5)
    assert duplicate_blocks([a]) == []


def test_no_block_of_six_hand_written_lines_appears_twice() -> None:
    found = duplicate_blocks(_hand_written())
    assert found == [], "\n".join(f"{a}:{i} == {b}:{j}" for a, i, b, j in found)
