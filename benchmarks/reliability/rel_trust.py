"""R8: trust, hardened (issue #16 items 1–8) — the figures that say a token, a rail or the audit log holds.

* ``guardrail_bypasses``: random points × random overlapping rails (boxes across the antimeridian included);
  a bypass is a point the independent rule (:mod:`benchmarks.reliability.placement_oracle`) refuses but the
  world's validation, the orchestrator's guardrails or the console's Automate filter lets through — in process
  for the many, and as real deploys through a real ``regional`` server for some.
* ``unauthenticated_lockout_failures``: a real server with 200 unauthenticated streams opened (reflection and
  health ``Watch``, plus threads re-opening refused ones throughout) and one viewer holding as many streams
  as it may; every failed admin ``Refresh``, ``GetWorldInfo`` or ``StreamClusterUpdates`` counts.
* ``secrets_in_child_environment``: observer processes of a real ``--backend process`` server started from an
  environment full of secrets; each secret-looking variable (or the signing secret's value) in a child's
  ``/proc/PID/environ`` counts.
* ``audit_tamper_cases_detected``: the fraction of tampered copies of a real audit log (edit, delete,
  reorder, truncate rows or bytes, trigger drop, forged row) that ``verify`` reports broken.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from benchmarks.reliability import placement_oracle
from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, WorldRules
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.constraints import check_placement
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.engine.scenario import LatencyZone, Region, Scenario, load_scenario
from scythe_desktop.orchestrator import auth, guardrails
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2_grpc as pb_grpc

SECRET = "reliability-trust-secret-" + "t" * 24
ZONES = {"core": 300.0, "edge": 120.0, "tight": 20.0}

# ------------------------------------------------------------------------------------ guardrail bypasses


def _random_world(rng: random.Random, base: Scenario) -> tuple[Scenario, guardrails.Guardrails]:
    regions = []
    for i in range(rng.randint(2, 7)):
        lo, hi = rng.uniform(-180, 180), rng.uniform(-180, 180)  # hi < lo: across the antimeridian
        lat0 = rng.uniform(-90, 80)
        regions.append(Region(f"r{i}", lo, hi, lat0, rng.uniform(lat0 + 1, 90), rng.choice(sorted(ZONES)), 0, 1))
    names = [r.name for r in regions]
    allowed = tuple(rng.sample(names, rng.randint(1, len(names)))) if rng.random() < 0.5 else ()
    forbidden = tuple(rng.sample(names, rng.randint(0, len(names) // 2)))
    zones = tuple(rng.sample(sorted(ZONES), rng.randint(1, 3))) if rng.random() < 0.5 else ()
    scenario = replace(base, regions=tuple(regions),
                       latency_zones=tuple(LatencyZone(z, ms) for z, ms in ZONES.items()),
                       constraints=replace(base.constraints, allowed_regions=allowed, forbidden_regions=forbidden))
    return scenario, guardrails.Guardrails(99, 1e9, allowed, forbidden, zones)


def _point(rng: random.Random, regions: tuple[Region, ...]) -> tuple[float, float]:
    if rng.random() < 0.25:
        return rng.uniform(-180, 180), rng.uniform(-90, 90)
    r = rng.choice(regions)  # inside a box, where boxes overlap most
    hi = r.lon_max if r.lon_min <= r.lon_max else r.lon_max + 360.0
    lon = rng.uniform(r.lon_min, hi)
    return (lon - 360.0 if lon > 180.0 else lon), rng.uniform(r.lat_min, r.lat_max)


def guardrail_bypasses_in_process(points: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}-rails")
    base = load_scenario("regional")
    bypasses = false_refusals = refused = 0
    examples: list[str] = []
    for _ in range(points):
        scenario, rails = _random_world(rng, base)
        lon, lat = _point(rng, scenario.regions)
        t = rng.randrange(len(scenario.observer_types))
        kind = scenario.observer_types[t]
        expect_world = placement_oracle.verdict(
            scenario.regions, lon, lat, allowed=rails.allowed_regions, forbidden=rails.forbidden_regions,
            zone_limits=ZONES, latency_ms=kind.latency_ms)
        expect_rails = placement_oracle.verdict(
            scenario.regions, lon, lat, allowed=rails.allowed_regions, forbidden=rails.forbidden_regions,
            zone_limits=ZONES, allowed_zones=rails.latency_zones, latency_ms=kind.latency_ms)
        rules = WorldRules(scenario.regions, ZONES, {x.name: x.latency_ms for x in scenario.observer_types},
                           rails.allowed_regions, rails.forbidden_regions, rails.latency_zones)
        automate = AutomateGuard(AutomateLimits(budget_per_hour=1e9, max_deploys_per_minute=10**6), rules)
        verdicts = {
            "world": (check_placement(scenario, lon, lat, t) is None, expect_world is None),
            "orchestrator": (guardrails.check(rails, scenario, live_instances=0, spend_per_hour=0.0,
                                              target=(lon, lat), latency_ms=kind.latency_ms) is None,
                             expect_rails is None),
            "automate": (automate.check(Proposal(Deploy(lon, lat, kind.name), "", 1, 0, 1, "", ""), 0, 0).allowed,
                         expect_rails is None),
        }
        refused += expect_rails is not None
        for who, (allowed, expected) in verdicts.items():
            if allowed and not expected:
                bypasses += 1
                examples.append(f"{who} let ({lon:.4f}, {lat:.4f}) {kind.name} through")
            false_refusals += expected and not allowed
    return {"points": points, "bypasses": bypasses, "false_refusals": false_refusals,
            "oracle_refused": refused, "examples": examples[:5]}


def guardrail_bypasses_over_grpc(deploys: int, seed: int) -> dict[str, Any]:
    """Random rails on the real ``regional`` server (its boxes overlap), random deploys through gRPC."""
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.client.grpc_client import OrchestratorError

    rng = random.Random(f"{seed}-grpc-rails")
    handle = start_embedded("regional", seed, tick_hz=2.0, auth_secret=SECRET)
    scenario = handle.orchestrator.scenario
    limits = {z.name: z.max_latency_ms for z in scenario.latency_zones}
    names = [r.name for r in scenario.regions]
    zones = list(limits)
    bypasses = acted = 0
    try:
        with handle.client() as c:
            for i in range(deploys):
                if i % 10 == 0:
                    allow = rng.sample(names, rng.randint(1, len(names))) if rng.random() < 0.5 else []
                    rails = pb.Guardrails(max_instances=99, budget_per_hour=1e9, allowed_regions=allow,
                                          forbidden_regions=rng.sample(names, rng.randint(0, 3)),
                                          latency_zones=rng.sample(zones, rng.randint(1, len(zones))))
                    c.set_guardrails(rails)
                lon, lat = _point(rng, scenario.regions)
                kind = rng.choice(scenario.observer_types)
                expected = placement_oracle.verdict(
                    scenario.regions, lon, lat, allowed=rails.allowed_regions, forbidden=rails.forbidden_regions,
                    zone_limits=limits, allowed_zones=rails.latency_zones, latency_ms=kind.latency_ms)
                try:
                    oid = c.deploy(lon, lat, kind.name).observer_id
                except OrchestratorError:
                    continue
                acted += 1
                bypasses += expected is not None
                c.decommission(oid)
    finally:
        handle.stop()
    return {"deploys": deploys, "acted": acted, "bypasses": bypasses}


# ------------------------------------------------------------------------------------------- lock-out


class _Hammer:
    """Threads that keep opening token-less reflection streams (each refused at once) until stopped."""

    def __init__(self, target: str, creds: grpc.ChannelCredentials, threads: int) -> None:
        self.stop = threading.Event()
        self.attempts = 0
        self._threads = [threading.Thread(target=self._run, args=(target, creds), daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self, target: str, creds: grpc.ChannelCredentials) -> None:
        with grpc.secure_channel(target, creds) as ch:
            stub = reflection_pb2_grpc.ServerReflectionStub(ch)
            while not self.stop.is_set():
                ask = reflection_pb2.ServerReflectionRequest(list_services="")
                with contextlib.suppress(grpc.RpcError):
                    list(stub.ServerReflectionInfo(iter([ask]), timeout=10))
                self.attempts += 1

    def close(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join()


def _open_streams(channel: grpc.Channel, count: int, hold: threading.Event) -> tuple[list[Any], int]:
    """``count`` token-less streams, half reflection (its requests wait on ``hold``), half health Watch;
    (the calls, how many the server admitted)."""
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    health = health_pb2_grpc.HealthStub(channel)

    def held() -> Iterator[Any]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        hold.wait()

    calls = [reflection.ServerReflectionInfo(held()) if i % 2 else health.Watch(health_pb2.HealthCheckRequest())
             for i in range(count)]
    admitted = 0
    for call in calls:
        try:
            next(call)
            admitted += 1
        except grpc.RpcError:
            pass
    return calls, admitted


def _viewer_streams(channel: grpc.Channel, token: str, most: int) -> list[Any]:
    """Streams of one viewer, opened until the server refuses one (at most ``most`` tries)."""
    stub = pb_grpc.OrchestratorStub(channel)
    held: list[Any] = []
    for _ in range(most):
        call = stub.StreamClusterUpdates(pb.StreamRequest(), metadata=(("authorization", f"Bearer {token}"),))
        try:
            next(call)
        except grpc.RpcError:
            break
        held.append(call)
    return held


def _admin_round(channel: grpc.Channel, refresh_token: str) -> int:
    """Refresh, GetWorldInfo and one frame of StreamClusterUpdates as an admin: how many failed."""
    failures = 0
    try:
        access = pb_grpc.AuthStub(channel).Refresh(
            pb.RefreshRequest(), metadata=(("authorization", f"Bearer {refresh_token}"),), timeout=10).access_token
    except grpc.RpcError:
        return 3
    bearer = (("authorization", f"Bearer {access}"),)
    stub = pb_grpc.OrchestratorStub(channel)
    try:
        stub.GetWorldInfo(pb.WorldInfoRequest(), metadata=bearer, timeout=10)
    except grpc.RpcError:
        failures += 1
    stream = stub.StreamClusterUpdates(pb.StreamRequest(), metadata=bearer, timeout=30)
    try:
        next(stream)
    except grpc.RpcError:
        failures += 1
    stream.cancel()
    return failures


def run_lockout(unauthenticated: int, rounds: int, *, hammer_threads: int = 4) -> dict[str, Any]:
    from scythe_desktop.client.embedded import start_embedded

    handle = start_embedded("tutorial", 0, tick_hz=10.0, auth_secret=SECRET)
    authority = handle.orchestrator.authority
    limits = handle.orchestrator.admission.limits
    hold = threading.Event()
    channels = [grpc.secure_channel(handle.target, handle.credentials) for _ in range(4)]
    calls: list[Any] = []
    try:
        admitted = 0
        for i, ch in enumerate(channels[:3]):
            opened, ok = _open_streams(ch, unauthenticated // 3 + (i < unauthenticated % 3), hold)
            calls += opened
            admitted += ok
        viewer = authority.issue("viewer-greedy", auth.VIEWER)
        calls += _viewer_streams(channels[3], viewer, limits.total + 1)
        viewer_streams = len(calls) - unauthenticated
        hammer = _Hammer(handle.target, handle.credentials, hammer_threads)
        try:
            admin = authority.issue("admin-late", auth.ADMIN, kind="refresh")
            with grpc.secure_channel(handle.target, handle.credentials) as mine:
                failures = sum(_admin_round(mine, admin) for _ in range(rounds))
        finally:
            hammer.close()
        return {
            "unauthenticated_lockout_failures": failures,
            "authenticated_calls": 3 * rounds,
            "unauthenticated_streams_opened": unauthenticated,
            "unauthenticated_streams_admitted": admitted,
            "unauthenticated_reopen_attempts": hammer.attempts,
            "viewer_streams_admitted": viewer_streams,
            "stream_limits": {"total": limits.total, "per_identity": limits.per_identity,
                              "anonymous": limits.anonymous, "reserved": limits.reserved},
        }
    finally:
        hold.set()
        for call in calls:
            call.cancel()
        for ch in channels:
            ch.close()
        handle.stop()


# -------------------------------------------------------------------------------------- child secrets

#: Planted in the server's environment; none may reach an observer process.
PLANTED = {"SCYTHE_AUTH_SECRET": SECRET, "AWS_SECRET_ACCESS_KEY": "aws-" + "k" * 20,
           "GITHUB_TOKEN": "ghp_" + "x" * 20, "DATABASE_PASSWORD": "hunter2-" + "p" * 8,
           "SCYTHE_TOKEN": "tok-" + "z" * 20}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _leaks(pid: int) -> list[str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    secret_values = {v.encode() for v in PLANTED.values()}
    return [k.decode() for k, v in env.items()
            if k.decode() in PLANTED or k.startswith(b"SCYTHE_") or v in secret_values]


def run_child_environment(observers: int) -> dict[str, Any]:
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.orchestrator.backends import ProcessBackend

    leaked: list[str] = []
    with _environment(PLANTED):  # the whole run: children are spawned from this environment
        handle = start_embedded("tutorial", 0, tick_hz=10.0, backend="process",
                                auth_secret=os.environ["SCYTHE_AUTH_SECRET"])
        try:
            backend = handle.orchestrator.backend
            assert isinstance(backend, ProcessBackend)
            with handle.client() as c:
                for i in range(observers):
                    oid = c.deploy(-74.0 + i * 0.5, 40.7).observer_id
                    pid = backend.pid(oid)
                    assert pid is not None
                    if not backend.wait_for(oid, "running", timeout=60, heartbeats=1):
                        raise RuntimeError(f"observer {oid} never heartbeated")
                    leaked += [f"observer {oid}: {name}" for name in _leaks(pid)]
                    c.decommission(oid)
        finally:
            handle.stop()
    return {"secrets_in_child_environment": len(leaked), "observers_started": observers,
            "secrets_planted": len(PLANTED), "leaks": leaked[:5]}


def run_trust(points: int, grpc_deploys: int, unauthenticated: int, rounds: int, observers: int, tamper: int,
              seed: int) -> dict[str, Any]:
    from benchmarks.reliability.rel_tamper import run_tamper

    t0 = time.monotonic()
    local = guardrail_bypasses_in_process(points, seed)
    remote = guardrail_bypasses_over_grpc(grpc_deploys, seed)
    out: dict[str, Any] = {
        "guardrail_bypasses": local["bypasses"] + remote["bypasses"],
        "guardrail_points": local["points"],
        "guardrail_false_refusals": local["false_refusals"],
        "guardrail_points_refused": local["oracle_refused"],
        "guardrail_deploys_over_grpc": remote["deploys"],
        "guardrail_deploys_acted_over_grpc": remote["acted"],
        "guardrail_bypass_examples": local["examples"],
        "guardrail_s": round(time.monotonic() - t0, 1),
    }
    out.update(run_lockout(unauthenticated, rounds))
    out.update(run_child_environment(observers))
    out.update(run_tamper(tamper, seed))
    return out
