"""Actions through a real orchestrator: idempotency, every guardrail, bad input, the audit log."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import grpc
import pytest

from scythe_desktop.cli import main
from scythe_desktop.client.embedded import EmbeddedOrchestrator
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.orchestrator.audit import AuditLog
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.world_wire import WorldInfo

# The tutorial scenario: regions north_america_east and western_europe (zone atlantic), mid_atlantic
# (-50..-12, 20..60, zone remote), arctic (forbidden); observer types probe (cheap, fast) and satellite
# (slower than the remote zone allows); max 4 instances, budget 10/h.
NEW_YORK = (-74.0, 40.7)
PARIS = (2.35, 48.85)


def _refused(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(OrchestratorError) as err:
        call()  # type: ignore[operator]
    assert err.value.code is code, err.value
    return err.value.details


def test_the_same_deploy_sent_three_times_deploys_once(client: OrchestratorClient) -> None:
    replies = [client.deploy(*NEW_YORK, request_id="same-id") for _ in range(3)]
    assert len(client.list_observers().observers) == 1
    assert {r.observer_id for r in replies} == {replies[0].observer_id}
    assert [r.replayed for r in replies] == [False, True, True]


def test_concurrent_retries_of_one_request_act_once(client: OrchestratorClient) -> None:
    replies: list[pb.ActionReply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(client.deploy(*PARIS, request_id="race"))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(client.list_observers().observers) == 1
    assert sum(not r.replayed for r in replies) == 1


def test_a_request_id_reused_for_other_parameters_is_invalid(client: OrchestratorClient) -> None:
    client.deploy(*NEW_YORK, request_id="dup")
    details = _refused(lambda: client.deploy(*PARIS, request_id="dup"), grpc.StatusCode.INVALID_ARGUMENT)
    assert "request_id 'dup'" in details


def test_a_refusal_is_replayed_too(client: OrchestratorClient) -> None:
    first = _refused(lambda: client.deploy(100.0, 10.0, request_id="far"), grpc.StatusCode.FAILED_PRECONDITION)
    client.set_guardrails(Guardrails(max_instances=4, budget_per_hour=10))  # would now allow it
    again = _refused(lambda: client.deploy(100.0, 10.0, request_id="far"), grpc.StatusCode.FAILED_PRECONDITION)
    assert again == first


def test_max_instances_guardrail(client: OrchestratorClient) -> None:
    client.set_guardrails(Guardrails(max_instances=1, budget_per_hour=10, allowed_regions=("north_america_east",)))
    client.deploy(*NEW_YORK)
    details = _refused(lambda: client.deploy(-80.0, 35.0), grpc.StatusCode.FAILED_PRECONDITION)
    assert details.startswith("guardrail max_instances:")


def test_allowed_regions_guardrail(client: OrchestratorClient) -> None:
    details = _refused(lambda: client.deploy(100.0, 10.0), grpc.StatusCode.FAILED_PRECONDITION)
    assert details.startswith("guardrail allowed_regions:")


def test_forbidden_regions_guardrail(client: OrchestratorClient) -> None:
    client.set_guardrails(Guardrails(max_instances=4, budget_per_hour=10, forbidden_regions=("arctic",)))
    details = _refused(lambda: client.deploy(0.0, 75.0), grpc.StatusCode.FAILED_PRECONDITION)
    assert details.startswith("guardrail forbidden_regions:") and "arctic" in details


def test_latency_zones_guardrail(client: OrchestratorClient) -> None:
    info = client.world_info()
    satellite = next(t for t in info.observer_types if t.name == "satellite")
    remote = next(z for z in info.latency_zones if z.name == "remote")
    assert satellite.latency_ms > remote.max_latency_ms
    details = _refused(
        lambda: client.deploy(-30.0, 40.0, observer_type="satellite"),  # mid_atlantic: remote
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert details.startswith("guardrail latency_zones:") and f"{satellite.latency_ms:g} ms" in details
    client.set_guardrails(Guardrails(max_instances=4, budget_per_hour=10, latency_zones=("atlantic",)))
    details = _refused(lambda: client.deploy(-30.0, 40.0), grpc.StatusCode.FAILED_PRECONDITION)  # zone remote
    assert details.startswith("guardrail latency_zones:") and "remote" in details


def test_budget_guardrail_on_deploy_and_on_sampling(client: OrchestratorClient) -> None:
    client.set_guardrails(
        Guardrails(max_instances=4, budget_per_hour=5, allowed_regions=("north_america_east", "western_europe"))
    )
    probe = client.deploy(*NEW_YORK)
    client.deploy(*PARIS)
    details = _refused(lambda: client.deploy(-80.0, 35.0), grpc.StatusCode.FAILED_PRECONDITION)
    assert details.startswith("guardrail budget_per_hour:") and "over the budget of 5.00/h" in details
    details = _refused(lambda: client.increase_sampling(probe.observer_id), grpc.StatusCode.FAILED_PRECONDITION)
    assert details.startswith("guardrail budget_per_hour:")


def test_only_admin_changes_guardrails_and_bad_names_are_refused(client: OrchestratorClient) -> None:
    details = _refused(
        lambda: client.set_guardrails(Guardrails(0, 0.0, allowed_regions=("atlantis",))),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "atlantis" in details
    rails = client.set_guardrails(Guardrails(max_instances=2, budget_per_hour=3.5))
    info = client.world_info()
    assert isinstance(info, WorldInfo) and isinstance(rails, Guardrails)  # the client hands back no protobuf
    assert info.guardrails == rails


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (lambda c: c.deploy(math.nan, 40.0), grpc.StatusCode.INVALID_ARGUMENT, "lon"),
        (lambda c: c.deploy(200.0, 40.0), grpc.StatusCode.INVALID_ARGUMENT, "lon"),
        (lambda c: c.deploy(-200.0, 40.0), grpc.StatusCode.INVALID_ARGUMENT, "lon"),
        (lambda c: c.deploy(-70.0, math.inf), grpc.StatusCode.INVALID_ARGUMENT, "lat"),
        (lambda c: c.relocate(0, -70.0, 95.0), grpc.StatusCode.INVALID_ARGUMENT, "lat"),
        (lambda c: c.deploy(-70.0, 40.0, observer_type="drone"), grpc.StatusCode.INVALID_ARGUMENT, "observer_type"),
        (lambda c: c.deploy(-70.0, 40.0, request_id="x" * 129), grpc.StatusCode.INVALID_ARGUMENT, "request_id"),
        (
            lambda c: c._act(c._stub.DeployObserver, pb.DeployRequest(lon=-70, lat=40)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "request_id",
        ),
        (lambda c: c.relocate(4242, -70.0, 40.0), grpc.StatusCode.NOT_FOUND, "observer_id"),
        (lambda c: c.increase_sampling(4242), grpc.StatusCode.NOT_FOUND, "observer_id"),
        (lambda c: c.decommission(4242), grpc.StatusCode.NOT_FOUND, "observer_id"),
        (lambda c: c.focus(4242, 0), grpc.StatusCode.NOT_FOUND, "observer_id"),
        (lambda c: c.cluster_graph(999_999), grpc.StatusCode.NOT_FOUND, "cluster_id"),
        (lambda c: c.field(pb.COVERAGE, height=0, width=10), grpc.StatusCode.INVALID_ARGUMENT, "height"),
        (lambda c: c.field(pb.UNCERTAINTY, height=10, width=5000), grpc.StatusCode.INVALID_ARGUMENT, "width"),
        (lambda c: c.field(pb.VOLUME, size=500), grpc.StatusCode.INVALID_ARGUMENT, "size"),
    ],
)
def test_bad_input_names_the_field_and_the_server_keeps_serving(
    client: OrchestratorClient, call: object, code: grpc.StatusCode, field: str
) -> None:
    details = _refused(lambda: call(client), code)  # type: ignore[operator]
    assert details.startswith(field), details
    assert client.world_info().scenario == "tutorial"


def test_unknown_cluster_in_focus_is_not_found(client: OrchestratorClient) -> None:
    observer = client.deploy(*NEW_YORK)
    details = _refused(lambda: client.focus(observer.observer_id, 999_999), grpc.StatusCode.NOT_FOUND)
    assert details.startswith("cluster_id")


def test_all_five_actions_succeed_and_are_audited(
    client: OrchestratorClient, embedded: EmbeddedOrchestrator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oid = client.deploy(*NEW_YORK, request_id="a-deploy").observer_id
    cluster = int(client.world_info().cluster_count and embedded.orchestrator.host.world.clusters["id"][0])
    assert client.relocate(oid, -75.0, 41.0).ok
    assert client.increase_sampling(oid).ok
    assert client.focus(oid, cluster).ok
    assert client.decommission(oid).ok
    _refused(lambda: client.deploy(100.0, 10.0, request_id="a-refused"), grpc.StatusCode.FAILED_PRECONDITION)
    client.deploy(*NEW_YORK, request_id="a-deploy")  # a replay

    log = AuditLog(tmp_path / "audit.sqlite")
    records = list(log.records())
    assert [r.action for r in records] == [
        "deploy",
        "relocate",
        "increase_sampling",
        "focus",
        "decommission",
        "deploy",
        "deploy",
    ]
    assert records[0].subject == client.subject and records[0].request_id == "a-deploy"
    assert records[0].params == {"lon": NEW_YORK[0], "lat": NEW_YORK[1], "observer_type": "probe"}
    assert records[5].guardrail == "refused: allowed_regions" and records[5].result == "FAILED_PRECONDITION"
    assert records[6].replayed and records[6].result == "OK"
    with pytest.raises(Exception, match="append-only"):
        log._db.execute("UPDATE audit SET result = 'OK'")
    with pytest.raises(Exception, match="append-only"):
        log._db.execute("DELETE FROM audit")
    log.close()

    assert main(["audit", str(tmp_path / "audit.sqlite"), "--result", "FAILED_PRECONDITION", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == ["a-refused"]


def test_audit_cli_refuses_a_file_that_is_not_an_audit_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"not sqlite at all" * 100)
    assert main(["audit", str(bogus)]) == 2
    assert "not an audit log" in capsys.readouterr().err


def test_requests_refused_as_invalid_are_audited_too(client: OrchestratorClient, tmp_path: Path) -> None:
    _refused(lambda: client.deploy(math.nan, 40.0, request_id="bad-lon"), grpc.StatusCode.INVALID_ARGUMENT)
    _refused(lambda: client.decommission(4242, request_id="ghost"), grpc.StatusCode.NOT_FOUND)
    log = AuditLog(tmp_path / "audit.sqlite")
    records = {r.request_id: r for r in log.records()}
    log.close()
    assert (records["bad-lon"].action, records["bad-lon"].result) == ("deploy", "INVALID_ARGUMENT")
    assert records["bad-lon"].guardrail == "not reached" and records["bad-lon"].message.startswith("lon")
    assert (records["ghost"].action, records["ghost"].result) == ("decommission", "NOT_FOUND")
