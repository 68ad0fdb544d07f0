"""One keepalive policy for both ends of a ``scythe.v1`` connection, so the server never answers the client's
pings with ``GOAWAY too_many_pings``.

The client pings an idle connection every ``client_ping_ms`` so a dead link is noticed within seconds. The
server polices received pings: one that comes sooner than ``grpc.http2.min_ping_interval_without_data_ms``
after the previous one (default five minutes) is a strike, and after two strikes it sends GOAWAY. So the
server's minimum is derived from the client's interval (half of it, leaving room for timer jitter) instead
of being set on its own. ``scaled`` shrinks every interval by one factor for tests and the reliability
bench (an hour of console pings in minutes); grpc's client never pings more often than about once a
second, so a scaled policy keeps ``client_ping_ms`` at 1,000 or more. Knows channel arguments only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The client's keepalive timer does not fire faster than this (grpc C-core, measured with grpcio 1.85).
MIN_CLIENT_PING_MS: Final = 1_000

ChannelOptions = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class KeepalivePolicy:
    client_ping_ms: int = 10_000
    client_timeout_ms: int = 5_000
    server_ping_ms: int = 20_000
    server_timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        if self.client_ping_ms < MIN_CLIENT_PING_MS:
            raise ValueError(f"client_ping_ms must be ≥ {MIN_CLIENT_PING_MS} (grpc's floor), got {self.client_ping_ms}")

    @property
    def server_min_ping_ms(self) -> int:
        """The shortest gap between client pings the server accepts without a strike."""
        return self.client_ping_ms // 2

    def client_options(self) -> ChannelOptions:
        return (
            ("grpc.keepalive_time_ms", self.client_ping_ms),
            ("grpc.keepalive_timeout_ms", self.client_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        )

    def server_options(self) -> ChannelOptions:
        return (
            ("grpc.keepalive_time_ms", self.server_ping_ms),
            ("grpc.keepalive_timeout_ms", self.server_timeout_ms),
            ("grpc.keepalive_permit_without_calls", 1),
            # The name grpc reads (there is no "min_recv_ping_interval…" argument: a misspelt one is ignored
            # silently, which is how the console came to be sent GOAWAY every minute).
            ("grpc.http2.min_ping_interval_without_data_ms", self.server_min_ping_ms),
            ("grpc.http2.max_pings_without_data", 0),
        )

    def scaled(self, factor: float) -> KeepalivePolicy:
        """Every interval times ``factor`` (the client's ping interval no lower than grpc's floor)."""
        return KeepalivePolicy(
            max(MIN_CLIENT_PING_MS, round(self.client_ping_ms * factor)),
            max(1, round(self.client_timeout_ms * factor)),
            max(1, round(self.server_ping_ms * factor)),
            max(1, round(self.server_timeout_ms * factor)),
        )


#: What the console, the CLI and ``scythe serve`` use.
KEEPALIVE: Final = KeepalivePolicy()

__all__ = ["KEEPALIVE", "MIN_CLIENT_PING_MS", "KeepalivePolicy"]
