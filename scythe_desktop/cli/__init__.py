"""The ``scythe`` command: the desktop app by default, plus subcommands for headless work.

Each subcommand lives in its own module and is imported only when it runs, so ``scythe --version``
and ``scythe bench codec`` never pay for Qt, torch or gRPC start-up.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from scythe_desktop import __version__

# name -> (module, one-line help). The module provides ``add_arguments(parser)`` and ``run(args) -> int``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("scythe_desktop.cli.bench", "run a benchmark and print one JSON object"),
    "serve": ("scythe_desktop.cli.serve", "run the reference orchestrator (gRPC scythe.v1)"),
    "certs": ("scythe_desktop.cli.certs", "make a local CA, server and client certificates for TLS/mTLS"),
    "audit": ("scythe_desktop.cli.audit", "print, filter or verify (hash chain) an orchestrator audit log"),
    "auth": ("scythe_desktop.cli.auth", "list or revoke an orchestrator's tokens (by subject or token id)"),
    "observer": ("scythe_desktop.cli.observer", "run one observer process (process backend)"),
    "train": ("scythe_desktop.cli.train", "train a MaskablePPO observer policy"),
    "evaluate": ("scythe_desktop.cli.evaluate", "compare policies over seeded episodes (mean ± 95%% CI)"),
    "sweep": ("scythe_desktop.cli.sweep", "sweep training configurations on a Ray cluster (Ray Tune, ASHA)"),
    "calibrate": ("scythe_desktop.cli.calibrate", "fit the brain's confidence to P(acting beats waiting)"),
    "simulate": ("scythe_desktop.cli.simulate", "run a scenario and policy headless into a recording"),
    "record": ("scythe_desktop.cli.record", "record a live orchestrator's stream to a file"),
    "recording": ("scythe_desktop.cli.recording", "check or repair a recording file"),
    "whatif": ("scythe_desktop.cli.whatif", "branch a recording under another policy or flipped decisions"),
    "compare": ("scythe_desktop.cli.compare", "compare two recordings (a branch and its parent) over time"),
    "scenario": ("scythe_desktop.cli.scenario", "generate a random, valid scenario file (or list the families)"),
}


def build_note() -> str:
    """What ``--version`` adds about this build: the field build has no torch (numpy inference, no training)."""
    from scythe_desktop.engine.backend import torch_available

    return "" if torch_available() else " (field build: no torch, no training)"


def _chosen_subcommand(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if a in SUBCOMMANDS), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the chosen subcommand's module is imported (for its options), so a slow or
    broken subcommand never costs the others anything."""
    parser = argparse.ArgumentParser(
        prog="scythe",
        description="SCYTHE Desktop: watch clusters on a globe and decide where observers go. "
        "Without a subcommand, opens the desktop console on the embedded orchestrator.",
    )
    parser.add_argument("--version", action="version", version=f"scythe {__version__}{build_note()}")
    from scythe_desktop.cli.app import add_app_arguments

    add_app_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen_subcommand(argv)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    module = getattr(args, "_module", None)
    if module is None:
        from scythe_desktop.cli.app import run_app

        return run_app(args)
    run: Callable[[argparse.Namespace], int] = importlib.import_module(module).run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
