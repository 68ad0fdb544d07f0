"""``scythe scenario generate --seed N [--family NAME] [--param NAME=VALUE ...] [--out F.toml]`` and
``scythe scenario families``.

``generate`` writes a random but valid, playable scenario (:mod:`scythe_desktop.engine.scenario_generator`) to
``--out`` or stdout; the same seed, family and parameters give the same bytes. ``families`` lists the families
and how each differs from ``mixed``. Exit status 0 on success, 2 on a bad family, parameter, seed or an
existing ``--out`` (one line on stderr naming it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    gen = sub.add_parser("generate", help="write a random, valid scenario TOML (stdout without --out)")
    gen.add_argument("--seed", type=int, required=True, help="non-negative integer; same seed, same file")
    gen.add_argument("--family", default="mixed", help="distribution to draw from (scythe scenario families)")
    gen.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override one of the family's parameters, e.g. clusters_max=40 (repeatable)")
    gen.add_argument("--out", type=Path, help="file to write (default: stdout)")
    gen.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    sub.add_parser("families", help="list the generator's families")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.engine.scenario_generator import FAMILIES, family_params, generate_toml, with_overrides

    if args.action == "families":
        mixed = FAMILIES["mixed"]
        for name, params in FAMILIES.items():
            changed = ", ".join(f"{k}={v!r}" for k, v in params.changed_from(mixed).items())
            print(f"{name:16} {changed or 'the broad default distribution'}")
        return 0
    try:
        params = with_overrides(family_params(args.family), args.param)
        text = generate_toml(args.seed, args.family, params)
    except ValueError as exc:
        print(f"scythe scenario generate: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
        return 0
    if args.out.exists() and not args.overwrite:
        print(f"scythe scenario generate: {args.out} exists; choose another --out or pass --overwrite", file=sys.stderr)
        return 2
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"scythe scenario generate: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
