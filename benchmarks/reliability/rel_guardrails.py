"""R5: random and adversarial action streams never take the world past its guardrails.

For each policy: every observer is removed, random guardrails are set (tighter than the scenario's:
instance limit, budget, allowed/forbidden regions, latency zones), then 2–4 clients run random action
streams at the same time — deploy bursts past the instance limit, sampling increases past the budget,
deploys and relocations into forbidden or disallowed places, retries of earlier request ids (from the
same and from another client), and reused ids with other parameters. After every acknowledged action
and at the end of the policy the live observers are checked against the guardrails by an independent
re-implementation of their meaning; each failed check is a violation.

Two targets run the same policies: the orchestrator's :class:`~scythe_desktop.orchestrator.dispatch.ActionDesk`
in-process (where guardrails are enforced; fast enough for 10,000 policies) and a real server through
gRPC clients (fewer policies: every action is a round trip).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc

from scythe_desktop.engine.actions import Decommission
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.scenario import Scenario, load_scenario
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

EXPECTED_REFUSALS = frozenset({"FAILED_PRECONDITION", "INVALID_ARGUMENT", "NOT_FOUND"})


@dataclass(frozen=True, slots=True)
class Live:
    observer_id: int
    type_name: str
    lon: float
    lat: float
    cost_per_hour: float


def random_rails(scenario: Scenario, rng: random.Random) -> Guardrails:
    c = scenario.constraints
    regions = [r.name for r in scenario.regions]
    base_allowed = list(c.allowed_regions) or regions
    allowed = tuple(rng.sample(base_allowed, rng.randint(1, len(base_allowed)))) if rng.random() < 0.5 else ()
    forbidden = tuple(sorted(set(c.forbidden_regions) | set(rng.sample(regions, rng.randint(0, len(regions) // 2)))))
    zones = [z.name for z in scenario.latency_zones]
    chosen_zones = tuple(rng.sample(zones, rng.randint(1, len(zones)))) if zones and rng.random() < 0.4 else ()
    budget = rng.choice([0.0, rng.uniform(0, c.budget_per_hour), c.budget_per_hour])
    return Guardrails(rng.randint(0, c.max_instances), budget, allowed, forbidden, chosen_zones).validated(scenario)


def violations(live: list[Live], rails: Guardrails, scenario: Scenario) -> list[str]:
    """Independent statement of what the guardrails promise about the live observers."""
    out = []
    if len(live) > rails.max_instances:
        out.append(f"{len(live)} observers live, max_instances {rails.max_instances}")
    spend = sum(o.cost_per_hour for o in live)
    if spend > rails.budget_per_hour + 1e-6:
        out.append(f"spend {spend:.3f}/h over budget {rails.budget_per_hour:.3f}/h")
    latency = {t.name: t.latency_ms for t in scenario.observer_types}
    zone_max = {z.name: z.max_latency_ms for z in scenario.latency_zones}
    for o in live:
        # Every region holding the point counts (boxes overlap): any forbidden one forbids, the strictest zone rules.
        inside = [r for r in scenario.regions if bool(r.contains(o.lon, o.lat))]
        names = [r.name for r in inside]
        if rails.allowed_regions and not set(names) & set(rails.allowed_regions):
            out.append(f"observer {o.observer_id} at ({o.lon}, {o.lat}) in {names}, not allowed")
        if set(names) & set(rails.forbidden_regions):
            out.append(f"observer {o.observer_id} in forbidden region(s) {set(names) & set(rails.forbidden_regions)}")
        zones = {r.latency_zone for r in inside}
        if rails.latency_zones and zones - set(rails.latency_zones):
            out.append(f"observer {o.observer_id} in zone(s) {zones - set(rails.latency_zones)}, not allowed")
        if zones and latency[o.type_name] > min(zone_max[z] for z in zones):
            out.append(f"observer {o.observer_id} latency {latency[o.type_name]} over its strictest zone's max")
    return out


class _Stream:
    """One client's random action stream; requests are built when sent (they name live observer ids)."""

    def __init__(self, scenario: Scenario, rng: random.Random, subject: str, shared: list[Any]) -> None:
        self.scenario, self.rng, self.subject, self.shared = scenario, rng, subject, shared
        self.sent: list[Any] = []

    def _point(self) -> tuple[float, float]:
        rng = self.rng
        if rng.random() < 0.8:
            r = rng.choice(self.scenario.regions)
            lon_max = r.lon_max if r.lon_min <= r.lon_max else r.lon_max + 360.0
            lon = rng.uniform(r.lon_min, lon_max)
            return ((lon + 180.0) % 360.0) - 180.0, rng.uniform(r.lat_min, r.lat_max)
        return rng.uniform(-180, 180), rng.uniform(-90, 90)

    def next_request(self, live_ids: list[int]) -> Any:
        rng = self.rng
        rid = f"{self.subject}-{rng.getrandbits(48):x}"
        oid = rng.choice(live_ids) if live_ids and rng.random() < 0.9 else rng.randint(0, 50)
        kind = rng.random()
        if kind < 0.12 and self.sent:  # a retry of an earlier request (maybe another client's)
            pool = self.shared if self.shared and rng.random() < 0.5 else self.sent
            return rng.choice(pool)
        if kind < 0.16 and self.sent:  # an old id with new parameters
            old = rng.choice(self.sent)
            return pb.DeployRequest(request_id=old.request_id, lon=0.5, lat=0.5)
        if kind < 0.55:
            lon, lat = self._point()
            t = rng.choice(self.scenario.observer_types).name
            req: Any = pb.DeployRequest(request_id=rid, lon=lon, lat=lat, observer_type=t)
        elif kind < 0.75:
            req = pb.IncreaseSamplingRequest(request_id=rid, observer_id=oid)
        elif kind < 0.87:
            lon, lat = self._point()
            req = pb.RelocateRequest(request_id=rid, observer_id=oid, lon=lon, lat=lat)
        elif kind < 0.93:
            req = pb.FocusRequest(request_id=rid, observer_id=oid, cluster_id=rng.randint(0, 8))
        else:
            req = pb.DecommissionRequest(request_id=rid, observer_id=oid)
        self.sent.append(req)
        self.shared.append(req)
        return req


