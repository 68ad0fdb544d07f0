"""``scythe observer``: an observer process for the ``process`` backend.

Reads its identity (a refresh token, role observer) from ``--token-file`` or the first line of stdin,
registers with the orchestrator, then heartbeats its CPU load until the orchestrator tells it to stop
or the link is gone for good. Uses the same client as everything else.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="orchestrator HOST:PORT")
    parser.add_argument("--observer-id", type=int, required=True)
    parser.add_argument("--token-file", type=Path, help="refresh token file (default: read one line from stdin)")
    parser.add_argument("--ca", type=Path, help="CA certificate for TLS (default: local credentials, loopback)")
    parser.add_argument("--cert", type=Path, help="client certificate (mTLS)")
    parser.add_argument("--key", type=Path, help="client key (mTLS)")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.client.grpc_client import (
        OrchestratorClient,
        OrchestratorError,
        local_credentials,
        tls_credentials,
    )

    token = (args.token_file.read_text() if args.token_file else sys.stdin.readline()).strip()
    if not token:
        print("scythe observer: no identity token (give --token-file or one line on stdin)", file=sys.stderr)
        return 2
    if args.ca is not None:
        creds = tls_credentials(
            args.ca.read_bytes(),
            args.key.read_bytes() if args.key else None,
            args.cert.read_bytes() if args.cert else None,
        )
    else:
        creds = local_credentials(args.target)
    with OrchestratorClient(args.target, creds, refresh_token=token) as client:
        try:
            reply = client.agent_register(args.observer_id, os.getpid())
            last_cpu, last_wall = time.process_time(), time.monotonic()
            while not reply.stop:
                time.sleep(reply.interval_s or 1.0)  # the heartbeat period itself, not synchronisation
                cpu, wall = time.process_time(), time.monotonic()
                load = (cpu - last_cpu) / max(wall - last_wall, 1e-6)
                last_cpu, last_wall = cpu, wall
                reply = client.agent_heartbeat(args.observer_id, load)
        except OrchestratorError as exc:
            print(f"scythe observer {args.observer_id}: {exc}", file=sys.stderr)
            return 1
    return 0
