"""Fail when the bundle's module list holds anything that is not the product.

``python packaging/check_modules.py dist/package-modules.txt`` (written by ``packaging/scythe.spec``: every
module PyInstaller put in the bundle, one per line). Refused: the reliability harnesses (``benchmarks``,
``*.rel_*``), test oracles and tests (``tests``, ``reference``, ``conftest``), dev tools (``codegen``,
``grpc_tools``, ``pytest``, ``hypothesis``, ``mypy``, ``ruff``, ``importlinter``), the optional cluster extra
(``ray``). Exit status 1 names them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

NOT_THE_PRODUCT = re.compile(
    r"^(benchmarks|tests|scripts|reference|conftest|codegen|grpc_tools|pytest|_pytest|hypothesis|mypy|ruff"
    r"|importlinter|ray)(\.|$)"
    r"|^scythe_desktop\..*\b(rel_\w+|reliability|reference|codegen|conftest)(\.|$)"
)


def strays(modules: Iterable[str]) -> list[str]:
    """The module names that are not the product, sorted."""
    return sorted(m for m in (name.strip() for name in modules) if m and NOT_THE_PRODUCT.search(m))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_modules.py MODULE_LIST", file=sys.stderr)
        return 2
    found = strays(Path(argv[0]).read_text().splitlines())
    if found:
        print("the bundle ships what is not the product: " + ", ".join(found), file=sys.stderr)
        return 1
    print(f"module list ok: no reliability harness, test oracle or dev tool ({argv[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
