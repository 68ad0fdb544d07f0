"""``scythe certs``: make a local CA, a server certificate and client certificates for TLS and mTLS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scythe_desktop.orchestrator import certs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("scythe-certs"), help="directory (default ./scythe-certs)")
    parser.add_argument("--user", action="append", default=[], help="make a client certificate for USER (repeatable)")
    parser.add_argument(
        "--server-name",
        action="append",
        default=[],
        help="extra DNS name or IP for the server certificate (localhost and 127.0.0.1 always)",
    )


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    ca = certs.Issued(out / "ca.crt", out / "ca.key")
    try:
        if not ca.cert.exists():
            ca = certs.make_ca(out)
            print(f"CA: {ca.cert}")
        if not (out / "server.crt").exists() or args.server_name:
            server = certs.make_server(out, ca, tuple(args.server_name))
            print(f"server: {server.cert} {server.key}")
        for user in args.user:
            client = certs.make_client(out, ca, user)
            print(f"client {user}: {client.cert} {client.key}")
    except (ValueError, OSError) as exc:
        print(f"scythe certs: {exc}", file=sys.stderr)
        return 2
    return 0
