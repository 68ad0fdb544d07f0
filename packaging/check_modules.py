"""Fail when the bundle's module list holds anything that is not the product.

``python packaging/check_modules.py dist/package-modules.txt`` (written by ``packaging/scythe.spec``: every
module PyInstaller put in the bundle, one per line). Refused: the reliability harnesses (``benchmarks``,
``*.rel_*``), test oracles and tests (``tests``, ``reference``, ``conftest``), dev tools (``codegen``,
``grpc_tools``, ``pytest``, ``hypothesis``, ``mypy``, ``ruff``, ``importlinter``), the optional cluster extra
(``ray``); with ``--field`` (the field build) also torch and what needs it (``torch``, ``stable_baselines3``,
``sb3_contrib``, ``torch_geometric``). Exit status 1 names them.
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


#: What the field build leaves out on top: torch and everything that only trains or infers through it.
NOT_IN_THE_FIELD_BUILD = re.compile(r"^(torch|torchvision|stable_baselines3|sb3_contrib|torch_geometric|triton)(\.|$)")


def strays(modules: Iterable[str], field: bool = False) -> list[str]:
    """The module names that are not the product (of the field build, with ``field``), sorted."""
    names = [m for m in (name.strip() for name in modules) if m]
    return sorted(m for m in names if NOT_THE_PRODUCT.search(m) or (field and NOT_IN_THE_FIELD_BUILD.search(m)))


def main(argv: list[str]) -> int:
    field = "--field" in argv
    args = [a for a in argv if a != "--field"]
    if len(args) != 1:
        print("usage: check_modules.py [--field] MODULE_LIST", file=sys.stderr)
        return 2
    found = strays(Path(args[0]).read_text().splitlines(), field)
    if found:
        shown = ", ".join(found[:20]) + (f" and {len(found) - 20} more" if len(found) > 20 else "")
        print("the bundle ships what is not the product: " + shown, file=sys.stderr)
        return 1
    what = "no torch, " if field else ""
    print(f"module list ok: {what}no reliability harness, test oracle or dev tool ({args[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
