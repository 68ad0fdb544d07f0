"""The orchestrator's read-side insight: the cluster table for ``GetClusterTable`` and the configured policy's
proposals for ``Propose``.

Proposals are computed here, by the orchestrator, so every client — the desktop app's embedded source and a
remote console alike — sees the same ones through the same RPC. The policy (``scythe serve --policy
auto|NAME|none``; ``auto`` is the shipped PPO network, else the ``greedy`` baseline) is loaded lazily at the
first ``Propose``, so a server that is never asked never imports torch. Inference runs on a copy of the
world (``World.to_bytes`` under the host lock takes milliseconds; the copy and the policy run outside it), so
the tick thread is never held up by a slow network. Results are cached per world state — the tick and the
observers' bytes — and computed under one lock, so N consoles asking at the same tick cost one inference.
Knows the host, the engine's policies and the generated messages; not gRPC status codes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from scythe_desktop.engine.policies import check_policy_name, load_policy
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.world import World
from scythe_desktop.protocol import cluster_table, proposal_wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

if TYPE_CHECKING:
    from scythe_desktop.orchestrator.world_host import WorldHost

log = logging.getLogger(__name__)

#: A policy name (``auto``, ``none`` or an engine registry name), a policy, a function loading one, or None.
PolicySpec = str | Policy | Callable[[], Policy | None] | None

DEFAULT_LIMIT: Final = 5
MAX_LIMIT: Final = 32


class PolicyUnavailable(Exception):
    """The policy could not be loaded or could not propose on this world; the message says which and why."""


@dataclass(frozen=True)
class _Cached:
    key: tuple[int, bytes]
    limit: int
    reply: pb.ProposalList | None
    problem: str


class Advisor:
    def __init__(self, host: WorldHost, policy: PolicySpec = "auto") -> None:
        if isinstance(policy, str):
            check_policy_name(policy)
        self._host = host
        self._source = policy
        self._policy: Policy | None = policy if isinstance(policy, Policy) else None
        self._loaded = policy is None or isinstance(policy, Policy)
        self._load_problem = ""
        self._reset_done = False
        self._lock = threading.Lock()  # one inference at a time; waiters then find it cached
        self._cached: _Cached | None = None
        #: Policy inferences run so far (cache misses), for tests and benchmarks.
        self.inferences = 0

    @property
    def policy_name(self) -> str:
        return self._policy.name if self._policy is not None else "none"

    # ------------------------------------------------------------------------------------ table

    def cluster_table(self) -> pb.ClusterTable:
        host = self._host
        with host.lock:
            world = host.world
            rows = cluster_table.encode_rows(world.clusters)
            tick = host.tick
            spend = float(world.observers["cost_per_hour"].sum())
            caught, evaded = world.activation_totals()
            moves = host.recent_evader_moves()
        s = host.scenario
        w = s.reward
        return pb.ClusterTable(
            tick=tick,
            row_count=len(rows) // cluster_table.CLUSTER_WIRE_DTYPE.itemsize,
            row_size=cluster_table.CLUSTER_WIRE_DTYPE.itemsize,
            rows=rows,
            spend_per_hour=spend,
            tick_hours=s.tick_hours,
            reward_weights=pb.RewardWeights(information_gain=w.information_gain, cost=w.cost, coverage=w.coverage),
            activations_caught_total=caught,
            activations_evaded_total=evaded,
            evader=s.adversary.evader if s.adversary is not None else "",
            evader_moves=[pb.EvaderMove(tick=t, kind=k, cluster_id=c, lon=lo, lat=la) for t, k, c, lo, la in moves],
        )

    # -------------------------------------------------------------------------------- proposals

    def propose(self, limit: int = 0) -> pb.ProposalList:
        """Up to ``limit`` (0: :data:`DEFAULT_LIMIT`) proposals; raises :class:`PolicyUnavailable`."""
        if not 0 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be in 0..{MAX_LIMIT}, got {limit}")
        limit = limit or DEFAULT_LIMIT
        with self._lock:
            policy = self._ensure_policy()
            if policy is None:
                return pb.ProposalList(tick=self._host.tick, policy="none")
            host = self._host
            with host.lock:
                key = (host.tick, np.ascontiguousarray(host.world.observers).tobytes())
                cached = self._cached
                if cached is None or cached.key != key or cached.limit < limit:
                    blob = host.world.to_bytes()  # a few ms; the copy is rebuilt outside the lock
                    cached = None
            if cached is None:
                cached = self._infer(policy, World.from_bytes(blob), key, max(limit, DEFAULT_LIMIT))
                self._cached = cached
        if cached.reply is None:
            raise PolicyUnavailable(cached.problem)
        out = pb.ProposalList(tick=cached.reply.tick, policy=cached.reply.policy)
        out.proposals.extend(cached.reply.proposals[:limit])
        return out

    def _ensure_policy(self) -> Policy | None:
        if not self._loaded:
            self._loaded = True  # load once, whatever happens
            source = self._source
            try:
                if isinstance(source, str):
                    self._policy = load_policy(source)
                elif callable(source) and not isinstance(source, Policy):
                    self._policy = source()
            except Exception as exc:  # a policy that cannot load must not take the server down
                self._load_problem = f"policy could not be loaded: {type(exc).__name__}: {exc}"
                log.warning("%s", self._load_problem)
            else:
                log.info("policy %s loaded", self.policy_name)
        if self._load_problem:
            raise PolicyUnavailable(self._load_problem)
        return self._policy

    def _infer(self, policy: Policy, world: World, key: tuple[int, bytes], limit: int) -> _Cached:
        self.inferences += 1
        try:
            if not self._reset_done:  # an episode starts on this world (stateful policies seed here)
                policy.reset(world, seed=self._host.seed)
                self._reset_done = True
            proposals = policy.propose(world, limit=limit)
            reply = pb.ProposalList(tick=int(world.tick), policy=policy.name)
            reply.proposals.extend(proposal_wire.to_message(p) for p in proposals)
        except Exception as exc:  # a policy that fails on one world must not end the service
            problem = f"policy {policy.name} could not propose: {type(exc).__name__}: {exc}"
            log.warning("%s", problem)
            return _Cached(key, limit, None, problem)
        return _Cached(key, limit, reply, "")


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Advisor",
    "PolicySpec",
    "PolicyUnavailable",
]
