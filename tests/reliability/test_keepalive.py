"""Item 12: the console's keepalive and the embedded server's ping policy agree (no GOAWAY too_many_pings).

A real embedded orchestrator and the console's clients in a child process, the policy shrunk by ten on both
sides; gRPC's own ping trace counts the pings. The control runs the server option the console used to ship.
"""

from __future__ import annotations

import pytest

from benchmarks.reliability.rel_keepalive import run_keepalive
from scythe_desktop.protocol.keepalive import KEEPALIVE, MIN_CLIENT_PING_MS, KeepalivePolicy

PINGS = 5  # the old option drew its GOAWAY at the third or fourth ping of an idle connection


def test_the_server_accepts_pings_at_twice_the_clients_rate() -> None:
    server = dict(KEEPALIVE.server_options())
    client = dict(KEEPALIVE.client_options())
    assert server["grpc.http2.min_ping_interval_without_data_ms"] * 2 == client["grpc.keepalive_time_ms"]
    assert KEEPALIVE.scaled(0.1).server_min_ping_ms == 500
    assert KEEPALIVE.scaled(0.001).client_ping_ms == MIN_CLIENT_PING_MS
    with pytest.raises(ValueError, match="floor"):
        KeepalivePolicy(client_ping_ms=100)


def test_idle_console_connections_get_no_goaway() -> None:
    r = run_keepalive(PINGS, 0.1)
    assert r["idle_connection_pings"] >= PINGS, r
    assert r["goaways"] == 0, r


def test_the_old_server_option_draws_goaway_so_the_check_can_fail() -> None:
    r = run_keepalive(3 * PINGS, 0.1, old_option=True)  # ends at the first GOAWAY
    assert r["goaways"] >= 1, r
