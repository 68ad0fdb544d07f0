"""What the client hands back: domain-typed results, the connection state and the one error type.

No gRPC call is made here; :class:`OrchestratorError` keeps the status for callers that log it, and
:attr:`OrchestratorError.status` names it for callers (the console) that must not know gRPC.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Final

import grpc
import numpy as np

from scythe_desktop.engine.proposals import Proposal

#: Statuses a call is retried on (with backoff), inside the client.
RETRYABLE: Final = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class OrchestratorError(Exception):
    """A call the orchestrator refused or that failed after retries; ``code`` is the gRPC status and
    :attr:`status` its name (``"UNIMPLEMENTED"``, ``"FAILED_PRECONDITION"``, ...) for callers that
    must not know gRPC."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details

    @property
    def status(self) -> str:
        return self.code.name


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter: attempt n waits uniform(½, 1) × min(cap, initial × 2ⁿ)."""

    initial_s: float = 0.05
    cap_s: float = 0.5
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.cap_s, self.initial_s * self.multiplier ** min(attempt, 32))
        return base * rng.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class ClusterGraph:
    cluster_id: int
    tick: int
    nodes: np.ndarray  # (N, 6) float32
    edges: np.ndarray  # EDGE_DTYPE


@dataclass(frozen=True, slots=True)
class ClusterTable:
    tick: int
    rows: np.ndarray  # protocol.cluster_table.CLUSTER_WIRE_DTYPE, read-only
    spend_per_hour: float
    tick_hours: float
    reward_weights: tuple[float, float, float]  # information gain, cost, coverage
    activations: tuple[int, int] = (0, 0)  # caught, evaded since the world began
    evader: str = ""  # who plays an adversarial world's evader; "" without one
    #: The evader's moves of the orchestrator's window: (tick, kind, cluster id, lon, lat), oldest first.
    evader_moves: tuple[tuple[int, str, int, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Proposals:
    tick: int
    policy: str  # "none": the orchestrator runs without a policy
    proposals: tuple[Proposal, ...]


__all__ = ["RETRYABLE", "Backoff", "ClusterGraph", "ClusterTable", "ConnectionState", "OrchestratorError", "Proposals"]
