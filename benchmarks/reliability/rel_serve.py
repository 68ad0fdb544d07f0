"""Processes for the reliability suite: a ``scythe serve`` subprocess that can be SIGKILLed and restarted.

Readiness is the server's own ``serving …`` line on stdout, never a sleep. The port and the state
directory stay the same across restarts, so a client reconnects to "the same" orchestrator. This
module starts and kills processes; it knows nothing of what the suite checks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc

#: The repository root: the harnesses run as ``python -m benchmarks.reliability...`` from here.
REPO_ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """This environment, with the repository root importable (children run harness modules by name)."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT) + (os.pathsep + path if path else "")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_credentials() -> grpc.ChannelCredentials:
    return grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for pid {pid}")


class ServeProcess:
    """``scythe serve`` with a state directory, a key file and an audit log under ``workdir``."""

    def __init__(
        self, workdir: Path, *, scenario: str = "tutorial", seed: int = 11, tick_hz: float = 20.0,
        keyframe_every: int = 30, extra: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.scenario, self.seed, self.tick_hz, self.keyframe_every = scenario, seed, tick_hz, keyframe_every
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.ready_at = 0.0  # time.monotonic() when the last start printed its serving line
        self.banner = ""  # that line
        self.log_path = workdir / "serve.log"
        workdir.mkdir(parents=True, exist_ok=True)  # the server creates workdir/auth.key at its first start

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    @property
    def audit_path(self) -> Path:
        return self.workdir / "audit.sqlite"

    def token(self, role: str) -> str:
        return (self.state_dir / f"{role}.token").read_text().strip()

    def start(self) -> None:
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "scythe_desktop", "serve",
                    "--scenario", self.scenario, "--seed", str(self.seed), "--port", str(self.port),
                    "--state", str(self.state_dir), "--auth-key-file", str(self.workdir / "auth.key"),
                    "--audit", str(self.audit_path), "--tick-hz", str(self.tick_hz),
                    "--keyframe-every", str(self.keyframe_every), *self.extra,
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the server listens (or dies)
        if not line.startswith("serving "):
            self.proc.wait(timeout=30)
            raise RuntimeError(f"scythe serve did not start (exit {self.proc.returncode}); see {self.log_path}")
        self.banner, self.ready_at = line, time.monotonic()

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
