"""``scythe bench NAME``: run one performance benchmark module and print its JSON object on stdout.

The reliability suite is not here: it is a harness outside the product (``python -m benchmarks.reliability``)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

# name -> module providing ``run(quick: bool) -> dict[str, object]``.
BENCHMARKS: dict[str, str] = {
    "codec": "scythe_desktop.bench.codec",
    "net": "scythe_desktop.bench.net",
    "engine": "scythe_desktop.bench.engine",
    "render": "scythe_desktop.bench.render",
    "ui": "scythe_desktop.bench.ui",
    "replay": "scythe_desktop.bench.replay",
    "rl": "scythe_desktop.bench.rl",
    "generalize": "scythe_desktop.bench.generalize",
    "adversary": "scythe_desktop.bench.adversary",
    "whatif": "scythe_desktop.bench.whatif",
    "startup": "scythe_desktop.bench.startup",
    "cluster": "scythe_desktop.bench.cluster",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=sorted(BENCHMARKS), help="which benchmark")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few repeats (for tests); figures are not meaningful"
    )


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.name])
    result = module.run(quick=args.quick)
    json.dump(result, sys.stdout, sort_keys=False)
    sys.stdout.write("\n")
    return 0
