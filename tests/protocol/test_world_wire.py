"""The world's facts as plain values: every message field has a value field of the same name, and a round trip
through the values loses nothing."""

from __future__ import annotations

import dataclasses

import pytest

from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.protocol import world_wire as ww
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


@pytest.mark.parametrize(
    ("message", "value"),
    [
        (pb.WorldInfo, ww.WorldInfo),
        (pb.Region, ww.RegionInfo),
        (pb.LatencyZone, ww.ZoneInfo),
        (pb.ObserverType, ww.ObserverTypeInfo),
        (pb.Guardrails, Guardrails),
        (pb.ObserverList, ww.ObserverList),
        (pb.Observer, ww.ObserverInfo),
    ],
)
def test_every_message_field_has_a_value_field(message: type, value: type) -> None:
    fields = {f.name for f in message.DESCRIPTOR.fields}  # type: ignore[attr-defined]
    assert fields == {f.name for f in dataclasses.fields(value)}


def _world_info() -> pb.WorldInfo:
    s = load_scenario("regional")
    return pb.WorldInfo(
        scenario=s.name, seed=7, tick=123, tick_rate_hz=5.0, latest_seq=99, node_count=4000, cluster_count=48,
        regions=[pb.Region(name=r.name, lon_min=r.lon_min, lon_max=r.lon_max, lat_min=r.lat_min, lat_max=r.lat_max,
                           latency_zone=r.latency_zone) for r in s.regions],
        latency_zones=[pb.LatencyZone(name=z.name, max_latency_ms=z.max_latency_ms) for z in s.latency_zones],
        guardrails=pb.Guardrails(max_instances=6, allowed_regions=["a", "b"], forbidden_regions=["c"],
                                 latency_zones=["z"], budget_per_hour=12.5),
        spend_per_hour=3.25,
        observer_types=[pb.ObserverType(name=t.name, coverage_radius_km=t.coverage_radius_km,
                                        cost_per_hour=t.cost_per_hour, latency_ms=t.latency_ms)
                        for t in s.observer_types],
        server_version="0.1.0", backend="simulated", idempotency_window_s=600.0, idempotency_window_requests=1000,
    )


def test_world_info_round_trips_through_its_value() -> None:
    message = _world_info()
    value = ww.world_info(message)
    assert ww.world_info_message(value) == message
    assert value.guardrails == Guardrails(6, 12.5, ("a", "b"), ("c",), ("z",))
    assert [r.name for r in value.regions] == [r.name for r in message.regions]
    assert ww.guardrails(ww.guardrails_message(value.guardrails)) == value.guardrails


def test_observer_list_keeps_every_observer_in_order() -> None:
    message = pb.ObserverList(tick=5, observers=[
        pb.Observer(observer_id=i, observer_type="probe", lon=i, lat=-i, sampling_rate=2.0, focus_cluster=-1,
                    cost_per_hour=0.5, backend="simulated", status="running", last_heartbeat_unix=1.0, load=0.25)
        for i in range(3)
    ])
    value = ww.observer_list(message)
    assert value.tick == 5 and [o.observer_id for o in value.observers] == [0, 1, 2]
    assert value.observers[2] == ww.ObserverInfo(2, "probe", 2.0, -2.0, 2.0, -1, 0.5, "simulated", "running", 1.0, 0.25)
