"""The world simulator as the orchestrator, recordings and policies use it: one world, a batch of one.

``World(scenario, seed)`` is slot 0 of a :class:`~scythe_desktop.engine.batch.world_batch.WorldBatch` of
size one, so it runs the very kernels the RL path runs for thousands of worlds (there is no second copy of
the dynamics), plus what only a single world needs: actions validated with a reason
(:mod:`scythe_desktop.engine.constraints`), node emission (:mod:`scythe_desktop.engine.emission`), fields
(:mod:`scythe_desktop.engine.world_fields`), information gain (:mod:`scythe_desktop.engine.information`) and
persistence (:mod:`scythe_desktop.engine.persistence`). Cluster dynamics and observations draw from keyed
random numbers of (seed, tick, stream, index); node motion from the world's own generator. So the
cluster/belief trajectory depends only on scenario, seed and actions, not on whether node buffers are
produced, and not on the batch the world would run in.

``step(actions)`` applies the actions (each validated), advances the dynamics one tick, lets every observer
observe, updates the belief, closes the tick's bill (:mod:`scythe_desktop.engine.batch.billing`: running
cost, set-up fees, minimum billing) and, in the default ``emit_nodes=True`` mode, produces the node buffer
plus the delta frame that turns the previous tick's buffer into it (``core.swarm.NodeSwarm`` semantics,
bit-exact). Cluster rows, observer rows and node rows are dense; ids are stable. This module knows nothing
of Qt, the network or policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scythe_desktop.core.layout import DELTA_DTYPE
from scythe_desktop.engine import constraints as guard
from scythe_desktop.engine import emission
from scythe_desktop.engine.actions import Action, ActionResult, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.batch.actions import DECOMMISSION, DEPLOY, FOCUS, RELOCATE, SAMPLING, ActionBatch
from scythe_desktop.engine.batch.evader import EvaderMoves
from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.clusters import EVENT_KINDS, GHOST
from scythe_desktop.engine.geo import unit_vectors
from scythe_desktop.engine.information import GainModel, Prior
from scythe_desktop.engine.nodes import NodeStore
from scythe_desktop.engine.observers import MAX_DETECTION, focus_multipliers
from scythe_desktop.engine.scenario import Scenario, ScenarioError, load_scenario
from scythe_desktop.engine.world_fields import WorldFields
from scythe_desktop.engine.world_rows import ClusterRows, ObserverRows


@dataclass(frozen=True, slots=True)
class StepResult:
    """One tick's output.

    ``nodes`` is a read-only view of the world's node buffer, valid until the next ``step``; ``delta``
    turns the previous tick's buffer into it. When the world does not emit nodes both are empty and
    ``nodes_emitted`` is False. ``events`` maps an event kind (quiet, activating, active, cascade,
    vanished, shifted, resized, spawned, dropped) to the cluster ids it touched this tick.
    """

    tick: int
    nodes: NDArray[np.float32]
    delta: NDArray[np.void]
    action_results: list[ActionResult]
    entropy_total: float
    info: dict[str, float]
    events: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    nodes_emitted: bool = True


class World(WorldFields):
    """A seeded, reproducible world; see the module docstring."""

    def __init__(self, scenario: Scenario | str | Path, seed: int = 0, *, emit_nodes: bool = True) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(seed)
        self.emit_nodes = emit_nodes
        self._batch = WorldBatch(self.scenario, [self.seed], collect_events=True, initial_observers=False)
        self._init_derived()
        self._rng_nodes = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed).spawn(3)[2]))
        self._store: NodeStore | None = None
        self._store_tick = -1
        for i, o in enumerate(self.scenario.initial_observers):
            res = self.apply(Deploy(o.lon, o.lat, o.observer_type))
            if not res.ok:
                raise ScenarioError(
                    self.scenario.source, f"initial_observers[{i}]", f"expected a valid deploy: {res.reason}"
                )
        if emit_nodes:
            self._store = emission.materialise(self._clusters())
            self._store_tick = self.tick

    def _init_derived(self) -> None:
        self._model = self._batch.sensing.model
        self._gains = GainModel(self.scenario, self._model)
        self._version = 0  # bumped by every applied action: keys the cached views
        self._cache: dict[str, Any] = {}

    # ===================================================================================== views

    @property
    def tick(self) -> int:
        return int(self._batch.tick[0])

    @property
    def batch(self) -> WorldBatch:
        """The batch of one this world is slot 0 of: for batched readers (encoders); act through the World."""
        return self._batch

    def _clusters(self) -> ClusterRows:
        return ClusterRows.of(self._batch, 0)

    def _observers(self) -> ObserverRows:
        return ObserverRows.of(self._batch, 0)

    def _cached(self, name: str, key: object, make: Any) -> Any:
        hit = self._cache.get(name)
        if hit is None or hit[0] != key:
            hit = self._cache[name] = (key, make())
        return hit[1]

    def decoys(self) -> NDArray[np.bool_]:
        """Ground truth the defender never sees: per row of :attr:`clusters`, whether it is the evader's decoy
        (what the reward and the evaluation read; nothing the policies observe)."""
        return self._batch.clusters.decoy[0, : int(self._batch.clusters.n[0])].copy()

    @property
    def budget_used_per_hour(self) -> float:
        """The running spend rate ($/h) of the deployed observers."""
        return float(self._batch.cost_per_hour()[0])

    @property
    def spend_total(self) -> float:
        """$ spent since the world began (running cost and one-off charges)."""
        return float(self._batch.billing.spend[0])

    def activation_totals(self) -> tuple[int, int]:
        """Activations completed since the world began while some observer saw the cluster, and unseen."""
        return int(self._batch.caught_total[0]), int(self._batch.evaded_total[0])

    @property
    def observers(self) -> NDArray[np.void]:
        """The observer table (OBSERVER_DTYPE), ``load`` as of the last observation. Read-only and
        shared until the next action or step (copy it to modify)."""
        return self._cached("observers", (self._version, self.tick), lambda: _frozen(self._observers().table()))

    @property
    def clusters(self) -> NDArray[np.void]:
        """The cluster table (CLUSTER_DTYPE), one record per tracked cluster, ghosts included.
        Read-only and shared until the next step (copy it to modify)."""
        return self._cached("clusters", self.tick, lambda: _frozen(self._clusters().table()))

    @property
    def nodes(self) -> NDArray[np.float32]:
        """The (N, 6) node buffer (read-only view); materialised on demand when nodes are not emitted."""
        if self._store is None or (not self.emit_nodes and self._store_tick != self.tick):
            self._store = emission.materialise(self._clusters())
            self._store_tick = self.tick
        view = self._store.nodes.view()
        view.flags.writeable = False
        return view

    def node_cluster(self) -> NDArray[np.int32]:
        """The cluster id owning each node row."""
        self.nodes  # noqa: B018 - materialises the store when needed
        assert self._store is not None
        return self._store.cluster.astype(np.int32)

    def node_ids(self) -> NDArray[np.int64]:
        """Stable node id of each row (equal to rows right after construction or :meth:`rekey`)."""
        self.nodes  # noqa: B018
        assert self._store is not None
        return self._store.ids.copy()

    def rekey(self) -> NDArray[np.float32]:
        """Reset node ids to rows, as a keyframe does, and return the buffer to send as that keyframe."""
        nodes = self.nodes
        assert self._store is not None
        self._store.rekey()
        return nodes

    def _slot_of(self) -> NDArray[np.int64]:
        return emission.slot_of(self._clusters(), int(self._batch.next_cluster_id[0]))

    def _refresh_sensing(self) -> None:
        self._batch.sensing.refresh(self._batch.clusters, self._batch.observers)

    # ==================================================================================== actions

    def validate(self, action: Action) -> str | None:
        """The reason ``action`` would be refused now, or ``None`` if it would be applied."""
        return self._check(action)[0]

    def apply(self, action: Action) -> ActionResult:
        """Validate and apply one action immediately."""
        reason, batch = self._check(action)
        if reason is not None or batch is None:
            return ActionResult(False, reason or "", getattr(action, "observer_id", None), self.budget_used_per_hour)
        oid = int(self._batch.next_observer_id[0]) if batch.kind[0] == DEPLOY else int(action.observer_id)  # type: ignore[union-attr]
        self._batch.act(batch)
        self._version += 1
        return ActionResult(True, "ok", oid, self.budget_used_per_hour)

    def _budget(self, rate_after: float, setup_fee: float = 0.0) -> str | None:
        return guard.check_budget(self.scenario, rate_after, setup_fee)

    def _check(self, action: Action) -> tuple[str | None, ActionBatch | None]:
        s = self.scenario
        a = ActionBatch.noop(1)
        obs = self._observers()
        billing = self._batch.billing
        if isinstance(action, Deploy):
            kind = action.observer_type or s.constraints.default_observer_type
            reason = guard.check_type(s, kind)
            if reason:
                return reason, None
            t = s.observer_type_index(kind)
            reason = guard.check_instances(s, len(obs)) or guard.check_placement(s, action.lon, action.lat, t)
            if reason:
                return reason, None
            cost = float(billing.type_cost[t])
            reason = self._budget(self.budget_used_per_hour + cost, float(billing.setup_fee[t]))
            a.kind[0], a.lon[0], a.lat[0], a.type[0] = DEPLOY, action.lon, action.lat, t
            return reason, a
        if not isinstance(action, Relocate | IncreaseSampling | Focus | Decommission):
            return f"action: unknown action {action!r}", None
        reason = guard.check_observer(obs.id, action.observer_id)
        if reason:
            return reason, None
        row = int(np.flatnonzero(obs.id == action.observer_id)[0])
        t = int(obs.type[row])
        a.slot[0] = row
        if isinstance(action, Relocate):
            reason = guard.check_placement(s, action.lon, action.lat, t) or self._budget(
                self.budget_used_per_hour, float(billing.setup_fee[t])
            )
            a.kind[0], a.lon[0], a.lat[0] = RELOCATE, action.lon, action.lat
            return reason, a
        if isinstance(action, IncreaseSampling):
            otype = s.observer_types[t]
            rate = float(obs.rate[row])
            if rate >= otype.max_sampling_rate:
                return f"sampling: observer {action.observer_id} already at max rate {otype.max_sampling_rate:g}", None
            new_cost = float(billing.rate_cost(np.array([t]), np.array([min(2.0 * rate, otype.max_sampling_rate)]))[0])
            reason = self._budget(self.budget_used_per_hour - float(obs.cost[row]) + new_cost)
            a.kind[0] = SAMPLING
            return reason, a
        if isinstance(action, Focus):
            if not np.any(self._clusters().id == action.cluster_id):
                return f"unknown_cluster: no tracked cluster with id {action.cluster_id!r}", None
            a.kind[0], a.cluster[0] = FOCUS, action.cluster_id
            return None, a
        a.kind[0] = DECOMMISSION
        return None, a

    # ==================================================================================== stepping

    def step(self, actions: tuple[Action, ...] | list[Action] = (), evader: EvaderMoves | None = None) -> StepResult:
        """Apply ``actions``, then the evader's moves (an adversarial world's; ``evader`` overrides its
        scripted evader for this tick), advance one tick, observe, update the belief, emit nodes and delta."""
        results = [self.apply(a) for a in actions] if actions else []
        out = self._batch.step(evader=evader)
        events = {k: out.events.of_world(0, k) for k in EVENT_KINDS}
        self._version += 1  # loads, focus and rows may have changed
        if self.emit_nodes:
            assert self._store is not None
            delta = emission.emit(
                self._store,
                self._clusters(),
                int(self._batch.next_cluster_id[0]),
                events,
                self.scenario.dynamics.flicker_fraction,
                self._rng_nodes,
            )
            self._store_tick = self.tick
            nodes = self._store.nodes.view()
            nodes.flags.writeable = False
            emitted = True
        else:
            nodes, delta, emitted = _EMPTY_NODES, _EMPTY_DELTA, False
        cl = self._clusters()
        n = len(cl)
        total, drop = float(out.entropy_total[0]), float(out.entropy_drop[0])
        cost_tick = float(out.cost_tick[0])
        w = self.scenario.reward
        coverage_mean = float(out.coverage_mean[0])
        info = {
            "entropy_total": total,
            "entropy_mean": total / max(1, n),
            "entropy_drop": drop,
            "cost_per_hour": float(out.cost_per_hour[0]),
            "cost_tick": cost_tick,
            "coverage_mean": coverage_mean,
            "detections": float(out.detections[0]),
            "clusters": float(n),
            "ghosts": float(np.count_nonzero(cl.state == GHOST)),
            "observers": float(self._batch.observers.n[0]),
            "activations_caught": float(out.activations_caught[0]),
            "activations_evaded": float(out.activations_evaded[0]),
            "activations_caught_total": float(self._batch.caught_total[0]),
            "activations_evaded_total": float(self._batch.evaded_total[0]),
            "reward": w.information_gain * drop - w.cost * cost_tick + w.coverage * coverage_mean,
        }
        return StepResult(self.tick, nodes, delta, results, total, info, events, emitted)

    # ====================================================================== information gain

    def _prior(self) -> Prior:
        """Next tick's prior and the existing observers' detection (cached per tick/version)."""

        def make() -> Prior:
            self._refresh_sensing()
            n, m = int(self._batch.clusters.n[0]), int(self._batch.observers.n[0])
            pd = self._batch.sensing.detection(self._batch.clusters, (m, n))[0] if m and n else np.zeros((m, n))
            return Prior.of(self._model, self.scenario, self._clusters(), pd)

        return self._cached("prior", (self._version, self.tick), make)

    def deploy_gains(self, lon: ArrayLike, lat: ArrayLike, observer_type: str | None = None) -> NDArray[np.float64]:
        """Expected information gain (bits) of deploying at each of K candidate sites: (K,). Vectorised;
        ignores constraints (use :meth:`validate` for those)."""
        kind = observer_type or self.scenario.constraints.default_observer_type
        t = self.scenario.observer_type_index(kind)
        lon_a, lat_a = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        p = self._prior()
        xyz = unit_vectors(lon_a, lat_a).reshape(-1, 3)
        pd, rr = self._gains.candidate_pd(p, self._clusters(), xyz, t, float(self._gains.type_base_rate[t]))
        return np.asarray(self._gains.gain(p, pd, rr, p.miss_all), dtype=np.float64)

    def expected_information_gain(self, action: Action) -> float:
        """Expected entropy reduction (bits) over the next tick that ``action`` adds. Negative for a
        decommission (information given up). Constraints are not checked here."""
        if isinstance(action, Deploy):
            return float(self.deploy_gains([action.lon], [action.lat], action.observer_type)[0])
        obs = self._observers()
        if not np.any(obs.id == getattr(action, "observer_id", None)):
            return 0.0
        p, cl, gains = self._prior(), self._clusters(), self._gains
        row = int(np.flatnonzero(obs.id == action.observer_id)[0])
        others = p.miss_all - p.miss_each[row]
        rate_ratio = float(self._batch.sensing.rate_ratio[0, row])
        current = float(gains.gain(p, p.pd[row], rate_ratio, others))
        if isinstance(action, Decommission):
            return -current
        t, rate = int(obs.type[row]), float(obs.rate[row])
        here = obs.xyz[row : row + 1]
        focus = obs.focus[row : row + 1]
        if isinstance(action, Relocate):
            here = unit_vectors(np.array([action.lon]), np.array([action.lat])).reshape(1, 3)
        elif isinstance(action, IncreaseSampling):
            rate = min(2.0 * rate, self.scenario.observer_types[t].max_sampling_rate)
        elif isinstance(action, Focus):
            focus = np.array([action.cluster_id])
        else:
            return 0.0
        pd, rr = gains.candidate_pd(p, cl, here, t, rate)
        b = self.scenario.belief
        pd = np.minimum(pd * focus_multipliers(focus, cl.id, b.focus_gain, b.focus_penalty), MAX_DETECTION)
        return float(gains.gain(p, pd[0], rr, others)) - current

    # ==================================================================================== persistence

    def to_bytes(self) -> bytes:
        """The whole state (scenario text, clusters, observers, bill, nodes, random streams) as bytes."""
        from scythe_desktop.engine.persistence import world_to_bytes

        return world_to_bytes(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> World:
        """Restore a world saved by :meth:`to_bytes`; it continues bit-identically."""
        from scythe_desktop.engine.persistence import world_from_bytes

        return world_from_bytes(cls, data)


def _frozen(table: NDArray[np.void]) -> NDArray[np.void]:
    table.flags.writeable = False
    return table


_EMPTY_NODES = np.zeros((0, 6), dtype=np.float32)
_EMPTY_NODES.flags.writeable = False
_EMPTY_DELTA = np.zeros(0, dtype=DELTA_DTYPE)


__all__ = ["StepResult", "World"]