class _Target:
    """Where actions go: ``send(subject, request)`` → None when acted, else the refusal's code name."""

    scenario: Scenario
    send: Callable[[str, Any], str | None]
    live: Callable[[], list[Live]]
    reset: Callable[[], None]
    set_rails: Callable[[Guardrails], None]


def desk_target(scenario: Scenario, seed: int) -> _Target:
    from scythe_desktop.orchestrator.backends import SimulatedBackend
    from scythe_desktop.orchestrator.dispatch import ActionDesk
    from scythe_desktop.orchestrator.hub import FrameHub
    from scythe_desktop.orchestrator.requests import ActionRefused
    from scythe_desktop.orchestrator.wire import action_request
    from scythe_desktop.orchestrator.world_host import WorldHost

    host = WorldHost(scenario, seed, FrameHub(max_subscribers=1))
    desk = ActionDesk(host, SimulatedBackend(), None, None)
    names = [t.name for t in scenario.observer_types]

    def send(subject: str, request: Any) -> str | None:
        try:
            desk.handle(subject, action_request(request))
        except ActionRefused as exc:
            return exc.verdict.name
        return None

    def live() -> list[Live]:
        return [Live(int(o["id"]), names[int(o["type"])], float(o["lon"]), float(o["lat"]), float(o["cost_per_hour"]))
                for o in host.observers()]

    def reset() -> None:
        for o in live():
            host.apply(Decommission(o.observer_id))
        host.step()  # the world moves on between policies

    def set_rails(rails: Guardrails) -> None:
        desk.set_rails("r5-admin", rails)

    t = _Target()
    t.scenario, t.send, t.live, t.reset, t.set_rails = scenario, send, live, reset, set_rails
    return t


