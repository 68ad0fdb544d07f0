"""The committed generated modules are exactly what grpc_tools makes from the committed .proto."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _codegen():  # scripts/codegen.py is a dev tool outside the package
    spec = importlib.util.spec_from_file_location("codegen", ROOT / "scripts" / "codegen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_generated_code_matches_a_fresh_regeneration(tmp_path: Path) -> None:
    codegen = _codegen()
    fresh = codegen.generate(tmp_path)
    for path in fresh:
        committed = codegen.PACKAGE_ROOT / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.name} is stale: run .venv/bin/python scripts/codegen.py"
        )
