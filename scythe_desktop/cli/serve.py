"""``scythe serve``: run the reference orchestrator until SIGINT/SIGTERM.

Prints ``serving SCENARIO on HOST:PORT`` once it listens (``--port 0`` picks a free port). Refresh
tokens for the roles viewer, operator and admin are written to ``--token-dir`` (mode 0600), never
printed or logged. Without ``--auth-secret``/``--auth-key-file`` a key is generated and, with
``--state``, kept there so tokens survive a restart.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.backends import BACKENDS

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.server import Orchestrator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="regional", help="scenario name or TOML file (default regional)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; non-loopback needs TLS")
    parser.add_argument("--port", type=int, default=50051, help="0 picks a free port")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--client-ca", type=Path, help="require client certificates signed by this CA (mTLS)")
    parser.add_argument(
        "--auth-secret",
        help="token signing secret (≥ 32 chars); prefer --auth-key-file or "
        "the SCYTHE_AUTH_SECRET environment variable, which ps cannot show",
    )
    parser.add_argument("--auth-key-file", type=Path, help="file holding the token signing secret")
    parser.add_argument("--audit", type=Path, help="append-only, hash-chained audit log (SQLite, mode 0600)")
    parser.add_argument("--audit-key-file", type=Path,
                        help="key of the audit log's hash chain (default: AUDIT.key next to it, created when missing)")
    parser.add_argument("--state", type=Path, help="directory for state that survives a restart")
    parser.add_argument("--backend", choices=BACKENDS, default="simulated")
    parser.add_argument("--plan-dir", type=Path, help="where docker-plan/terraform-plan write their plans")
    parser.add_argument("--tick-hz", type=float, default=5.0, help="world ticks per wall-clock second")
    parser.add_argument("--keyframe-every", type=int, default=50, help="ticks between keyframes")
    parser.add_argument("--max-subscribers", type=int, default=64)
    parser.add_argument(
        "--policy",
        default="auto",
        help="what answers Propose: auto (shipped PPO, else greedy), none, or an engine policy name "
        "(loaded at the first Propose)",
    )
    parser.add_argument(
        "--token-dir",
        type=Path,
        help="write viewer/operator/admin refresh tokens here (default: the --state directory, else ./scythe-tokens)",
    )


def _key_file(args: argparse.Namespace) -> Path | None:
    if args.auth_key_file or args.auth_secret or os.environ.get("SCYTHE_AUTH_SECRET"):
        return args.auth_key_file
    if args.state is None:
        return None
    path = args.state / "auth.key"
    if not path.exists():
        args.state.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path


def _write_tokens(directory: Path, orch: Orchestrator) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for role in (auth.VIEWER, auth.OPERATOR, auth.ADMIN):
        path = directory / f"{role}.token"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(orch.issue_refresh_token(f"cli-{role}", role) + "\n")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from scythe_desktop.engine.scenario import ScenarioError
    from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
    from scythe_desktop.orchestrator.world_host import StateMismatch

    try:
        config = ServerConfig(
            scenario=args.scenario,
            seed=args.seed,
            host=args.host,
            port=args.port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            client_ca=args.client_ca,
            auth_secret=args.auth_secret or os.environ.get("SCYTHE_AUTH_SECRET"),
            auth_key_file=_key_file(args),
            audit_path=args.audit,
            audit_key_file=args.audit_key_file,
            state_dir=args.state,
            backend=args.backend,
            plan_dir=args.plan_dir,
            tick_hz=args.tick_hz,
            keyframe_every=args.keyframe_every,
            max_subscribers=args.max_subscribers,
            observer_connect_args=_observer_connect_args(args),
            policy=args.policy,
        )
        orch = Orchestrator(config)
        orch.start()
    except (ValueError, OSError, ScenarioError, StateMismatch) as exc:
        print(f"scythe serve: {exc}", file=sys.stderr)
        return 2
    token_dir = args.token_dir or args.state or Path("scythe-tokens")
    _write_tokens(token_dir, orch)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(f"serving {orch.scenario.name} on {orch.target}; refresh tokens in {token_dir}/", flush=True)
    done.wait()
    orch.stop()
    return 0


def _observer_connect_args(args: argparse.Namespace) -> tuple[str, ...]:
    """How a spawned ``scythe observer`` reaches this server: TLS trust when TLS is on."""
    if args.tls_cert is None:
        return ()
    ca = args.tls_cert.parent / "ca.crt"
    return ("--ca", str(ca)) if ca.exists() else ()
