from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrameKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_KIND_UNSPECIFIED: _ClassVar[FrameKind]
    KEYFRAME: _ClassVar[FrameKind]
    DELTA: _ClassVar[FrameKind]
    EDGES: _ClassVar[FrameKind]
    FIELD: _ClassVar[FrameKind]
    GRID: _ClassVar[FrameKind]
    OBSERVERS: _ClassVar[FrameKind]
    MEMBERSHIP: _ClassVar[FrameKind]

class FieldKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIELD_KIND_UNSPECIFIED: _ClassVar[FieldKind]
    COVERAGE: _ClassVar[FieldKind]
    OCCLUSION: _ClassVar[FieldKind]
    UNCERTAINTY: _ClassVar[FieldKind]
    VOLUME: _ClassVar[FieldKind]

class ActionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_KIND_UNSPECIFIED: _ClassVar[ActionKind]
    ACTION_DEPLOY: _ClassVar[ActionKind]
    ACTION_RELOCATE: _ClassVar[ActionKind]
    ACTION_INCREASE_SAMPLING: _ClassVar[ActionKind]
    ACTION_FOCUS: _ClassVar[ActionKind]
    ACTION_DECOMMISSION: _ClassVar[ActionKind]
FRAME_KIND_UNSPECIFIED: FrameKind
KEYFRAME: FrameKind
DELTA: FrameKind
EDGES: FrameKind
FIELD: FrameKind
GRID: FrameKind
OBSERVERS: FrameKind
MEMBERSHIP: FrameKind
FIELD_KIND_UNSPECIFIED: FieldKind
COVERAGE: FieldKind
OCCLUSION: FieldKind
UNCERTAINTY: FieldKind
VOLUME: FieldKind
ACTION_KIND_UNSPECIFIED: ActionKind
ACTION_DEPLOY: ActionKind
ACTION_RELOCATE: ActionKind
ACTION_INCREASE_SAMPLING: ActionKind
ACTION_FOCUS: ActionKind
ACTION_DECOMMISSION: ActionKind

class StreamRequest(_message.Message):
    __slots__ = ("resume_from_seq", "kinds")
    RESUME_FROM_SEQ_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    resume_from_seq: int
    kinds: _containers.RepeatedScalarFieldContainer[FrameKind]
    def __init__(self, resume_from_seq: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[FrameKind, str]]] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("seq", "kind", "base_seq", "tick", "chunk_index", "chunk_count", "total_size", "payload")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BASE_SEQ_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    seq: int
    kind: FrameKind
    base_seq: int
    tick: int
    chunk_index: int
    chunk_count: int
    total_size: int
    payload: bytes
    def __init__(self, seq: _Optional[int] = ..., kind: _Optional[_Union[FrameKind, str]] = ..., base_seq: _Optional[int] = ..., tick: _Optional[int] = ..., chunk_index: _Optional[int] = ..., chunk_count: _Optional[int] = ..., total_size: _Optional[int] = ..., payload: _Optional[bytes] = ...) -> None: ...

class ClusterRequest(_message.Message):
    __slots__ = ("cluster_id",)
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    def __init__(self, cluster_id: _Optional[int] = ...) -> None: ...

class ClusterSnapshot(_message.Message):
    __slots__ = ("cluster_id", "tick", "node_count", "edge_count", "graph_binary")
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    EDGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GRAPH_BINARY_FIELD_NUMBER: _ClassVar[int]
    cluster_id: int
    tick: int
    node_count: int
    edge_count: int
    graph_binary: bytes
    def __init__(self, cluster_id: _Optional[int] = ..., tick: _Optional[int] = ..., node_count: _Optional[int] = ..., edge_count: _Optional[int] = ..., graph_binary: _Optional[bytes] = ...) -> None: ...

