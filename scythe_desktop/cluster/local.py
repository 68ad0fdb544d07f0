"""A real multi-node Ray cluster on this machine, for the tests and ``scythe bench cluster``: a head node and
worker nodes started with ``ray start`` as separate processes on loopback, each with its own temp directory,
stopped at the end by the process ids it started (never ``ray stop``, which would stop every Ray process on
the machine). Linux only: the processes are found through ``/proc``."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from scythe_desktop.cluster import ClusterError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``predicate`` (every 50 ms) until it holds, or raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.05)


def _ray_binary() -> str:
    return str(Path(sys.executable).with_name("ray"))


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process we may see."""
    out: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry.name)] = (parent, cmdline)
    return out


def _tree(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (a node's temp directory) and all their descendants."""
    table = _processes()
    found = {pid for pid, (_, cmd) in table.items() if marker in cmd and pid != os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in table.items() if parent in found} - found
        grew = bool(more)
        found |= more
    return sorted(found)


@dataclass
class LocalCluster:
    """``with LocalCluster(root, workers=1) as c:`` … ``c.address``; ``c.kill_worker(0)`` SIGKILLs a worker
    node's raylet (and so the node)."""

    root: Path
    workers: int = 1
    cpus_per_node: int = 1
    port: int = field(default_factory=free_port)
    #: The cluster's auth token file; by default a new one under ``root``. A process keeps the first token it
    #: used, so one that joins several clusters in turn gives them all the same file.
    token: Path | None = None

    @property
    def token_file(self) -> Path:
        return self.token or self.root / "auth_token"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What every node and every driver of this cluster needs in its environment: Ray's token
        authentication, with this cluster's own token (not the user's ~/.ray/auth_token)."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self.token_file),
                "RAY_USAGE_STATS_ENABLED": "0"}

    def node_dir(self, index: int) -> Path:
        """Temp directory of node ``index`` (0: the head)."""
        return self.root / ("h" if index == 0 else f"w{index}")  # short: Ray's socket paths must fit 107 bytes

    def _start(self, index: int) -> None:
        where = self.node_dir(index)
        where.mkdir(parents=True, exist_ok=True)
        role = (["--head", "--port", str(self.port), "--include-dashboard=false"] if index == 0
                else ["--address", self.address])
        cmd = [_ray_binary(), "start", *role, "--num-cpus", str(self.cpus_per_node), "--temp-dir", str(where),
               "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
        done = subprocess.run(cmd, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise ClusterError(f"ray start ({'head' if index == 0 else f'worker {index}'}) failed: "
                               f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")

    def start(self) -> LocalCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.token_file.exists():
            self.token_file.write_text(secrets.token_hex(32))
            self.token_file.chmod(0o600)
        self._start(0)
        for i in range(1, self.workers + 1):
            self._start(i)
        return self

    def add_worker(self) -> int:
        """Start one more worker node; returns its index."""
        self.workers += 1
        self._start(self.workers)
        return self.workers

    def raylet_pid(self, index: int) -> int:
        marker = str(self.node_dir(index)) + "/"
        table = _processes()
        pids = [pid for pid, (_, cmd) in table.items() if "raylet/raylet" in cmd and marker in cmd]
        if len(pids) != 1:
            raise ClusterError(f"node {index}: expected one raylet under {marker}, found {pids}")
        return pids[0]

    def kill_worker(self, index: int = 1) -> None:
        """SIGKILL worker node ``index``'s raylet: the node dies as a machine would."""
        if index < 1:
            raise ValueError("node 0 is the head; kill a worker node (index >= 1)")
        os.kill(self.raylet_pid(index), signal.SIGKILL)

    def stop(self) -> None:
        """SIGKILL every process this cluster started (workers first, then the head)."""
        for index in [*range(self.workers, 0, -1), 0]:
            for pid in _tree(str(self.node_dir(index)) + "/"):
                with contextlib.suppress(ProcessLookupError):  # gone already
                    os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> LocalCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["LocalCluster", "free_port", "wait_until"]
