"""The issue's reproduction on a real ``regional`` server: a point in an allowed *and* a forbidden region is
refused, a 250 ms satellite is held to the 120 ms zone of (10, 38), and Automate refuses the same from the
server's own world info."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import grpc
import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, WorldRules
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.proposals import Proposal

POINTS = ((10.0, 38.0), (12.0, 57.0), (20.0, 34.0))


@pytest.fixture(scope="module")
def regional() -> Iterator[EmbeddedOrchestrator]:
    handle = start_embedded("regional", 0, tick_hz=2.0, auth_secret=secrets.token_hex(32))
    yield handle
    handle.stop()


@pytest.fixture
def admin(regional: EmbeddedOrchestrator) -> Iterator[OrchestratorClient]:
    with regional.client() as c:
        shipped = c.world_info().guardrails
        yield c
        c.set_guardrails(shipped)


def _refusal(call: object) -> str:
    with pytest.raises(OrchestratorError) as err:
        call()  # type: ignore[operator]
    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION, err.value
    return err.value.details


def _automate(client: OrchestratorClient) -> AutomateGuard:
    return AutomateGuard(AutomateLimits(budget_per_hour=1e9, max_deploys_per_minute=100),
                         WorldRules.from_world_info(client.world_info()))


def _proposal(lon: float, lat: float, kind: str) -> Proposal:
    return Proposal(Deploy(lon, lat, kind), "t", 1.0, 0.0, 1.0, "", "test")


def test_a_point_in_any_forbidden_region_is_refused(admin: OrchestratorClient) -> None:
    rails = admin.world_info().guardrails
    admin.set_guardrails(Guardrails(
        max_instances=rails.max_instances, budget_per_hour=rails.budget_per_hour,
        allowed_regions=rails.allowed_regions, latency_zones=rails.latency_zones,
        forbidden_regions=("conflict_zone", "mediterranean_sea", "nordics")))
    guard = _automate(admin)
    for lon, lat in POINTS:
        assert "forbidden" in _refusal(lambda lon=lon, lat=lat: admin.deploy(lon, lat, "probe"))
        verdict = guard.check(_proposal(lon, lat, "probe"), 0.0, 0.0)
        assert not verdict.allowed and verdict.reason.startswith("forbidden_regions"), verdict
    assert not admin.list_observers().observers


def test_the_strictest_latency_zone_applies(admin: OrchestratorClient) -> None:
    details = _refusal(lambda: admin.deploy(10.0, 38.0, "satellite"))
    assert "latency" in details and "120" in details
    verdict = _automate(admin).check(_proposal(10.0, 38.0, "satellite"), 0.0, 0.0)
    assert not verdict.allowed and verdict.reason.startswith("latency_zones"), verdict
    assert _automate(admin).check(_proposal(10.0, 45.0, "satellite"), 0.0, 0.0).allowed  # only core there
    oid = admin.deploy(10.0, 38.0, "probe").observer_id  # 30 ms fits both zones
    assert admin.decommission(oid).ok
