"""The world simulator: clusters, observers, belief, nodes and fields behind one stepping API.

``World(scenario, seed)`` owns three seeded random streams (cluster dynamics, observations, node motion),
so the cluster/belief trajectory depends only on scenario, seed and actions — not on whether node
buffers are produced. ``step(actions)`` applies the actions (each validated against the constraints),
advances the dynamics one tick, lets every observer observe, updates the belief and, in the default
``emit_nodes=True`` mode, produces the node buffer plus the delta frame that turns the previous tick's
buffer into it (``core.swarm.NodeSwarm`` semantics, bit-exact). With ``emit_nodes=False`` (the RL path)
a tick costs O(clusters × observers) and nodes are materialised only when :attr:`World.nodes` is read.

Cluster rows, observer rows and node rows are dense; ids are stable. A client follows the node stream by
building a ``NodeSwarm`` from :attr:`World.nodes` before the first step (ids equal rows then) or from
:meth:`World.rekey` at any later tick, and applying every ``StepResult.delta`` after that. Fields and edges
are computed on demand. ``to_bytes``/``from_bytes`` capture the whole state including the random streams,
so a restored world continues bit-identically. This module knows nothing of Qt, the network or policies.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scythe_desktop.core.layout import DELTA_DTYPE, EDGE_DTYPE
from scythe_desktop.engine import constraints as guard
from scythe_desktop.engine import fields
from scythe_desktop.engine.actions import (
    Action,
    ActionResult,
    Decommission,
    Deploy,
    Focus,
    IncreaseSampling,
    Relocate,
)
from scythe_desktop.engine.belief import GONE, BeliefModel
from scythe_desktop.engine.clusters import (
    GHOST,
    STATE_INTENSITY,
    STATE_THREAT,
    ClusterArrays,
    ClusterEvents,
    DynamicsTables,
    advance,
    new_clusters,
)
from scythe_desktop.engine.geo import EARTH_RADIUS_KM, unit_vectors
from scythe_desktop.engine.nodes import META_DTYPE, NodeStore, node_meta, node_values, threat_values
from scythe_desktop.engine.observers import (
    MAX_DETECTION,
    OBSERVER_DTYPE,
    cost_per_hour,
    focus_multipliers,
    footprint,
    load_factor,
    rate_detection,
)
from scythe_desktop.engine.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

_FORMAT: Final = "scythe-world-v1"
#: (observer, cluster) pairs whose base detection is below this are not sampled.
PAIR_CUTOFF: Final = 1e-7
_NO_IDS: Final = np.zeros(0, dtype=np.int64)


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


class World:
    """A seeded, reproducible world; see the module docstring."""

    def __init__(self, scenario: Scenario | str | Path, seed: int = 0, *, emit_nodes: bool = True) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(seed)
        self.emit_nodes = emit_nodes
        self.tick = 0
        seq = np.random.SeedSequence(self.seed)
        self._rng_dyn, self._rng_obs, self._rng_nodes = (np.random.Generator(np.random.PCG64(s)) for s in seq.spawn(3))
        self._model = BeliefModel(self.scenario)
        self._init_constants()
        self._cl = new_clusters(
            self.scenario, self._tables, self._rng_dyn, 0, self.scenario.clusters.count, initial=True
        )
        self._next_cluster_id = len(self._cl)
        self._obs = np.zeros(0, dtype=OBSERVER_DTYPE)
        self._next_observer_id = 0
        self._version = 0
        self._cl_version = 0
        self._count_version = 0
        self._cache: dict[str, Any] = {}
        self._store: NodeStore | None = None
        self._store_tick = -1
        self._refresh_entropy()
        for i, o in enumerate(self.scenario.initial_observers):
            res = self.apply(Deploy(o.lon, o.lat, o.observer_type))
            if not res.ok:
                raise ScenarioError(
                    self.scenario.source, f"initial_observers[{i}]", f"expected a valid deploy: {res.reason}"
                )
        if emit_nodes:
            self._materialise()

    def _init_constants(self) -> None:
        s = self.scenario
        self._type_radius = np.array([t.coverage_radius_km for t in s.observer_types])
        self._type_base_rate = np.array([t.sampling_rate for t in s.observer_types])
        self._type_capacity = np.array([t.capacity for t in s.observer_types])
        self._vis = self._model.visibility
        self._acc = s.belief.report_accuracy
        self._acc_mid = s.belief.report_accuracy + (1.0 - s.belief.report_accuracy) / 2.0
        self._prec_scale = 1.0 / (s.belief.count_noise**2)
        self._neg_vis3 = -self._vis[:3]
        self._type_detection = np.array([t.detection for t in s.observer_types])
        self._tick_hours = s.tick_hours
        self._tables = DynamicsTables(s)

    # ===================================================================================== views

    @property
    def budget_used_per_hour(self) -> float:
        cached = self._cache.get("spend")
        if cached is None or cached[0] != self._version:  # only actions change an observer's cost
            cached = self._cache["spend"] = (self._version, float(self._obs["cost_per_hour"].sum()))
        return cached[1]

    @property
    def observers(self) -> NDArray[np.void]:
        """The observer table (OBSERVER_DTYPE), ``load`` as of the last observation. Read-only and
        shared until the next action or step (copy it to modify)."""
        key = (self._version, self.tick)
        cached = self._cache.get("observer_table")
        if cached is None or cached[0] != key:
            table = self._obs.copy()
            table.flags.writeable = False
            cached = self._cache["observer_table"] = (key, table)
        return cached[1]

    @property
    def clusters(self) -> NDArray[np.void]:
        """The cluster table (CLUSTER_DTYPE), one record per tracked cluster, ghosts included.
        Read-only and shared until the next step (copy it to modify)."""
        cached = self._cache.get("cluster_table")
        if cached is None or cached[0] != self.tick:
            amb = self._state_entropy() / 2.0 * (1.0 - self._cl.agreement)
            table = self._cl.table(amb)
            table.flags.writeable = False
            cached = self._cache["cluster_table"] = (self.tick, table)
        return cached[1]

    @property
    def nodes(self) -> NDArray[np.float32]:
        """The (N, 6) node buffer (read-only view); materialised on demand when nodes are not emitted."""
        if self._store is None or (not self.emit_nodes and self._store_tick != self.tick):
            self._materialise()
        assert self._store is not None
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

    # ==================================================================================== actions

    def validate(self, action: Action) -> str | None:
        """The reason ``action`` would be refused now, or ``None`` if it would be applied."""
        return self._check(action)[0]

    def apply(self, action: Action) -> ActionResult:
        """Validate and apply one action immediately."""
        reason, plan = self._check(action)
        if reason is not None:
            return ActionResult(False, reason, getattr(action, "observer_id", None), self.budget_used_per_hour)
        oid = self._act(action, plan)
        self._version += 1
        return ActionResult(True, "ok", oid, self.budget_used_per_hour)

    def _row(self, observer_id: int) -> int:
        return int(np.flatnonzero(self._obs["id"] == observer_id)[0])

    def _check(self, action: Action) -> tuple[str | None, dict[str, Any]]:
        s = self.scenario
        if isinstance(action, Deploy):
            kind = action.observer_type or s.constraints.default_observer_type
            reason = guard.check_type(s, kind)
            if reason:
                return reason, {}
            t = s.observer_type_index(kind)
            reason = guard.check_instances(s, self._obs.shape[0]) or guard.check_placement(s, action.lon, action.lat, t)
            if reason:
                return reason, {}
            cost = cost_per_hour(s, t, s.observer_types[t].sampling_rate)
            reason = guard.check_budget(s, self.budget_used_per_hour + cost)
            return reason, {"type": t, "cost": cost}
        if not isinstance(action, Relocate | IncreaseSampling | Focus | Decommission):
            return f"action: unknown action {action!r}", {}
        reason = guard.check_observer(self._obs["id"], action.observer_id)
        if reason:
            return reason, {}
        row = self._row(action.observer_id)
        if isinstance(action, Relocate):
            return guard.check_placement(s, action.lon, action.lat, int(self._obs["type"][row])), {"row": row}
        if isinstance(action, IncreaseSampling):
            otype = s.observer_types[int(self._obs["type"][row])]
            rate = float(self._obs["sampling_rate"][row])
            if rate >= otype.max_sampling_rate:
                return f"sampling: observer {action.observer_id} already at max rate {otype.max_sampling_rate:g}", {}
            new_rate = min(2.0 * rate, otype.max_sampling_rate)
            cost = cost_per_hour(s, int(self._obs["type"][row]), new_rate)
            old = float(self._obs["cost_per_hour"][row])
            reason = guard.check_budget(s, self.budget_used_per_hour - old + cost)
            return reason, {"row": row, "rate": new_rate, "cost": cost}
        if isinstance(action, Focus):
            if not np.any(self._cl.id == action.cluster_id):
                return f"unknown_cluster: no tracked cluster with id {action.cluster_id!r}", {}
            return None, {"row": row}
        return None, {"row": row}

    def _act(self, action: Action, plan: dict[str, Any]) -> int:
        if isinstance(action, Deploy):
            t = plan["type"]
            rec = np.zeros(1, dtype=OBSERVER_DTYPE)
            rec["id"] = self._next_observer_id
            rec["lon"], rec["lat"] = action.lon, action.lat
            rec["coverage_radius_km"] = self._type_radius[t]
            rec["sampling_rate"] = self._type_base_rate[t]
            rec["focus_cluster"] = -1
            rec["cost_per_hour"] = plan["cost"]
            self._place(rec, 0, action.lon, action.lat)
            rec["type"] = t
            self._obs = np.concatenate([self._obs, rec])
            self._next_observer_id += 1
            return int(rec["id"][0])
        row = plan["row"]
        oid = int(self._obs["id"][row])
        if isinstance(action, Relocate):
            self._place(self._obs, row, action.lon, action.lat)
        elif isinstance(action, IncreaseSampling):
            self._obs["sampling_rate"][row] = plan["rate"]
            self._obs["cost_per_hour"][row] = plan["cost"]
        elif isinstance(action, Focus):
            self._obs["focus_cluster"][row] = action.cluster_id
        else:
            self._obs = np.delete(self._obs, row)
        return oid

    def _place(self, table: np.ndarray, row: int, lon: float, lat: float) -> None:
        s = self.scenario
        region = s.region_of(lon, lat)
        table["lon"][row], table["lat"][row] = lon, lat
        table["region"][row] = region
        table["latency_zone"][row] = (
            s.latency_zone_index(s.regions[region].latency_zone) if region >= 0 and s.latency_zones else -1
        )

    # ================================================================================ detection

    def _geometry(self) -> dict[str, Any]:
        """Per-(observer, cluster) quantities that change only with actions or cluster moves, including
        the sparse list of pairs that can see each other at all."""
        key = (self._version, self._cl_version)
        g = self._cache.get("geometry")
        if g is not None and g["key"] == key:
            return g
        cl, s = self._cl, self.scenario
        n = len(cl)
        per_obs = self._observer_constants()
        reach = self._reach(per_obs)
        base = reach * per_obs["det"]
        if per_obs["focused"]:
            base *= self._focus_multipliers()
        rate_ratio = per_obs["rate_ratio"]
        w = s.belief.occlusion_weight
        # Detection is scaled by 1 − w·occlusion with occlusion = 1 − (1 − region)(1 − silence/2),
        # i.e. by occl_a + occl_b · silence.
        occl = self._cache.get("occlusion_terms")
        if occl is None or occl[0] != self._cl_version:  # region occlusion moves only with the rows
            occl = self._cache["occlusion_terms"] = (
                self._cl_version,
                1.0 - w * cl.region_occlusion,
                -0.5 * w * (1.0 - cl.region_occlusion),
            )
        _, occl_a, occl_b = occl
        # Pairs below the cutoff are not sampled: their detection chance and their "saw nothing"
        # evidence are both below 1e-7 (load only lowers detection further).
        idx = np.flatnonzero(base > PAIR_CUTOFF)
        pc, po = idx % max(n, 1), idx // max(n, 1)
        g = {
            "key": key,
            "reach": reach,
            "base": base,
            "clip": per_obs["focused"],
            "load_weight": per_obs["load_weight"],
            "rate_ratio": rate_ratio,
            "oxyz": per_obs["oxyz"],
            "occl_a": occl_a,
            "occl_b": occl_b,
            "pairs": {
                "c": pc,
                "o": po,
                "base_geometric": base.ravel()[idx],
                "occl_a": occl_a[pc],
                "occl_b": occl_b[pc],
                "precision": rate_ratio[po] * self._prec_scale,
                "state_index": (np.arange(3)[:, None] * n + pc).ravel(),
            },
        }
        self._cache["geometry"] = g
        return g

    def _focus_multipliers(self) -> NDArray[np.float64]:
        """(O, C) focus gain/penalty; reused until a focus changes or cluster rows change."""
        key = (self._obs["focus_cluster"].tobytes(), self._cl_version)
        cached = self._cache.get("focus")
        if cached is None or cached[0] != key:
            b = self.scenario.belief
            mult = focus_multipliers(self._obs["focus_cluster"], self._cl.id, b.focus_gain, b.focus_penalty)
            cached = self._cache["focus"] = (key, mult)
        return cached[1]

    def _reach(self, per_obs: dict[str, Any]) -> NDArray[np.float64]:
        """(O, C) footprint weights; reused while the observers' positions and radii and the clusters'
        positions are unchanged (a focus or sampling change, the commonest actions, moves nothing)."""
        key = (per_obs["place_key"], self._cl_version)
        cached = self._cache.get("reach")
        if cached is None or cached[0] != key:
            cached = self._cache["reach"] = (key, footprint(per_obs["oxyz"] @ self._cl.xyz.T, per_obs["radius"]))
        return cached[1]

    def _observer_constants(self) -> dict[str, Any]:
        """Per-observer quantities that only actions change."""
        c = self._cache.get("observers")
        if c is not None and c["key"] == self._version:
            return c
        obs = self._obs
        types = obs["type"].astype(np.int64)
        rate_ratio = obs["sampling_rate"] / self._type_base_rate[types]
        place_key = obs["lon"].tobytes() + obs["lat"].tobytes() + obs["coverage_radius_km"].tobytes()
        prev = self._cache.get("observers")
        if prev is not None and prev["place_key"] == place_key:
            oxyz = prev["oxyz"]
        else:
            oxyz = unit_vectors(obs["lon"], obs["lat"]).reshape(-1, 3)
        c = {
            "key": self._version,
            "place_key": place_key,
            "oxyz": oxyz,
            "radius": obs["coverage_radius_km"][:, None],
            "rate_ratio": rate_ratio,
            "det": (1.0 - (1.0 - self._type_detection[types]) ** rate_ratio)[:, None],
            "load_weight": rate_ratio / self._type_capacity[types],
            "focused": bool((obs["focus_cluster"] >= 0).any()),
        }
        self._cache["observers"] = c
        return c

    def _occlusion(self) -> NDArray[np.float64]:
        cl = self._cl
        return 1.0 - (1.0 - cl.region_occlusion) * (1.0 - 0.5 * cl.silence)

    def _loaded(self) -> dict[str, Any]:
        """Geometry, after refreshing each observer's ``load`` and the pairs' loaded base detection."""
        g = self._geometry()
        key = (g["key"], self._count_version)
        if self._cache.get("load_key") != key:
            cl = self._cl
            load = (g["reach"] @ cl.node_count) * g["load_weight"]
            self._obs["load"] = load
            lf = load_factor(load)
            pairs = g["pairs"]
            pairs["base"] = pairs["base_geometric"] * lf[pairs["o"]]
            self._cache.update(
                load_factor=lf,
                base_loaded=None,  # (O, C), built on demand: only information gain reads it
                log_count=np.log(np.maximum(cl.node_count, 1)),
                load_key=key,
            )
        return g

    def _base_loaded(self) -> tuple[dict[str, Any], NDArray[np.float64]]:
        """Geometry and the load-limited base detection (O, C)."""
        g = self._loaded()
        base = self._cache["base_loaded"]
        if base is None:
            base = self._cache["base_loaded"] = g["base"] * self._cache["load_factor"][:, None]
        return g, base

    def _detection(self) -> NDArray[np.float64]:
        """(O, C) detection probabilities now (before the cluster's own visibility)."""
        g, base = self._base_loaded()
        pd = base * (g["occl_a"] + g["occl_b"] * self._cl.silence)
        if g["clip"]:
            np.minimum(pd, MAX_DETECTION, out=pd)
        return pd

    # ==================================================================================== stepping

    def step(self, actions: tuple[Action, ...] | list[Action] = ()) -> StepResult:
        """Apply ``actions``, advance one tick, observe, update the belief, emit nodes and delta."""
        results = [self.apply(a) for a in actions] if actions else []
        before = self._entropy_total
        ev, self._next_cluster_id = advance(self._cl, self.scenario, self._tables, self._rng_dyn, self._next_cluster_id)
        if ev.spawned.size or ev.dropped.size or ev.shifted.size:
            self._cl_version += 1
            if ev.dropped.size and self._obs.shape[0]:
                gone = np.isin(self._obs["focus_cluster"], ev.dropped)
                if gone.any():
                    self._obs["focus_cluster"][gone] = -1
                    self._version += 1
        if ev.resized.size or ev.vanished.size or ev.spawned.size or ev.dropped.size:
            self._count_version += 1
        detections, coverage_mean = self._observe()
        self.tick += 1

        if self.emit_nodes:
            delta = self._emit(ev)
            assert self._store is not None
            nodes = self._store.nodes.view()
            nodes.flags.writeable = False
            emitted = True
        else:
            nodes, delta, emitted = _EMPTY_NODES, _EMPTY_DELTA, False

        cost_h = self.budget_used_per_hour
        cost_tick = cost_h * self._tick_hours
        total = self._entropy_total
        drop = before - total
        w = self.scenario.reward
        n = len(self._cl)
        info = {
            "entropy_total": total,
            "entropy_mean": total / max(1, n),
            "entropy_drop": drop,
            "cost_per_hour": cost_h,
            "cost_tick": cost_tick,
            "coverage_mean": coverage_mean,
            "detections": float(detections),
            "clusters": float(n),
            "ghosts": float(np.count_nonzero(self._cl.state == GHOST)),
            "observers": float(self._obs.shape[0]),
            "reward": w.information_gain * drop - w.cost * cost_tick + w.coverage * coverage_mean,
        }
        return StepResult(self.tick, nodes, delta, results, total, info, ev.kinds(), emitted)

    def _observe(self) -> tuple[int, float]:
        """Predict the belief one tick, sample every observer's outcome, apply Bayes' rule.

        Works on the sparse (observer, cluster) pairs that can see each other, so a tick costs
        O(pairs + clusters) array work.
        """
        cl, model, rng = self._cl, self._model, self._rng_obs
        n = len(cl)
        bt = model.predict(cl.b, cl.var)
        noise = rng.standard_normal(n)
        if self._obs.shape[0] == 0 or n == 0:
            cl.b = bt
            cl.detected = np.zeros(n, dtype=bool)
            cl.coverage = np.zeros(n)
            self._refresh_entropy()
            return 0, 0.0
        g = self._loaded()
        pairs = g["pairs"]
        pc = pairs["c"]
        pd = cl.silence[pc]  # base · (occl_a + occl_b · silence), in place
        np.multiply(pairs["occl_b"], pd, out=pd)
        np.add(pairs["occl_a"], pd, out=pd)
        np.multiply(pairs["base"], pd, out=pd)
        if g["clip"]:
            np.minimum(pd, MAX_DETECTION, out=pd)
        state = cl.state
        seen = rng.random(pc.size) < pd * self._vis[state[pc]]
        hit = np.flatnonzero(seen)
        cidx = pc[hit]
        # Report the true state with probability acc, else one of the two other live states.
        u = rng.random(hit.size)
        reports = (state[cidx] + (u >= self._acc) + (u >= self._acc_mid)) % 3
        counts = np.bincount(reports * n + cidx, minlength=3 * n).reshape(3, n)
        # Silent observers' evidence Σ log(1 − p·v_s), per live state s and cluster: (3, C).
        silent = np.where(seen, 0.0, pd)
        miss_log = np.bincount(
            pairs["state_index"], weights=np.log(1.0 + self._neg_vis3[:, None] * silent).ravel(), minlength=3 * n
        ).reshape(3, n)
        cl.b = model.update(bt, miss_log, counts)
        precision = np.bincount(cidx, weights=pairs["precision"][hit], minlength=n)
        model.update_count(cl.mu, cl.var, precision, self._cache["log_count"], noise)

        total = counts.sum(axis=0)
        det = total > 0
        cl.detected = det
        if hit.size:
            agree = 0.8 * cl.agreement + 0.2 * counts.max(axis=0) / np.maximum(total, 1)
            cl.agreement = np.where(total >= 2, agree, cl.agreement)
            major = counts.argmax(axis=0)
            prev = cl.majority
            changed = (prev >= 0) & (major != prev)
            cl.volatility = np.where(det, 0.9 * cl.volatility + 0.1 * changed, cl.volatility)
            cl.majority = np.where(det, major, prev)
            cl.confidence[det] = 1.0  # only live clusters can be seen
        cl.coverage = 1.0 - np.exp(np.bincount(pc, weights=np.log(1.0 - pd), minlength=n))
        self._refresh_entropy()
        return hit.size, float(cl.coverage.sum()) / n

    def _refresh_entropy(self) -> None:
        cl, model = self._cl, self._model
        # BeliefModel.entropy, split so that the state part is kept for the cluster table's ambiguity.
        h_state = model.state_entropy(cl.b)
        h = np.subtract(1.0, cl.b[GONE])  # h_state + w·(1 − P(gone))·H(count), without temporaries
        np.multiply(model.count_weight, h, out=h)
        h *= model.count_entropy(cl.var)
        h += h_state
        cl.entropy = h
        self._cache["state_entropy"] = (cl.b, h_state)
        self._entropy_total = float(cl.entropy.sum())

    def _state_entropy(self) -> NDArray[np.float64]:
        """H(state) per cluster of the current belief (computed with the entropy when it is fresh)."""
        cached = self._cache.get("state_entropy")
        if cached is not None and cached[0] is self._cl.b:  # beliefs are replaced, never edited in place
            return cached[1]
        return self._model.state_entropy(self._cl.b)

    # ====================================================================== information gain

    def _predicted(self) -> dict[str, Any]:
        """Next tick's prior and the existing observers' miss probabilities (cached per tick/version)."""
        key = (self._version, self._cl_version, self._count_version, self.tick)
        p = self._cache.get("predicted")
        if p is not None and p["key"] == key:
            return p
        cl, model = self._cl, self._model
        b = (model.transition_t @ cl.b).T
        var = cl.var + model.count_q
        vbar = b @ self._vis
        if self._obs.shape[0]:
            pd = self._detection()
            miss_each = np.log1p(-pd * vbar)
        else:
            pd = np.zeros((0, len(cl)))
            miss_each = pd
        p = {
            "key": key,
            "b": b,
            "var": var,
            "vbar": vbar,
            "pd": pd,
            "miss_each": miss_each,
            "miss_all": miss_each.sum(axis=0),
            "occl": 1.0 - self.scenario.belief.occlusion_weight * self._occlusion(),
        }
        self._cache["predicted"] = p
        return p

    def _gain(self, pd: NDArray[np.float64], rate_ratio: NDArray[np.float64] | float, miss_others: Any) -> Any:
        """Σ over clusters of the discounted information gain of detection rows ``pd`` (…, C)."""
        p = self._predicted()
        ig = self._model.information_gain(p["b"], p["var"], pd, rate_ratio)
        return (ig * np.exp(miss_others)).sum(axis=-1)

    def _candidate_pd(self, lon: NDArray[np.float64], lat: NDArray[np.float64], t: int, rate: float) -> Any:
        p = self._predicted()
        cl = self._cl
        xyz = unit_vectors(lon, lat).reshape(-1, 3)
        reach = footprint(xyz @ cl.xyz.T, self._type_radius[t])
        rr = rate / self._type_base_rate[t]
        load = (reach @ cl.node_count) * rr / self._type_capacity[t]
        det = 1.0 - (1.0 - self.scenario.observer_types[t].detection) ** rr
        pd = reach * (det * load_factor(load))[:, None] * p["occl"]
        return np.minimum(pd, MAX_DETECTION), rr

    def deploy_gains(self, lon: ArrayLike, lat: ArrayLike, observer_type: str | None = None) -> NDArray[np.float64]:
        """Expected information gain (bits) of deploying at each of K candidate sites: (K,). Vectorised;
        ignores constraints (use :meth:`validate` for those)."""
        kind = observer_type or self.scenario.constraints.default_observer_type
        t = self.scenario.observer_type_index(kind)
        lon_a, lat_a = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        pd, rr = self._candidate_pd(lon_a, lat_a, t, float(self._type_base_rate[t]))
        return np.asarray(self._gain(pd, rr, self._predicted()["miss_all"]), dtype=np.float64)

    def expected_information_gain(self, action: Action) -> float:
        """Expected entropy reduction (bits) over the next tick that ``action`` adds. Negative for a
        decommission (information given up). Constraints are not checked here."""
        p = self._predicted()
        if isinstance(action, Deploy):
            return float(self.deploy_gains([action.lon], [action.lat], action.observer_type)[0])
        if not np.any(self._obs["id"] == getattr(action, "observer_id", None)):
            return 0.0
        row = self._row(action.observer_id)
        g = self._geometry()
        others = p["miss_all"] - p["miss_each"][row]
        current = float(self._gain(p["pd"][row], g["rate_ratio"][row], others))
        t = int(self._obs["type"][row])
        rate = float(self._obs["sampling_rate"][row])
        if isinstance(action, Decommission):
            return -current
        if isinstance(action, Relocate):
            pd, rr = self._candidate_pd(np.array([action.lon]), np.array([action.lat]), t, rate)
            focus = focus_multipliers(self._obs["focus_cluster"][row : row + 1], self._cl.id, *self._focus_params())
            return float(self._gain(np.minimum(pd * focus, MAX_DETECTION)[0], rr, others)) - current
        if isinstance(action, IncreaseSampling):
            new_rate = min(2.0 * rate, self.scenario.observer_types[t].max_sampling_rate)
            pd, rr = self._candidate_pd(
                np.array([self._obs["lon"][row]]), np.array([self._obs["lat"][row]]), t, new_rate
            )
            focus = focus_multipliers(self._obs["focus_cluster"][row : row + 1], self._cl.id, *self._focus_params())
            return float(self._gain(np.minimum(pd * focus, MAX_DETECTION)[0], rr, others)) - current
        if isinstance(action, Focus):
            pd, rr = self._candidate_pd(np.array([self._obs["lon"][row]]), np.array([self._obs["lat"][row]]), t, rate)
            focus = focus_multipliers(np.array([action.cluster_id]), self._cl.id, *self._focus_params())
            return float(self._gain(np.minimum(pd * focus, MAX_DETECTION)[0], rr, others)) - current
        return 0.0

    def _focus_params(self) -> tuple[float, float]:
        return self.scenario.belief.focus_gain, self.scenario.belief.focus_penalty

    # ========================================================================================= nodes

    def _slot_of(self) -> NDArray[np.int64]:
        slot = np.full(self._next_cluster_id, -1, dtype=np.int64)
        slot[self._cl.id] = np.arange(len(self._cl))
        return slot

    def _materialise(self) -> None:
        """Build the node buffer from the cluster table (a keyframe: ids equal rows). Each cluster's
        nodes come from its own seed, so this does not touch the world's random streams."""
        cl = self._cl
        live = np.flatnonzero(cl.state != GHOST)
        counts = cl.node_count[live]
        metas = [
            node_meta(np.random.default_rng(int(cl.node_seed[i])), np.full(int(cl.node_count[i]), cl.spread_km[i]))
            for i in live
        ]
        meta = np.concatenate(metas) if metas else np.zeros(0, dtype=META_DTYPE)
        slot = np.repeat(live, counts)
        nodes = np.zeros((meta.shape[0], 6), dtype=np.float32)
        nodes[:, :4] = node_values(meta, cl.lon[slot], cl.lat[slot], STATE_INTENSITY[cl.state[slot]])
        nodes[:, 4:] = threat_values(meta, STATE_THREAT[cl.state[slot]])
        self._store = NodeStore(nodes, meta, cl.id[slot])
        self._store_tick = self.tick

    def _emit(self, ev: ClusterEvents) -> NDArray[np.void]:
        """Turn this tick's cluster events plus node flicker into one delta frame (and apply it).

        One O(N) pass finds the rows of every cluster an event touched; everything else is O(changed).
        """
        store = self._store
        assert store is not None
        cl, d, rng = self._cl, self.scenario.dynamics, self._rng_nodes
        slot = self._slot_of()
        n = len(store)
        changed = ev.state_changed()
        touched = np.concatenate([ev.vanished, ev.resized, changed, ev.shifted])
        if touched.size:
            rows = np.flatnonzero(np.isin(store.cluster, touched))
            owner = store.cluster[rows]
        else:
            rows = owner = _NO_IDS

        # Removals: every node of a vanished cluster, and the surplus of shrunk clusters.
        remove = [rows[np.isin(owner, ev.vanished)]]
        grow_ids: list[np.ndarray] = [ev.spawned]
        grow_counts: list[np.ndarray] = [cl.node_count[slot[ev.spawned]]]
        for cid in ev.resized.tolist():
            mine = rows[owner == cid]
            want = int(cl.node_count[slot[cid]])
            if want < mine.size:
                remove.append(mine[want:])
            elif want > mine.size:
                grow_ids.append(np.array([cid]))
                grow_counts.append(np.array([want - mine.size]))
        # Row sets are kept as masks over the buffer: O(N) bytes but no sorting or hashing.
        keep = np.ones(n, dtype=bool)
        for r in remove:
            keep[r] = False
        rem_rows = np.flatnonzero(~keep) if len(remove) > 1 or remove[0].size else _NO_IDS

        # Updates: all nodes of clusters that moved or changed state, plus a random flicker subset.
        k = round(d.flicker_fraction * n)
        is_flicker = np.zeros(n, dtype=bool)
        if k:
            is_flicker[rng.integers(0, n, k)] = True
        mark = is_flicker.copy()
        mark[rows[np.isin(owner, np.concatenate([changed, ev.shifted]))]] = True
        mark &= keep
        upd_rows = np.flatnonzero(mark)
        s = slot[store.cluster[upd_rows]]
        level = STATE_INTENSITY[cl.state[s]]
        jitter = None
        if k:
            noise = rng.standard_normal((3, upd_rows.size)) * is_flicker[upd_rows]
            jitter = noise[:2] * (cl.spread_km[s] / EARTH_RADIUS_KM * 0.05)
            level = level * (1.0 + 0.25 * noise[2])
        target = node_values(store.meta[upd_rows], cl.lon[s], cl.lat[s], level, jitter)

        # Threat: nodes of clusters whose state changed, and nodes added by the previous frame.
        mark = store.pending_mask().copy()
        mark[rows[np.isin(owner, changed)]] = True
        mark &= keep
        thr_rows = np.flatnonzero(mark)
        thr = threat_values(store.meta[thr_rows], STATE_THREAT[cl.state[slot[store.cluster[thr_rows]]]])

        # Additions: new clusters' nodes and growth of grown clusters.
        add_cluster = np.repeat(np.concatenate(grow_ids), np.concatenate(grow_counts).astype(np.int64))
        add_slot = slot[add_cluster]
        add_meta = node_meta(rng, cl.spread_km[add_slot])
        add_vals = node_values(add_meta, cl.lon[add_slot], cl.lat[add_slot], STATE_INTENSITY[cl.state[add_slot]])
        return store.emit(upd_rows, target, thr_rows, thr, rem_rows, add_vals, add_meta, add_cluster)

    def edges(self, k: int = 3) -> NDArray[np.void]:
        """k-nearest-neighbour links inside each cluster (EDGE_DTYPE, rows of :attr:`nodes`, src < dst).

        Confidence is the cluster's state confidence (1 − H(state)/2) times a distance falloff.
        """
        from scipy.spatial import cKDTree

        nodes = self.nodes
        n = nodes.shape[0]
        if n < 2:
            return np.zeros(0, dtype=EDGE_DTYPE)
        cluster = self.node_cluster()
        # A fourth coordinate far apart per cluster keeps neighbours inside their own cluster.
        pts = np.empty((n, 4))
        pts[:, :3] = nodes[:, :3]
        pts[:, 3] = cluster * 10.0
        dist, idx = cKDTree(pts).query(pts, k=k + 1)
        src = np.repeat(np.arange(n), k)
        dst = idx[:, 1:].ravel()
        dd = dist[:, 1:].ravel()
        ok = (dst < n) & (cluster[np.minimum(dst, n - 1)] == cluster[src]) & (src != dst)
        src, dst, dd = src[ok], dst[ok], dd[ok]
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        key, first = np.unique(lo.astype(np.int64) * n + hi, return_index=True)
        slot = self._slot_of()[cluster[lo[first]]]
        cl = self._cl
        conf_c = 1.0 - self._model.state_entropy(cl.b) / 2.0
        spread = cl.spread_km[slot] / EARTH_RADIUS_KM
        out = np.zeros(key.size, dtype=EDGE_DTYPE)
        out["src"] = lo[first]
        out["dst"] = hi[first]
        out["confidence"] = np.clip(conf_c[slot] * np.exp(-dd[first] / np.maximum(spread, 1e-6)), 0.0, 1.0)
        return out

    # ========================================================================================= fields

    def coverage_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Probability that at least one observer detects a fully visible target in each cell."""
        pts = fields.grid_unit_vectors(h, w)
        o = self._obs
        if o.shape[0] == 0:
            return np.zeros((h, w), dtype=np.float32)
        g = self._geometry()
        types = o["type"].astype(np.int64)
        self._detection()  # refresh load
        det = rate_detection(self.scenario, types, o["sampling_rate"]) * load_factor(o["load"])
        reach = footprint(pts @ g["oxyz"].T, o["coverage_radius_km"][None, :])
        miss = np.log1p(-np.minimum(reach * det, MAX_DETECTION)).sum(axis=1)
        return (1.0 - np.exp(miss)).reshape(h, w).astype(np.float32)

    def occlusion_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Occlusion in [0, 1]: the regions' own occlusion combined with silent clusters' shadows."""
        lon, lat = fields.cell_centres(h, w)
        region = np.zeros((h, w))
        for r in self.scenario.regions:
            inside = r.contains(lon[None, :], lat[:, None])
            region = np.maximum(region, np.where(inside, r.occlusion, 0.0))
        cl = self._cl
        shadow = fields.gaussian_bumps(
            fields.grid_unit_vectors(h, w), cl.xyz, np.maximum(cl.spread_km, 50.0) * 2.0, 0.5 * cl.silence
        )
        occl = 1.0 - (1.0 - region) * (1.0 - np.minimum(shadow.reshape(h, w), 1.0))
        return occl.astype(np.float32)

    def _uncertainty_at(self, pts: NDArray[np.float64]) -> NDArray[np.float64]:
        cl = self._cl
        return fields.gaussian_bumps(pts, cl.xyz, self._uncertainty_sigma(), cl.entropy * cl.confidence)

    def _uncertainty_sigma(self) -> NDArray[np.float64]:
        return np.maximum(self._cl.spread_km, 150.0) * 1.5

    def uncertainty_grid(self, h: int, w: int) -> NDArray[np.float32]:
        """Belief entropy (bits) spread around each cluster, weighted by ghost confidence."""
        return self._uncertainty_at(fields.grid_unit_vectors(h, w)).reshape(h, w).astype(np.float32)

    def uncertainty_gradient(self, lon: float, lat: float) -> tuple[float, float]:
        """Gradient (per degree of lon, per degree of lat) of the uncertainty field at one point, for
        drifting observers toward maximum ambiguity."""
        h = 0.05
        lat_c = float(np.clip(lat, -90.0 + h, 90.0 - h))
        pts = unit_vectors(np.array([lon + h, lon - h, lon, lon]), np.array([lat_c, lat_c, lat_c + h, lat_c - h]))
        u = self._uncertainty_at(pts)
        return float((u[0] - u[1]) / (2 * h)), float((u[2] - u[3]) / (2 * h))

    def node_uncertainty(self) -> NDArray[np.float32]:
        """Per-node weight of the gaussian volume: intensity × its cluster's entropy × confidence."""
        nodes = self.nodes
        assert self._store is not None
        slot = self._slot_of()[self._store.cluster]
        ent = (self._cl.entropy * self._cl.confidence).astype(np.float32)
        return nodes[:, 3] * ent[slot]

    def volume(self, size: int = 64, model: str = "gaussian") -> NDArray[np.float32]:
        """(S, S, S) float32 field of the node swarm ([z, y, x] over ±fields.EXTENT): ``gaussian`` is the
        blurred density of :meth:`node_uncertainty`, ``rf`` the RF propagation model of node intensity."""
        if size < 2 or size > 256:
            raise ValueError(f"volume size must be in [2, 256], got {size}")
        if model == "gaussian":
            return fields.volume_gaussian(self.nodes[:, :3], self.node_uncertainty(), size)
        if model == "rf":
            nodes = self.nodes
            return fields.volume_rf(nodes[:, :3], nodes[:, 3], size, self.occlusion_grid(90, 180))
        raise ValueError(f"volume model must be 'gaussian' or 'rf', got {model!r}")

    # ==================================================================================== persistence

    def to_bytes(self) -> bytes:
        """The whole state (scenario text, clusters, observers, nodes, random streams) as bytes."""
        meta = {
            "format": _FORMAT,
            "seed": self.seed,
            "tick": self.tick,
            "emit_nodes": self.emit_nodes,
            "source": self.scenario.source,
            "scenario": self.scenario.text,
            "next_cluster_id": self._next_cluster_id,
            "next_observer_id": self._next_observer_id,
            "store_tick": self._store_tick,
            "rng": [r.bit_generator.state for r in (self._rng_dyn, self._rng_obs, self._rng_nodes)],
        }
        arrays: dict[str, np.ndarray] = {f"c_{k}": v for k, v in self._cl.columns().items()}
        arrays["observers"] = self._obs
        if self._store is not None:
            arrays.update({f"n_{k}": v for k, v in self._store.state().items()})
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, allow_pickle=False, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> World:
        """Restore a world saved by :meth:`to_bytes`; it continues bit-identically."""
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            meta = json.loads(bytes(z["meta"]).decode())
        except Exception as exc:  # any malformed input is reported the same way
            raise ValueError(f"not a saved world: {exc}") from None
        if meta.get("format") != _FORMAT:
            raise ValueError(f"not a saved world: format {meta.get('format')!r}, expected {_FORMAT!r}")
        w = cls.__new__(cls)
        w.scenario = parse_scenario(meta["scenario"], meta["source"])
        w.seed, w.tick, w.emit_nodes = int(meta["seed"]), int(meta["tick"]), bool(meta["emit_nodes"])
        w._model = BeliefModel(w.scenario)
        w._init_constants()
        rngs = []
        for state in meta["rng"]:
            g = np.random.Generator(np.random.PCG64())
            g.bit_generator.state = state
            rngs.append(g)
        w._rng_dyn, w._rng_obs, w._rng_nodes = rngs
        w._cl = ClusterArrays.from_columns({k[2:]: z[k] for k in z.files if k.startswith("c_")})
        w._next_cluster_id = int(meta["next_cluster_id"])
        w._obs = np.array(z["observers"])
        w._next_observer_id = int(meta["next_observer_id"])
        w._version = 0
        w._cl_version = 0
        w._count_version = 0
        w._cache = {}
        w._store_tick = int(meta["store_tick"])
        w._store = (
            NodeStore.from_state({k[2:]: z[k] for k in z.files if k.startswith("n_")}) if "n_nodes" in z.files else None
        )
        w._refresh_entropy()
        return w


_EMPTY_NODES: Final = np.zeros((0, 6), dtype=np.float32)
_EMPTY_NODES.flags.writeable = False
_EMPTY_DELTA: Final = np.zeros(0, dtype=DELTA_DTYPE)


__all__ = ["StepResult", "World"]
