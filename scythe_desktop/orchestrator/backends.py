"""Deployment backends: how an approved action becomes running observer compute.

All backends apply the action to the world (the world's observer is the model the simulator and the
console see); they differ in what else happens:

* ``simulated`` (default): nothing else: the observer lives only in the engine.
* ``process``: a deploy starts a real ``scythe observer`` OS process with its own identity (a refresh
  token for subject ``observer-<id>``, role ``observer``, handed over on stdin, never on the command
  line or in the environment) and an explicit minimal environment (:func:`observer_environment`: no
  ``SCYTHE_AUTH_SECRET`` or anything else of the server's). It registers with the orchestrator and
  heartbeats its load; decommission tells it to stop (heartbeat reply) and returns at once: a stopper thread
  waits for it, then terminates and finally kills it, outside every lock, so a hung observer stalls
  nothing. A watchdog marks a process that died or went silent ``lost``.
* ``docker-plan`` / ``terraform-plan`` / ``kubernetes-plan``: render, without executing, the ``docker run``
  command, a Terraform JSON plan or a Kubernetes Deployment that would run the same observer, into a plan
  directory (:mod:`scythe_desktop.orchestrator.plans`; no Kubernetes API server is contacted).

This module knows processes, files and the world host; not gRPC servicers.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from scythe_desktop.engine.actions import Action, ActionResult, Decommission, Deploy

# PlanBackend is re-exported: the server builds every backend from this module.
from scythe_desktop.orchestrator.plans import PLAN_BACKENDS
from scythe_desktop.orchestrator.plans import PlanBackend as PlanBackend

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.world_host import WorldHost

log = logging.getLogger(__name__)

BACKENDS: Final = ("simulated", "process", *PLAN_BACKENDS)
HEARTBEAT_S: Final = 1.0
#: Heartbeats missed before a live-looking process is reported lost.
MISSED_HEARTBEATS: Final = 5
#: What an observer process inherits of the server's environment: how to run Python and where, nothing else.
OBSERVER_ENVIRONMENT: Final = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH", "SYSTEMROOT",
)


def observer_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """The environment of an observer process: only :data:`OBSERVER_ENVIRONMENT`'s names, from ``parent``."""
    return {k: parent[k] for k in OBSERVER_ENVIRONMENT if k in parent}


class Backend(Protocol):
    name: str

    def apply(self, host: WorldHost, action: Action) -> tuple[ActionResult, int]: ...

    def heartbeat(self, observer_id: int, load: float, *, pid: int | None = None) -> tuple[bool, float]: ...

    def status(self, observer_id: int) -> tuple[str, float, float]:
        """(status, last heartbeat unix time, load) of an observer."""
        ...

    def close(self) -> None: ...


class SimulatedBackend:
    name = "simulated"

    def apply(self, host: WorldHost, action: Action) -> tuple[ActionResult, int]:
        return host.apply(action)

    def heartbeat(self, observer_id: int, load: float, *, pid: int | None = None) -> tuple[bool, float]:
        raise KeyError(observer_id)

    def status(self, observer_id: int) -> tuple[str, float, float]:
        return "running", 0.0, 0.0

    def close(self) -> None:
        pass


@dataclass
class _Agent:
    process: subprocess.Popen[bytes]
    status: str = "starting"
    last_heartbeat: float = 0.0
    load: float = 0.0
    stopping: bool = False
    exited: bool = False
    heartbeats: int = 0
    started: float = field(default_factory=time.time)


