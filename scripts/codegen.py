"""Regenerate the committed protobuf/gRPC modules of the ``scythe.v1`` contract.

The generated ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` files are committed so that installs
need no code generator; ``tests/protocol/test_codegen.py`` proves they are exactly what ``grpc_tools``
makes from the ``.proto``. Run ``.venv/bin/python scripts/codegen.py`` after editing the contract.
A dev tool, never shipped: it knows only file paths; ``grpc_tools`` (a dev dependency) is imported when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the repository root, holding scythe_desktop/
PROTO = Path("scythe_desktop/protocol/proto/scythe/v1/orchestrator.proto")
GENERATED = ("orchestrator_pb2.py", "orchestrator_pb2.pyi", "orchestrator_pb2_grpc.py")


def generate(out_dir: Path) -> list[Path]:
    """Write the generated modules for :data:`PROTO` under ``out_dir`` (mirroring the package path)."""
    from grpc_tools import protoc  # dev dependency

    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PACKAGE_ROOT}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(PROTO),
        ]
    )
    if rc != 0:
        raise RuntimeError(f"protoc failed with exit status {rc} on {PROTO}")
    return [out_dir / PROTO.parent / name for name in GENERATED]


def main() -> int:
    for path in generate(PACKAGE_ROOT):
        print(path.relative_to(PACKAGE_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
