"""Keepalive: does the embedded orchestrator ever answer the console's pings with ``GOAWAY too_many_pings``?

A child process runs what the console runs — the embedded orchestrator and the console's clients (one
streaming frames, three idle between calls like its insight, fields and action workers) — with the one
keepalive policy of ``protocol/keepalive.py`` shrunk by one factor on both sides (the equivalent window:
every ping interval and the server's minimum scale together). gRPC's own trace (``http2_ping``) on the
child's stderr is the evidence: the parent counts the pings the clients sent and the GOAWAYs they received,
and stops the child once the idle clients have sent the pings an hour of console time holds (one per
``client_ping_ms``), or at the first GOAWAY. ``old_option=True`` runs the server with the misspelt ping
option the console used to ship (the control: GOAWAY must show up). Knows processes and grpc's log lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
import sys
import threading
from typing import Any

from benchmarks.reliability.rel_serve import child_env

#: Console clients that stay idle between calls (insight, fields, actions); one more streams.
IDLE_CLIENTS = 3
#: "CLIENT[0x…]: Ping <id> sent [peer]: …" (writing.cc, trace http2_ping): one line per ping, per transport.
PING_SENT = re.compile(r"CLIENT\[(0x[0-9a-f]+)\]: Ping \d+ sent")
GOAWAY = "too_many_pings"


def pings_per_hour() -> int:
    """Pings one idle console connection sends in an hour (the same count in a scaled window)."""
    from scythe_desktop.protocol.keepalive import KEEPALIVE

    return 3600 * 1000 // KEEPALIVE.client_ping_ms


def run_keepalive(pings: int, scale: float = 0.1, *, old_option: bool = False, timeout_s: float = 900.0
                  ) -> dict[str, Any]:
    """Run the child until every idle client has sent about ``pings`` pings (or a GOAWAY came)."""
    env = {**child_env(), "GRPC_TRACE": "http2_ping", "GRPC_VERBOSITY": "debug"}
    cmd = [sys.executable, "-m", "benchmarks.reliability.rel_keepalive", "--scale", str(scale)]
    if old_option:
        cmd.append("--old-option")
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    sent: dict[str, int] = {}  # pings per client transport
    goaways = 0
    timer = threading.Timer(timeout_s, proc.kill)  # a hung child must not hang the suite
    timer.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            ping = PING_SENT.search(line)
            if ping:
                sent[ping.group(1)] = sent.get(ping.group(1), 0) + 1
            elif "Received a GOAWAY" in line and GOAWAY in line:
                goaways += 1
            if goaways or _idle_pings(sent) >= pings:
                break
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()
    idle = _idle_pings(sent)
    return {"keepalive_scale": scale, "idle_connection_pings": idle, "goaways": goaways,
            "console_hours_covered": round(idle / pings_per_hour(), 3), "connections_seen": len(sent)}


def _idle_pings(sent: dict[str, int]) -> int:
    """Pings of the idle connections so far: the least of the IDLE_CLIENTS connections that pinged most (an
    idle one pings every interval; the streaming one less, since its data postpones keepalive)."""
    counts = sorted(sent.values(), reverse=True)
    return counts[IDLE_CLIENTS - 1] if len(counts) >= IDLE_CLIENTS else 0


def _old_policy(policy: Any) -> Any:
    """The policy with the server options the console shipped before: a ping option grpc does not know."""
    from scythe_desktop.protocol.keepalive import KeepalivePolicy

    class OldOption(KeepalivePolicy):
        def server_options(self) -> tuple[tuple[str, int], ...]:
            return tuple(("grpc.http2.min_recv_ping_interval_without_data_ms", v)
                         if k == "grpc.http2.min_ping_interval_without_data_ms" else (k, v)
                         for k, v in super().server_options())

    return OldOption(**{f.name: getattr(policy, f.name) for f in dataclasses.fields(policy)})


def _child(scale: float, old_option: bool) -> int:
    """The console's connections to its embedded orchestrator, idle but for keepalive, until killed."""
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.protocol.keepalive import KEEPALIVE

    policy = KEEPALIVE.scaled(scale)
    server_policy = _old_policy(policy) if old_option else policy
    embedded = start_embedded("tutorial", 1, tick_hz=5.0, keepalive=server_policy, policy="none")
    clients = [embedded.client(keepalive=policy) for _ in range(IDLE_CLIENTS + 1)]
    for c in clients[1:]:
        c.world_info()  # connected, then idle: only keepalive pings cross these connections
    threading.Thread(target=lambda: clients[0].stream(lambda _f: None), daemon=True).start()
    sys.stdin.read()  # the parent kills this process; EOF on stdin ends it too
    os._exit(0)  # skip a graceful shutdown nobody waits for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--old-option", action="store_true")
    args = parser.parse_args(argv)
    return _child(args.scale, args.old_option)


if __name__ == "__main__":
    sys.exit(main())
