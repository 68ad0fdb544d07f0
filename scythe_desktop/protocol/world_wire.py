"""The world's facts on the wire: ``scythe.v1.WorldInfo``, ``ObserverList`` and ``Guardrails`` <-> plain values,
and the names of the field kinds.

What a client reads about a world (its regions, zones, observer types, guardrails, the live observers) comes
back as these frozen values, so the console and the CLI never hold a protobuf message. The field names are the
messages' own, so a reader of the ``.proto`` knows what each one means; repeated fields become tuples. The
guardrails are :class:`~scythe_desktop.engine.guardrails.Guardrails`, the very value the server checks.
Knows the generated messages, nothing of transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scythe_desktop.engine.guardrails import Guardrails
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

#: ``GetField``'s kinds by name (the client asks by name; the orchestrator's field desk answers by name).
FIELD_KINDS: Final[dict[str, int]] = {
    "coverage": pb.COVERAGE, "occlusion": pb.OCCLUSION, "uncertainty": pb.UNCERTAINTY, "volume": pb.VOLUME,
}


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """A named box (``lon_min > lon_max``: it crosses the antimeridian) and the latency zone it belongs to."""

    name: str
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    latency_zone: str = ""


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    name: str
    max_latency_ms: float


@dataclass(frozen=True, slots=True)
class ObserverTypeInfo:
    name: str
    coverage_radius_km: float
    cost_per_hour: float
    latency_ms: float


@dataclass(frozen=True, slots=True)
class WorldInfo:
    scenario: str
    seed: int
    tick: int
    tick_rate_hz: float
    latest_seq: int
    node_count: int
    cluster_count: int
    regions: tuple[RegionInfo, ...]
    latency_zones: tuple[ZoneInfo, ...]
    guardrails: Guardrails
    spend_per_hour: float
    observer_types: tuple[ObserverTypeInfo, ...]
    server_version: str
    backend: str
    idempotency_window_s: float
    idempotency_window_requests: int


@dataclass(frozen=True, slots=True)
class ObserverInfo:
    observer_id: int
    observer_type: str
    lon: float
    lat: float
    sampling_rate: float
    focus_cluster: int  # -1 when not focused
    cost_per_hour: float
    backend: str  # simulated | process | docker-plan | terraform-plan | kubernetes-plan
    status: str  # running | starting | lost | stopped
    last_heartbeat_unix: float
    load: float


@dataclass(frozen=True, slots=True)
class ObserverList:
    tick: int = 0
    observers: tuple[ObserverInfo, ...] = ()


def guardrails(m: pb.Guardrails) -> Guardrails:
    return Guardrails(int(m.max_instances), float(m.budget_per_hour), tuple(m.allowed_regions),
                      tuple(m.forbidden_regions), tuple(m.latency_zones))


def guardrails_message(g: Guardrails) -> pb.Guardrails:
    return pb.Guardrails(max_instances=g.max_instances, allowed_regions=g.allowed_regions,
                         forbidden_regions=g.forbidden_regions, latency_zones=g.latency_zones,
                         budget_per_hour=g.budget_per_hour)


def world_info(m: pb.WorldInfo) -> WorldInfo:
    return WorldInfo(
        m.scenario, int(m.seed), int(m.tick), float(m.tick_rate_hz), int(m.latest_seq), int(m.node_count),
        int(m.cluster_count),
        tuple(RegionInfo(r.name, r.lon_min, r.lon_max, r.lat_min, r.lat_max, r.latency_zone) for r in m.regions),
        tuple(ZoneInfo(z.name, z.max_latency_ms) for z in m.latency_zones),
        guardrails(m.guardrails), float(m.spend_per_hour),
        tuple(ObserverTypeInfo(t.name, t.coverage_radius_km, t.cost_per_hour, t.latency_ms) for t in m.observer_types),
        m.server_version, m.backend, float(m.idempotency_window_s), int(m.idempotency_window_requests),
    )


def world_info_message(w: WorldInfo) -> pb.WorldInfo:
    return pb.WorldInfo(
        scenario=w.scenario, seed=w.seed, tick=w.tick, tick_rate_hz=w.tick_rate_hz, latest_seq=w.latest_seq,
        node_count=w.node_count, cluster_count=w.cluster_count,
        regions=[pb.Region(name=r.name, lon_min=r.lon_min, lon_max=r.lon_max, lat_min=r.lat_min, lat_max=r.lat_max,
                           latency_zone=r.latency_zone) for r in w.regions],
        latency_zones=[pb.LatencyZone(name=z.name, max_latency_ms=z.max_latency_ms) for z in w.latency_zones],
        guardrails=guardrails_message(w.guardrails), spend_per_hour=w.spend_per_hour,
        observer_types=[pb.ObserverType(name=t.name, coverage_radius_km=t.coverage_radius_km,
                                        cost_per_hour=t.cost_per_hour, latency_ms=t.latency_ms)
                        for t in w.observer_types],
        server_version=w.server_version, backend=w.backend, idempotency_window_s=w.idempotency_window_s,
        idempotency_window_requests=w.idempotency_window_requests,
    )


def observer_list(m: pb.ObserverList) -> ObserverList:
    return ObserverList(int(m.tick), tuple(
        ObserverInfo(int(o.observer_id), o.observer_type, o.lon, o.lat, float(o.sampling_rate), int(o.focus_cluster),
                     o.cost_per_hour, o.backend, o.status, o.last_heartbeat_unix, float(o.load))
        for o in m.observers))


__all__ = [
    "FIELD_KINDS", "ObserverInfo", "ObserverList", "ObserverTypeInfo", "RegionInfo", "WorldInfo", "ZoneInfo",
    "guardrails", "guardrails_message", "observer_list", "world_info", "world_info_message",
]