class FieldRequest(_message.Message):
    __slots__ = ("kind", "height", "width", "size")
    KIND_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    kind: FieldKind
    height: int
    width: int
    size: int
    def __init__(self, kind: _Optional[_Union[FieldKind, str]] = ..., height: _Optional[int] = ..., width: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...

class FieldReply(_message.Message):
    __slots__ = ("tick", "frame")
    TICK_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    tick: int
    frame: bytes
    def __init__(self, tick: _Optional[int] = ..., frame: _Optional[bytes] = ...) -> None: ...

class ListObserversRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Observer(_message.Message):
    __slots__ = ("observer_id", "observer_type", "lon", "lat", "sampling_rate", "focus_cluster", "cost_per_hour", "backend", "status", "last_heartbeat_unix", "load")
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_RATE_FIELD_NUMBER: _ClassVar[int]
    FOCUS_CLUSTER_FIELD_NUMBER: _ClassVar[int]
    COST_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_UNIX_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    observer_id: int
    observer_type: str
    lon: float
    lat: float
    sampling_rate: float
    focus_cluster: int
    cost_per_hour: float
    backend: str
    status: str
    last_heartbeat_unix: float
    load: float
    def __init__(self, observer_id: _Optional[int] = ..., observer_type: _Optional[str] = ..., lon: _Optional[float] = ..., lat: _Optional[float] = ..., sampling_rate: _Optional[float] = ..., focus_cluster: _Optional[int] = ..., cost_per_hour: _Optional[float] = ..., backend: _Optional[str] = ..., status: _Optional[str] = ..., last_heartbeat_unix: _Optional[float] = ..., load: _Optional[float] = ...) -> None: ...

class ObserverList(_message.Message):
    __slots__ = ("tick", "observers")
    TICK_FIELD_NUMBER: _ClassVar[int]
    OBSERVERS_FIELD_NUMBER: _ClassVar[int]
    tick: int
    observers: _containers.RepeatedCompositeFieldContainer[Observer]
    def __init__(self, tick: _Optional[int] = ..., observers: _Optional[_Iterable[_Union[Observer, _Mapping]]] = ...) -> None: ...

class WorldInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Region(_message.Message):
    __slots__ = ("name", "lon_min", "lon_max", "lat_min", "lat_max", "latency_zone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LON_MIN_FIELD_NUMBER: _ClassVar[int]
    LON_MAX_FIELD_NUMBER: _ClassVar[int]
    LAT_MIN_FIELD_NUMBER: _ClassVar[int]
    LAT_MAX_FIELD_NUMBER: _ClassVar[int]
    LATENCY_ZONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    latency_zone: str
    def __init__(self, name: _Optional[str] = ..., lon_min: _Optional[float] = ..., lon_max: _Optional[float] = ..., lat_min: _Optional[float] = ..., lat_max: _Optional[float] = ..., latency_zone: _Optional[str] = ...) -> None: ...

class ObserverType(_message.Message):
    __slots__ = ("name", "coverage_radius_km", "cost_per_hour", "latency_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    COST_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    coverage_radius_km: float
    cost_per_hour: float
    latency_ms: float
    def __init__(self, name: _Optional[str] = ..., coverage_radius_km: _Optional[float] = ..., cost_per_hour: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class LatencyZone(_message.Message):
    __slots__ = ("name", "max_latency_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    max_latency_ms: float
    def __init__(self, name: _Optional[str] = ..., max_latency_ms: _Optional[float] = ...) -> None: ...

class Guardrails(_message.Message):
    __slots__ = ("max_instances", "allowed_regions", "forbidden_regions", "latency_zones", "budget_per_hour")
    MAX_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_REGIONS_FIELD_NUMBER: _ClassVar[int]
    FORBIDDEN_REGIONS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_ZONES_FIELD_NUMBER: _ClassVar[int]
    BUDGET_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    max_instances: int
    allowed_regions: _containers.RepeatedScalarFieldContainer[str]
    forbidden_regions: _containers.RepeatedScalarFieldContainer[str]
    latency_zones: _containers.RepeatedScalarFieldContainer[str]
    budget_per_hour: float
    def __init__(self, max_instances: _Optional[int] = ..., allowed_regions: _Optional[_Iterable[str]] = ..., forbidden_regions: _Optional[_Iterable[str]] = ..., latency_zones: _Optional[_Iterable[str]] = ..., budget_per_hour: _Optional[float] = ...) -> None: ...

class WorldInfo(_message.Message):
    __slots__ = ("scenario", "seed", "tick", "tick_rate_hz", "latest_seq", "node_count", "cluster_count", "regions", "latency_zones", "guardrails", "spend_per_hour", "observer_types", "server_version", "backend", "idempotency_window_s", "idempotency_window_requests")
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    TICK_RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    LATEST_SEQ_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_ZONES_FIELD_NUMBER: _ClassVar[int]
    GUARDRAILS_FIELD_NUMBER: _ClassVar[int]
    SPEND_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_TYPES_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_WINDOW_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    scenario: str
    seed: int
    tick: int
    tick_rate_hz: float
    latest_seq: int
    node_count: int
    cluster_count: int
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    latency_zones: _containers.RepeatedCompositeFieldContainer[LatencyZone]
    guardrails: Guardrails
    spend_per_hour: float
    observer_types: _containers.RepeatedCompositeFieldContainer[ObserverType]
    server_version: str
    backend: str
    idempotency_window_s: float
    idempotency_window_requests: int
    def __init__(self, scenario: _Optional[str] = ..., seed: _Optional[int] = ..., tick: _Optional[int] = ..., tick_rate_hz: _Optional[float] = ..., latest_seq: _Optional[int] = ..., node_count: _Optional[int] = ..., cluster_count: _Optional[int] = ..., regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ..., latency_zones: _Optional[_Iterable[_Union[LatencyZone, _Mapping]]] = ..., guardrails: _Optional[_Union[Guardrails, _Mapping]] = ..., spend_per_hour: _Optional[float] = ..., observer_types: _Optional[_Iterable[_Union[ObserverType, _Mapping]]] = ..., server_version: _Optional[str] = ..., backend: _Optional[str] = ..., idempotency_window_s: _Optional[float] = ..., idempotency_window_requests: _Optional[int] = ...) -> None: ...

class ClusterTableRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClusterTable(_message.Message):
    __slots__ = ("tick", "row_count", "row_size", "rows", "spend_per_hour", "tick_hours", "reward_weights", "activations_caught_total", "activations_evaded_total", "evader", "evader_moves")
    TICK_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    ROW_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SPEND_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    TICK_HOURS_FIELD_NUMBER: _ClassVar[int]
    REWARD_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_CAUGHT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_EVADED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    EVADER_FIELD_NUMBER: _ClassVar[int]
    EVADER_MOVES_FIELD_NUMBER: _ClassVar[int]
    tick: int
    row_count: int
    row_size: int
    rows: bytes
    spend_per_hour: float
    tick_hours: float
    reward_weights: RewardWeights
    activations_caught_total: int
    activations_evaded_total: int
    evader: str
    evader_moves: _containers.RepeatedCompositeFieldContainer[EvaderMove]
    def __init__(self, tick: _Optional[int] = ..., row_count: _Optional[int] = ..., row_size: _Optional[int] = ..., rows: _Optional[bytes] = ..., spend_per_hour: _Optional[float] = ..., tick_hours: _Optional[float] = ..., reward_weights: _Optional[_Union[RewardWeights, _Mapping]] = ..., activations_caught_total: _Optional[int] = ..., activations_evaded_total: _Optional[int] = ..., evader: _Optional[str] = ..., evader_moves: _Optional[_Iterable[_Union[EvaderMove, _Mapping]]] = ...) -> None: ...

class EvaderMove(_message.Message):
    __slots__ = ("tick", "kind", "cluster_id", "lon", "lat")
    TICK_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    tick: int
    kind: str
    cluster_id: int
    lon: float
    lat: float
    def __init__(self, tick: _Optional[int] = ..., kind: _Optional[str] = ..., cluster_id: _Optional[int] = ..., lon: _Optional[float] = ..., lat: _Optional[float] = ...) -> None: ...

class RewardWeights(_message.Message):
    __slots__ = ("information_gain", "cost", "coverage")
    INFORMATION_GAIN_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    information_gain: float
    cost: float
    coverage: float
    def __init__(self, information_gain: _Optional[float] = ..., cost: _Optional[float] = ..., coverage: _Optional[float] = ...) -> None: ...

class ProposeRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class Proposal(_message.Message):
    __slots__ = ("action", "lon", "lat", "observer_type", "observer_id", "cluster_id", "target", "predicted_information_gain", "cost_per_hour", "confidence", "explanation", "policy")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_TYPE_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_INFORMATION_GAIN_FIELD_NUMBER: _ClassVar[int]
    COST_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    action: ActionKind
    lon: float
    lat: float
    observer_type: str
    observer_id: int
    cluster_id: int
    target: str
    predicted_information_gain: float
    cost_per_hour: float
    confidence: float
    explanation: str
    policy: str
    def __init__(self, action: _Optional[_Union[ActionKind, str]] = ..., lon: _Optional[float] = ..., lat: _Optional[float] = ..., observer_type: _Optional[str] = ..., observer_id: _Optional[int] = ..., cluster_id: _Optional[int] = ..., target: _Optional[str] = ..., predicted_information_gain: _Optional[float] = ..., cost_per_hour: _Optional[float] = ..., confidence: _Optional[float] = ..., explanation: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class ProposalList(_message.Message):
    __slots__ = ("tick", "policy", "proposals")
    TICK_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    tick: int
    policy: str
    proposals: _containers.RepeatedCompositeFieldContainer[Proposal]
    def __init__(self, tick: _Optional[int] = ..., policy: _Optional[str] = ..., proposals: _Optional[_Iterable[_Union[Proposal, _Mapping]]] = ...) -> None: ...

class DeployRequest(_message.Message):
    __slots__ = ("request_id", "lon", "lat", "observer_type")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_TYPE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    lon: float
    lat: float
    observer_type: str
    def __init__(self, request_id: _Optional[str] = ..., lon: _Optional[float] = ..., lat: _Optional[float] = ..., observer_type: _Optional[str] = ...) -> None: ...

class RelocateRequest(_message.Message):
    __slots__ = ("request_id", "observer_id", "lon", "lat")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    observer_id: int
    lon: float
    lat: float
    def __init__(self, request_id: _Optional[str] = ..., observer_id: _Optional[int] = ..., lon: _Optional[float] = ..., lat: _Optional[float] = ...) -> None: ...

class IncreaseSamplingRequest(_message.Message):
    __slots__ = ("request_id", "observer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    observer_id: int
    def __init__(self, request_id: _Optional[str] = ..., observer_id: _Optional[int] = ...) -> None: ...

class FocusRequest(_message.Message):
    __slots__ = ("request_id", "observer_id", "cluster_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    observer_id: int
    cluster_id: int
    def __init__(self, request_id: _Optional[str] = ..., observer_id: _Optional[int] = ..., cluster_id: _Optional[int] = ...) -> None: ...

class DecommissionRequest(_message.Message):
    __slots__ = ("request_id", "observer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    observer_id: int
    def __init__(self, request_id: _Optional[str] = ..., observer_id: _Optional[int] = ...) -> None: ...

class ActionReply(_message.Message):
    __slots__ = ("request_id", "ok", "reason", "observer_id", "cost_per_hour", "tick", "replayed")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    COST_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ok: bool
    reason: str
    observer_id: int
    cost_per_hour: float
    tick: int
    replayed: bool
    def __init__(self, request_id: _Optional[str] = ..., ok: _Optional[bool] = ..., reason: _Optional[str] = ..., observer_id: _Optional[int] = ..., cost_per_hour: _Optional[float] = ..., tick: _Optional[int] = ..., replayed: _Optional[bool] = ...) -> None: ...

class RefreshRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AccessToken(_message.Message):
    __slots__ = ("access_token", "expires_at_unix", "subject", "role", "refresh_token", "refresh_expires_at_unix")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_EXPIRES_AT_UNIX_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    expires_at_unix: float
    subject: str
    role: str
    refresh_token: str
    refresh_expires_at_unix: float
    def __init__(self, access_token: _Optional[str] = ..., expires_at_unix: _Optional[float] = ..., subject: _Optional[str] = ..., role: _Optional[str] = ..., refresh_token: _Optional[str] = ..., refresh_expires_at_unix: _Optional[float] = ...) -> None: ...

class ObserverHello(_message.Message):
    __slots__ = ("observer_id", "pid")
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    observer_id: int
    pid: int
    def __init__(self, observer_id: _Optional[int] = ..., pid: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("observer_id", "load")
    OBSERVER_ID_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    observer_id: int
    load: float
    def __init__(self, observer_id: _Optional[int] = ..., load: _Optional[float] = ...) -> None: ...

class HeartbeatReply(_message.Message):
    __slots__ = ("stop", "interval_s")
    STOP_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    stop: bool
    interval_s: float
    def __init__(self, stop: _Optional[bool] = ..., interval_s: _Optional[float] = ...) -> None: ...
