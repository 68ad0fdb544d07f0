"""The committed generated modules are exactly what grpc_tools makes from the committed .proto."""

from __future__ import annotations

from pathlib import Path

from scythe_desktop.net import codegen


def test_committed_generated_code_matches_a_fresh_regeneration(tmp_path: Path) -> None:
    fresh = codegen.generate(tmp_path)
    for path in fresh:
        committed = codegen.PACKAGE_ROOT / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.name} is stale: run python -m scythe_desktop.net.codegen"
        )
