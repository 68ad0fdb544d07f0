"""``python -m benchmarks.reliability [--quick]`` from the repository root: print the suite's JSON object."""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.reliability.runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests); figures are not meaningful")
    args = parser.parse_args(argv)
    json.dump(run(quick=args.quick), sys.stdout, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
