"""Options of the desktop console (``scythe`` with no subcommand) and its headless guard.

Kept apart from ``console`` so that parsing arguments and refusing to start without a display never
imports Qt: a missing display must end in one clear line, not a Qt stack trace.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="embedded",
        help="where the world comes from: 'embedded' (default, an orchestrator inside the app), "
        "'grpc://HOST:PORT' (remote orchestrator) or 'replay:FILE' (a recording)",
    )
    parser.add_argument("--scenario", default="regional", help="scenario for the embedded source")
    parser.add_argument("--screenshot", metavar="PNG", help="render headless to this PNG and exit")
    parser.add_argument("--frames", type=int, default=30, help="frames to render before --screenshot")
    parser.add_argument("--seed", type=int, default=0, help="seed of the embedded world")
    parser.add_argument("--policy", default="auto", help="the policy the embedded orchestrator proposes with: 'auto' "
                        "(shipped PPO policy, else greedy), a policy name, or 'none' (a remote orchestrator "
                        "proposes with its own scythe serve --policy)")
    parser.add_argument("--token-file", type=Path, help="file holding a refresh token for a remote orchestrator "
                        "(or set $SCYTHE_TOKEN); tokens never go on the command line")
    parser.add_argument("--tls-ca", type=Path, help="CA certificate (PEM) of a remote orchestrator's TLS certificate")


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def launch_command() -> str:
    """How this program was started, for "run it as …" hints: the binary itself when frozen, the script
    path as invoked, or ``PYTHON -m scythe_desktop``."""
    if getattr(sys, "frozen", False):
        return sys.executable
    script = sys.argv[0] if sys.argv else ""
    if not script or script in ("-c", "-m") or Path(script).name == "__main__.py":
        return f"{sys.executable} -m scythe_desktop"
    return script


def run_app(args: argparse.Namespace) -> int:
    if not has_display() and not args.screenshot:
        print(
            "scythe: no display found (DISPLAY/WAYLAND_DISPLAY unset); run it on a desktop, "
            f"or headless as: xvfb-run -a {launch_command()}",
            file=sys.stderr,
        )
        return 2
    try:
        from scythe_desktop.console.app import run_console
    except ImportError as exc:
        print(f"scythe: the desktop console is not available in this build ({exc})", file=sys.stderr)
        return 2
    from scythe_desktop.render.backend import GLUnavailable

    try:
        return run_console(args)
    except GLUnavailable as exc:  # raised before any window exists: one line, no traceback
        print(f"scythe: {exc}", file=sys.stderr)
        return 2