def run_policies(target: _Target, policies: int, seed: int, *, max_actions: int = 15) -> dict[str, Any]:
    scenario = target.scenario
    found: list[str] = []
    bad_policies = acted = refused = 0
    unexpected: list[str] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="r5-client") as pool:
        for p in range(policies):
            rng = random.Random(f"{seed}-{p}")
            target.reset()
            rails = random_rails(scenario, rng)
            target.set_rails(rails)
            shared: list[Any] = []
            subjects = ["alice", "bob"]
            streams = [_Stream(scenario, random.Random(rng.getrandbits(64)), subjects[i % 2], shared)
                       for i in range(rng.randint(2, 4))]
            policy_violations: list[str] = []

            def run(stream: _Stream, count: int, rails: Guardrails, policy_violations: list[str]) -> None:
                nonlocal acted, refused
                for _ in range(count):
                    ids = [o.observer_id for o in target.live()]
                    outcome = target.send(stream.subject, stream.next_request(ids))
                    if outcome is None:
                        broken = violations(target.live(), rails, scenario)
                        with lock:
                            acted += 1
                            policy_violations.extend(broken)
                    else:
                        with lock:
                            refused += 1
                            if outcome not in EXPECTED_REFUSALS:
                                unexpected.append(outcome)

            futures = [pool.submit(run, s, rng.randint(3, max_actions), rails, policy_violations) for s in streams]
            for f in futures:
                f.result()
            policy_violations.extend(violations(target.live(), rails, scenario))
            if policy_violations:
                bad_policies += 1
                found.extend(f"policy {p}: {v}" for v in policy_violations[:2])
    return {
        "policies": policies,
        "violations": len(found),
        "policies_with_violations": bad_policies,
        "violation_examples": found[:5],
        "actions_acted": acted,
        "actions_refused": refused,
        "unexpected_refusals": len(unexpected),
        "seed": seed,
    }


def grpc_target(scenario_name: str, seed: int) -> tuple[_Target, Callable[[], None]]:
    """A real orchestrator on loopback; four operator clients (two subjects) and one admin client."""
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
    from scythe_desktop.orchestrator import auth

    handle = start_embedded(scenario_name, seed, tick_hz=10.0)
    authority = handle.orchestrator.authority
    admin = handle.client()
    clients = {s: OrchestratorClient(handle.target, handle.credentials,
                                     refresh_token=authority.issue(s, auth.OPERATOR, kind="refresh"))
               for s in ("alice", "bob")}
    methods = {
        pb.DeployRequest: "DeployObserver", pb.RelocateRequest: "RelocateObserver",
        pb.IncreaseSamplingRequest: "IncreaseSamplingRate", pb.FocusRequest: "FocusCluster",
        pb.DecommissionRequest: "DecommissionObserver",
    }

    def send(subject: str, request: Any) -> str | None:
        c = clients[subject]
        try:
            # The client's own retry loop (same request id) is what a real operator runs.
            c._act(getattr(c._stub, methods[type(request)]), request)
        except OrchestratorError as exc:
            return exc.code.name
        return None

    def live() -> list[Live]:
        return [Live(o.observer_id, o.observer_type, o.lon, o.lat, o.cost_per_hour)
                for o in admin.list_observers().observers]

    def reset() -> None:
        for o in live():
            try:
                admin.decommission(o.observer_id)
            except OrchestratorError as exc:
                if exc.code is not grpc.StatusCode.NOT_FOUND:
                    raise

    def set_rails(rails: Guardrails) -> None:
        admin.set_guardrails(pb.Guardrails(
            max_instances=rails.max_instances, budget_per_hour=rails.budget_per_hour,
            allowed_regions=list(rails.allowed_regions), forbidden_regions=list(rails.forbidden_regions),
            latency_zones=list(rails.latency_zones)))

    def close() -> None:
        for c in (admin, *clients.values()):
            c.close()
        handle.stop()

    t = _Target()
    t.scenario, t.send, t.live, t.reset, t.set_rails = handle.orchestrator.scenario, send, live, reset, set_rails
    return t, close


def run_guardrails(desk_policies: int, grpc_policies: int, seed: int, scenario: str = "tutorial") -> dict[str, Any]:
    desk = run_policies(desk_target(load_scenario(scenario), seed), desk_policies, seed)
    target, close = grpc_target(scenario, seed)
    try:
        remote = run_policies(target, grpc_policies, seed + 1)
    finally:
        close()
    return {
        "policies": desk["policies"] + remote["policies"],
        "violations": desk["violations"] + remote["violations"],
        "policies_in_process": desk["policies"],
        "policies_over_grpc": remote["policies"],
        "actions_acted": desk["actions_acted"] + remote["actions_acted"],
        "actions_refused": desk["actions_refused"] + remote["actions_refused"],
        "unexpected_refusals": desk["unexpected_refusals"] + remote["unexpected_refusals"],
        "violation_examples": desk["violation_examples"] + remote["violation_examples"],
        "seed": seed,
    }
