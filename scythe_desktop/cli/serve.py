"""``scythe serve``: run the reference orchestrator until SIGINT/SIGTERM.

Prints ``serving SCENARIO on HOST:PORT`` once it listens (``--port 0`` picks a free port). Refresh
tokens for the roles viewer, operator and admin are written to ``--token-dir`` (mode 0600), never
printed or logged; a restart keeps a token file that is still valid for a day and revokes one it replaces.
Grants, sessions and revocations live in ``credentials.sqlite`` in ``--state`` (else ``--token-dir``), where
``scythe auth list`` and ``scythe auth revoke`` find them. The signing secret is ≥ 32 random bytes (hex
or base64: ``--auth-secret``, ``SCYTHE_AUTH_SECRET`` or ``--auth-key-file``, a file the server creates when it
is missing); without any, a key is generated and, with ``--state``, kept there (``auth.key``) so tokens
survive a restart.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scythe_desktop.core.private_files import private_dir, write_private
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.backends import BACKENDS

#: A token file whose token is good for longer than this is kept at a restart.
KEEP_TOKEN_FOR_S = 24 * 3600.0

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
        "--observer-cert", type=Path,
        help="under mTLS, the client certificate --backend process gives its observers "
        "(default: client-observer.crt beside --client-ca, as `scythe certs --user observer` makes it)",
    )
    parser.add_argument("--observer-key", type=Path, help="the key of --observer-cert (default: beside it, .key)")
    parser.add_argument(
        "--auth-secret",
        help="token signing secret: ≥ 32 random bytes as hex or base64 (e.g. from `openssl rand -hex 32`); "
        "prefer --auth-key-file or the SCYTHE_AUTH_SECRET environment variable, which ps cannot show",
    )
    parser.add_argument(
        "--auth-key-file", type=Path,
        help="file holding the signing secret (hex or base64, mode 0600); created by the server if missing",
    )
    parser.add_argument("--audit", type=Path, help="append-only, hash-chained audit log (SQLite, mode 0600)")
    parser.add_argument("--audit-key-file", type=Path,
                        help="key of the audit log's hash chain (default: AUDIT.key next to it, created when missing)")
    parser.add_argument("--state", type=Path, help="directory for state that survives a restart")
    parser.add_argument("--backend", choices=BACKENDS, default="simulated")
    parser.add_argument(
        "--plan-dir", type=Path,
        help="where docker-plan/terraform-plan/kubernetes-plan write one plan file per deployed observer "
        "(default ./scythe-plans); rendered, never executed or applied: no Docker daemon or Kubernetes API "
        "server is contacted",
    )
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
    """The key file to use: the one given, else ``--state``/auth.key (the server creates it if missing)."""
    if args.auth_key_file or args.auth_secret or os.environ.get("SCYTHE_AUTH_SECRET"):
        return args.auth_key_file
    if args.state is None:
        return None
    return private_dir(args.state) / "auth.key"


def _write_tokens(directory: Path, orch: Orchestrator) -> None:
    """One refresh token per role. A file whose token is still good for a day is kept, so restarts do not pile
    up valid tokens; one that is about to expire is revoked and replaced. Each file is replaced atomically
    (0600 in a 0700 directory; a symlink planted where a token goes is replaced, never followed)."""
    private_dir(directory)
    for role in (auth.VIEWER, auth.OPERATOR, auth.ADMIN):
        path, subject = directory / f"{role}.token", f"cli-{role}"
        current = _current_token(path, orch.authority, subject, role)
        if current is not None and current.expires_at - time.time() > KEEP_TOKEN_FOR_S:
            continue
        if current is not None:
            orch.authority.ledger.revoke(current.token_id, expires=current.expires_at, why="replaced at start")
        write_private(path, (orch.issue_refresh_token(subject, role) + "\n").encode())


def _current_token(path: Path, authority: auth.TokenAuthority, subject: str, role: str) -> auth.Identity | None:
    """The identity of the grant in ``path`` if it is one of ours, for ``subject`` and ``role``, and still valid."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            token = f.read(16 * 1024).decode("ascii").strip()
        who = authority.verify(token, kind="refresh")
    except (OSError, UnicodeDecodeError, auth.AuthError):
        return None
    return who if (who.subject, who.role, who.session) == (subject, role, "") else None


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from scythe_desktop.engine.scenario import ScenarioError
    from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
    from scythe_desktop.orchestrator.token_ledger import CREDENTIALS_FILE
    from scythe_desktop.orchestrator.world_host import StateMismatch

    token_dir = args.token_dir or args.state or Path("scythe-tokens")
    try:
        ledger_dir = private_dir(args.state or token_dir)
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
            credentials_path=ledger_dir / CREDENTIALS_FILE,
        )
        orch = Orchestrator(config)
        orch.start()
    except (ValueError, OSError, ScenarioError, StateMismatch) as exc:
        print(f"scythe serve: {exc}", file=sys.stderr)
        return 2
    except MemoryError:  # the loader bounds sizes; this is the last line of defence
        print(f"scythe serve: not enough memory to build scenario {args.scenario!r}", file=sys.stderr)
        return 2
    try:
        _write_tokens(token_dir, orch)
    except OSError as exc:
        orch.stop()
        print(f"scythe serve: cannot write the token files: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(f"serving {orch.scenario.name} on {orch.target}; refresh tokens in {token_dir}/", flush=True)
    done.wait()
    orch.stop()
    return 0


def _observer_connect_args(args: argparse.Namespace) -> tuple[str, ...]:
    """How a spawned ``scythe observer`` reaches this server: TLS trust when TLS is on and, under mTLS, a client
    certificate (paths only; the observer's identity is still its own token)."""
    if args.tls_cert is None:
        return ()
    ca = args.tls_cert.parent / "ca.crt"
    out: tuple[str, ...] = ("--ca", str(ca)) if ca.exists() else ()
    if args.client_ca is None:
        return out
    cert = args.observer_cert or args.client_ca.parent / "client-observer.crt"
    key = args.observer_key or cert.with_suffix(".key")
    if args.observer_cert is not None or (cert.exists() and key.exists()):
        out += ("--cert", str(cert), "--key", str(key))
    return out