class ProcessBackend:
    """Runs each deployed observer as a ``scythe observer`` child process."""

    name = "process"

    def __init__(
        self,
        target: str,
        issue_token: Callable[[str], str],
        *,
        connect_args: tuple[str, ...] = (),
        heartbeat_s: float = HEARTBEAT_S,
        on_lost: Callable[[int, str], None] | None = None,
    ) -> None:
        self._target = target
        self._issue_token = issue_token
        self._connect_args = connect_args
        self._heartbeat_s = heartbeat_s
        self._on_lost = on_lost
        #: How long a stopping observer may take to exit by itself, then after SIGTERM, before SIGKILL.
        self.stop_grace_s = 3 * heartbeat_s
        self.term_grace_s = 5.0
        self._agents: dict[int, _Agent] = {}
        self._stoppers: list[threading.Thread] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="observer-watchdog", daemon=True)
        self._watchdog.start()

    def command(self, observer_id: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "scythe_desktop",
            "observer",
            "--target",
            self._target,
            "--observer-id",
            str(observer_id),
            *self._connect_args,
        ]

    def apply(self, host: WorldHost, action: Action) -> tuple[ActionResult, int]:
        result, tick = host.apply(action)
        if result.ok and isinstance(action, Deploy) and result.observer_id is not None:
            self._spawn(result.observer_id)
        elif result.ok and isinstance(action, Decommission):
            self._stop_agent(action.observer_id)
        return result, tick

    def _spawn(self, observer_id: int) -> None:
        token = self._issue_token(f"observer-{observer_id}")
        proc = subprocess.Popen(
            self.command(observer_id),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=observer_environment(os.environ),
        )
        assert proc.stdin is not None
        proc.stdin.write(token.encode() + b"\n")
        proc.stdin.close()
        with self._lock:
            self._agents[observer_id] = _Agent(proc)
        log.info("observer %d: started process %d", observer_id, proc.pid)

    def _stop_agent(self, observer_id: int) -> None:
        """Tell the observer to stop (its next heartbeat reply) and return; a stopper thread sees it exit."""
        with self._lock:
            agent = self._agents.get(observer_id)
            if agent is None or agent.stopping:
                return
            agent.stopping = True
            agent.status = "stopped"
            self._lock.notify_all()
            stopper = threading.Thread(target=self._reap, args=(observer_id, agent),
                                       name=f"observer-stop-{observer_id}", daemon=True)
            self._stoppers = [t for t in self._stoppers if t.is_alive()] + [stopper]
        stopper.start()

    def _reap(self, observer_id: int, agent: _Agent) -> None:
        proc = agent.process
        for send, grace in ((None, self.stop_grace_s), (proc.terminate, self.term_grace_s), (proc.kill, None)):
            if send is not None:
                send()
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                log.warning("observer %d: process %d has not exited yet", observer_id, proc.pid)
        with self._lock:
            agent.exited = True
            self._lock.notify_all()
        log.info("observer %d: process %d stopped (status %s)", observer_id, proc.pid, proc.returncode)

    def wait_stopped(self, observer_id: int, timeout: float) -> bool:
        """Block until a stopped observer's process has exited; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._agents[observer_id].exited, timeout)

    def heartbeat(self, observer_id: int, load: float, *, pid: int | None = None) -> tuple[bool, float]:
        with self._lock:
            agent = self._agents[observer_id]
            if pid is not None and pid != agent.process.pid:
                raise KeyError(observer_id)
            if not agent.stopping:
                agent.status = "running"
            agent.last_heartbeat = time.time()
            agent.load = load
            agent.heartbeats += 1
            self._lock.notify_all()
            return agent.stopping, self._heartbeat_s

    def status(self, observer_id: int) -> tuple[str, float, float]:
        with self._lock:
            agent = self._agents.get(observer_id)
            if agent is None:
                return "lost", 0.0, 0.0
            return agent.status, agent.last_heartbeat, agent.load

    def wait_for(self, observer_id: int, status: str, timeout: float, *, heartbeats: int = 0) -> bool:
        """Block until the observer has ``status`` and at least ``heartbeats`` heartbeats; False on timeout."""

        def reached() -> bool:
            agent = self._agents.get(observer_id)
            return agent is not None and agent.status == status and agent.heartbeats >= heartbeats

        with self._lock:
            return self._lock.wait_for(reached, timeout)

    def pid(self, observer_id: int) -> int | None:
        with self._lock:
            agent = self._agents.get(observer_id)
            return None if agent is None else agent.process.pid

    def _watch(self) -> None:
        while not self._stop.wait(self._heartbeat_s / 2):
            now = time.time()
            lost: list[tuple[int, str]] = []
            with self._lock:
                for oid, agent in self._agents.items():
                    if agent.stopping or agent.status == "lost":
                        continue
                    code = agent.process.poll()
                    if code is not None:
                        lost.append((oid, f"process {agent.process.pid} exited with status {code}"))
                    elif now - max(agent.last_heartbeat, agent.started) > MISSED_HEARTBEATS * self._heartbeat_s:
                        lost.append((oid, f"no heartbeat for {now - agent.last_heartbeat:.1f} s"))
                for oid, _ in lost:
                    self._agents[oid].status = "lost"
                if lost:
                    self._lock.notify_all()
            for oid, why in lost:
                log.warning("observer %d lost: %s", oid, why)
                if self._on_lost is not None:
                    self._on_lost(oid, why)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            agents = list(self._agents.values())
            stoppers = list(self._stoppers)
        for agent in agents:
            if agent.process.poll() is None:
                agent.process.terminate()
        for agent in agents:
            try:
                agent.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                agent.process.kill()
                agent.process.wait()
        for stopper in stoppers:  # their processes are gone now
            stopper.join()
