"""Joining a Ray cluster: ``local`` (a one-machine cluster started for this command), ``auto`` (the cluster
this process runs inside, e.g. a KubeRay RayJob's entrypoint) or ``HOST:PORT`` of a head node started with
``ray start --head``. An address nothing answers at is refused within seconds, with its name, instead of
Ray's own minute-long retry loop."""

from __future__ import annotations

import os
import socket

from scythe_desktop.cluster import ClusterError, require_ray

#: Seconds to wait for a TCP answer from a head node before giving up on it.
REACH_TIMEOUT_S = 3.0


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> (host, port), or a ClusterError naming what is wrong with it."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"--ray {address!r}: expected 'local', 'auto' or HOST:PORT of a Ray head node")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float = REACH_TIMEOUT_S) -> None:
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ClusterError(
            f"--ray {address}: no Ray head node answers there ({exc.strerror or exc}); start one with "
            f"'ray start --head --port {port}' or pass --ray local"
        ) from None


def connect(address: str, num_cpus: int | None = None) -> None:
    """Join (or, for ``local``, start) the cluster; a no-op if this process has already joined one."""
    ray = require_ray()
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports from an air-gapped site
    if address == "local":
        ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="warning", log_to_driver=False)
        return
    if address != "auto":
        check_reachable(address)
    ray.init(address=address, logging_level="warning", log_to_driver=False)


def disconnect() -> None:
    ray = require_ray()
    if ray.is_initialized():
        ray.shutdown()


__all__ = ["REACH_TIMEOUT_S", "check_reachable", "connect", "disconnect", "parse_address"]
