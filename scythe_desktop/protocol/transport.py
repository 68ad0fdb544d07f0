"""Transport helpers shared by server and client: is a host loopback, which local credentials fit a target.

Knows addresses and gRPC's local-credential kinds only; nothing about services or messages.
"""

from __future__ import annotations

import ipaddress

import grpc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_connection_type(target: str) -> grpc.LocalConnectionType:
    """Local credentials for ``target``: UDS for ``unix:`` sockets, LOCAL_TCP for loopback host:port."""
    return grpc.LocalConnectionType.UDS if target.startswith("unix:") else grpc.LocalConnectionType.LOCAL_TCP
