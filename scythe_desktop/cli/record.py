"""``scythe record --source grpc://HOST:PORT|embedded --out FILE --duration 10m``: record a live stream.

Everything the console would receive goes into the file: world info at the start, then every frame
(keyframes, deltas, edges, grids, fields, observers) from the orchestrator's latest keyframe on,
stamped with the wall clock (Unix ns) when it arrived, through a
:class:`~scythe_desktop.recording.session.RecordingSession` (the disk never slows the stream).
It stops after ``--duration`` or on Ctrl-C and closes the file cleanly either way. ``embedded``
starts an orchestrator in this process (``--scenario``, ``--seed``); a remote source needs a refresh
token (``--token-file``); off loopback it uses TLS, checked against ``--ca`` or the system's CAs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scythe_desktop.recording.defaults import FLUSH_INTERVAL_S, KEYFRAME_INTERVAL_S
from scythe_desktop.recording.durations import duration_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="grpc://HOST:PORT, or embedded (an in-process orchestrator)")
    parser.add_argument("--out", type=Path, required=True, help="recording to write (.mcap); must not exist")
    parser.add_argument("--duration", type=duration_arg, required=True, help="how long to record: 90s, 30m, 1h")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--token-file", type=Path, help="refresh token for a remote source")
    parser.add_argument("--ca", type=Path, help="CA certificate for TLS to a remote source")
    parser.add_argument("--scenario", default="regional", help="scenario of an embedded source")
    parser.add_argument("--seed", type=int, default=0, help="seed of an embedded source")
    parser.add_argument("--keyframe-interval", type=float, default=KEYFRAME_INTERVAL_S,
                        help="seconds between seek checkpoints when the stream sends no keyframe")
    parser.add_argument("--flush-interval", type=float, default=FLUSH_INTERVAL_S,
                        help="wall seconds between flushes: the most a crash can lose")
    parser.add_argument("--progress-lines", action="store_true", help="print one line per flush to stdout")


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.client.grpc_client import OrchestratorClient, credentials_for
    from scythe_desktop.recording.session import RecordingSession

    embedded = None
    if args.source == "embedded":
        from scythe_desktop.client.embedded import start_embedded

        embedded = start_embedded(args.scenario, args.seed)
        client = embedded.client()
    elif args.source.startswith("grpc://"):
        target = args.source.removeprefix("grpc://").rstrip("/")
        try:
            token = args.token_file.read_text().strip() if args.token_file else None
            ca = args.ca.read_bytes() if args.ca else None
        except OSError as exc:
            print(f"scythe record: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        creds, _transport = credentials_for(target, ca)
        client = OrchestratorClient(target, creds, refresh_token=token)
    else:
        print(f"scythe record: --source must be grpc://HOST:PORT or embedded, got {args.source!r}", file=sys.stderr)
        return 2

    def report(count: int, log_ns: int) -> None:
        print(f"flushed messages={count} log_s={log_ns / 1e9:.3f}", flush=True)

    try:
        session = RecordingSession(client, args.out, metadata={"source": args.source},
                                   keyframe_interval_s=args.keyframe_interval, flush_interval_s=args.flush_interval,
                                   overwrite=args.overwrite, on_flush=report if args.progress_lines else None)
    except (OSError, ValueError) as exc:
        print(f"scythe record: cannot write {args.out}: {exc}", file=sys.stderr)
        client.close()
        if embedded is not None:
            embedded.stop()
        return 2
    try:
        session.start()
        session.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
        if embedded is not None:
            embedded.stop()
    status = 0
    if session.error is not None:
        print(f"scythe record: {args.source}: {session.error}", file=sys.stderr)
        status = 1
    print(f"wrote {args.out}: {session.recorder.message_count} messages", file=sys.stderr)
    return status
