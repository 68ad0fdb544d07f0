"""The RL view of a world: a fixed-size Dict observation and a flattened Discrete action with a joint mask.

:class:`ActionCodec` numbers every action the agent can take, in blocks::

    0                                   no-op (always valid)
    deploy      type t × cell c         Deploy(cell centre, type t)
    relocate    slot s × cell c         Relocate(observer in slot s, cell centre)
    sampling    slot s                  IncreaseSampling(observer in slot s)
    focus       slot s × cluster slot k Focus(observer in slot s, cluster in slot k)
    decommission slot s                 Decommission(observer in slot s)

Cells are the centres of a ``rows × cols`` lon/lat grid over the scenario's playing field; observer slots are
the rows of ``world.observers``; cluster slots are the live clusters ranked by belief entropy. One flattened
``Discrete`` with a joint mask (rather than ``MultiDiscrete``) lets the target depend on the action type. The
mask encodes every guardrail of :mod:`scythe_desktop.engine.constraints` — placement (allowed/forbidden
regions, latency zones) as a static (type, cell) table, max instances, budget and sampling caps per step —
plus "no pointless action" rules (focusing the cluster already focused). A True entry is always accepted
by ``world.validate``; the tests check that against the world itself.

:class:`ObservationEncoder` builds the observation from named parts, each owning its keys of the Dict space,
so a graph part (padded edges + edge mask for a GNN extractor) or an adversary's view is one more part, not a
rewrite. This module reads worlds and never changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.constraints import check_placement
from scythe_desktop.engine.rl.cells import CellGrid
from scythe_desktop.engine.scenario import Scenario

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World

MAX_TYPES: Final = 4  # observer-type one-hot width; scenarios with more types are refused


@dataclass(frozen=True)
class WorldView:
    """One consistent read of a world: its tables are copies, so reading them once per step is cheap."""

    scenario: Scenario
    clusters: NDArray[np.void]
    observers: NDArray[np.void]
    budget_used_per_hour: float
    #: Per cluster row, the evader's decoys: ground truth for the reward only, never an observation.
    decoys: NDArray[np.bool_] | None = None

    @classmethod
    def of(cls, world: World) -> WorldView:
        return cls(world.scenario, world.clusters, world.observers, world.budget_used_per_hour, world.decoys())


@dataclass(frozen=True)
class EnvConfig:
    """Sizes of the fixed observation/action layout (independent of the scenario, so one policy fits all)."""

    observer_slots: int = 24
    cluster_slots: int = 48
    cell_rows: int = 8
    cell_cols: int = 8

    def __post_init__(self) -> None:
        for name in ("observer_slots", "cluster_slots", "cell_rows", "cell_cols"):
            if getattr(self, name) < 1:
                raise ValueError(f"EnvConfig.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def n_cells(self) -> int:
        return self.cell_rows * self.cell_cols


# --------------------------------------------------------------------------------------------- actions


def cluster_slots(world: WorldView, k: int) -> NDArray[np.intp]:
    """Rows of ``world.clusters`` shown to the agent: live clusters by belief entropy, highest first.

    Ghosts (vanished clusters still remembered by the belief) are included: watching them resolves
    uncertainty too. The order is deterministic (ties broken by id).
    """
    c = world.clusters
    order = np.lexsort((c["id"], -c["entropy"]))
    return order[:k]


class ActionCodec:
    """Index <-> :mod:`~scythe_desktop.engine.actions` object, and the joint validity mask."""

    def __init__(self, scenario: Scenario, config: EnvConfig) -> None:
        if len(scenario.observer_types) > MAX_TYPES:
            raise ValueError(
                f"scenario {scenario.name!r} has {len(scenario.observer_types)} observer types; "
                f"the RL layout supports at most {MAX_TYPES}"
            )
        self.scenario = scenario
        self.config = config
        self.grid = CellGrid.for_scenario(scenario, config.cell_rows, config.cell_cols)
        self.cells = self.grid.centres
        n_types, n_cells, m, k = (
            len(scenario.observer_types),
            config.n_cells,
            config.observer_slots,
            config.cluster_slots,
        )
        self.n_types = n_types
        sizes = {
            "noop": 1,
            "deploy": MAX_TYPES * n_cells,
            "relocate": m * n_cells,
            "sampling": m,
            "focus": m * k,
            "decommission": m,
        }
        self.offsets: dict[str, int] = {}
        start = 0
        for name, size in sizes.items():
            self.offsets[name] = start
            start += size
        self.n_actions = start
        # Static placement rules: (type, cell) -> allowed by regions and latency zones; the deploy block
        # always has MAX_TYPES rows so that one policy fits every scenario (missing types stay False).
        self.placement_ok = np.zeros((MAX_TYPES, n_cells), dtype=bool)
        for t in range(n_types):
            self.placement_ok[t] = [
                check_placement(scenario, float(lon), float(lat), t) is None for lon, lat in self.cells
            ]
        self.type_cost = np.full(MAX_TYPES, np.inf)  # padding types never fit the budget
        self.type_cost[:n_types] = [t.cost_per_hour for t in scenario.observer_types]
        self.setup_fee = np.array([t.setup_fee for t in scenario.observer_types])
        self.deploy_fee = np.zeros(MAX_TYPES)  # the set-up fee counts in the budget guard
        self.deploy_fee[:n_types] = self.setup_fee
        self.type_max_rate = np.array([t.max_sampling_rate for t in scenario.observer_types])
        self.type_base_rate = np.array([t.sampling_rate for t in scenario.observer_types])

    @property
    def space(self) -> spaces.Discrete:
        return spaces.Discrete(self.n_actions)

    def block(self, index: int) -> tuple[str, int]:
        """The block name of ``index`` and the offset inside it."""
        if not 0 <= index < self.n_actions:
            raise ValueError(f"action index must be in [0, {self.n_actions}), got {index}")
        name = "noop"
        for block_name, start in self.offsets.items():
            if index >= start:
                name = block_name
        return name, index - self.offsets[name]

    def decode(self, index: int, world: WorldView, slots: NDArray[np.intp] | None = None) -> Action | None:
        """The world action for ``index`` (None for the no-op). ``slots``: this step's cluster slots."""
        name, j = self.block(int(index))
        obs = world.observers
        n_cells, k = self.config.n_cells, self.config.cluster_slots
        if name == "noop":
            return None
        if name == "deploy":
            t, c = divmod(j, n_cells)
            lon, lat = self.cells[c]
            return Deploy(float(lon), float(lat), self.scenario.observer_types[t].name)
        if name == "relocate":
            s, c = divmod(j, n_cells)
            lon, lat = self.cells[c]
            return Relocate(int(obs["id"][s]), float(lon), float(lat))
        if name == "sampling":
            return IncreaseSampling(int(obs["id"][j]))
        if name == "focus":
            s, q = divmod(j, k)
            rows = cluster_slots(world, k) if slots is None else slots
            return Focus(int(obs["id"][s]), int(world.clusters["id"][rows[q]]))
        return Decommission(int(obs["id"][j]))

    def index(self, action: Action | None, world: WorldView, slots: NDArray[np.intp] | None = None) -> int | None:
        """The index :meth:`decode` maps to ``action`` (0 for None), or None when the layout cannot express it
        (a site off the cell grid, an observer or cluster outside the slots)."""
        if action is None:
            return 0
        n_cells, k = self.config.n_cells, self.config.cluster_slots
        if isinstance(action, Deploy | Relocate):
            at = (np.abs(self.cells[:, 0] - action.lon) < 1e-9) & (np.abs(self.cells[:, 1] - action.lat) < 1e-9)
            cell = np.flatnonzero(at)
            if cell.size == 0:
                return None
            if isinstance(action, Deploy):
                kind = action.observer_type or self.scenario.constraints.default_observer_type
                t = self.scenario.observer_type_index(kind)
                return self.offsets["deploy"] + t * n_cells + int(cell[0])
        slot = np.flatnonzero(world.observers["id"][: self.config.observer_slots] == action.observer_id)
        if slot.size == 0:
            return None
        s = int(slot[0])
        if isinstance(action, Relocate):
            return self.offsets["relocate"] + s * n_cells + int(cell[0])
        if isinstance(action, IncreaseSampling):
            return self.offsets["sampling"] + s
        if isinstance(action, Decommission):
            return self.offsets["decommission"] + s
        if isinstance(action, Focus):
            rows = cluster_slots(world, k) if slots is None else slots
            q = np.flatnonzero(world.clusters["id"][rows] == action.cluster_id)
            return self.offsets["focus"] + s * k + int(q[0]) if q.size else None
        return None

    def mask(self, world: WorldView, slots: NDArray[np.intp] | None = None) -> NDArray[np.bool_]:
        """Joint validity mask (True = allowed) for the current world state; the no-op is always True."""
        cfg, sc = self.config, self.scenario
        cons = sc.constraints
        m, n_cells, kk = cfg.observer_slots, cfg.n_cells, cfg.cluster_slots
        obs = world.observers
        n_obs = min(len(obs), m)
        used = float(world.budget_used_per_hour)
        mask = np.zeros(self.n_actions, dtype=bool)
        mask[0] = True

        # deploy: placement table, instance cap, budget at the type's base rate plus its set-up fee
        if len(obs) < min(cons.max_instances, m):
            fits = used + self.type_cost + self.deploy_fee <= cons.budget_per_hour + 1e-9
            o = self.offsets["deploy"]
            mask[o : o + MAX_TYPES * n_cells] = (self.placement_ok & fits[:, None]).ravel()

        if n_obs:
            types = obs["type"][:n_obs]
            # relocate: placement for the observer's own type, and room for its set-up fee
            o = self.offsets["relocate"]
            fee_fits = used + self.setup_fee[types] <= cons.budget_per_hour + 1e-9
            mask[o : o + n_obs * n_cells] = (self.placement_ok[types] & fee_fits[:, None]).ravel()
            # increase sampling: below the type's cap and the doubled rate still within budget
            rate = obs["sampling_rate"][:n_obs]
            new_rate = np.minimum(rate * 2.0, self.type_max_rate[types])
            new_cost = self.type_cost[types] * new_rate / self.type_base_rate[types]  # observers.cost_per_hour
            ok = (rate < self.type_max_rate[types] - 1e-12) & (
                used - obs["cost_per_hour"][:n_obs] + new_cost <= cons.budget_per_hour + 1e-9
            )
            o = self.offsets["sampling"]
            mask[o : o + n_obs] = ok
            # focus: any shown cluster except the one already focused
            rows = cluster_slots(world, kk) if slots is None else slots
            ids = world.clusters["id"][rows]
            focus = np.zeros((m, kk), dtype=bool)
            focus[:n_obs, : len(rows)] = obs["focus_cluster"][:n_obs, None] != ids[None, :]
            o = self.offsets["focus"]
            mask[o : o + m * kk] = focus.ravel()
            # decommission: any deployed observer
            o = self.offsets["decommission"]
            mask[o : o + n_obs] = True
        return mask


# ----------------------------------------------------------------------------------------- observation

FEATURE_BOUND: Final = 10.0  # every feature is clipped into [-FEATURE_BOUND, FEATURE_BOUND]


@dataclass(frozen=True)
class StepView:
    """What the parts share within one step (computed once): cluster slots and the episode clock."""

    slots: NDArray[np.intp]
    tick_fraction: float


class ObservationPart:
    """One group of keys of the Dict observation. Subclasses declare ``spaces()`` and fill ``encode()``."""

    def spaces(self) -> dict[str, spaces.Box]:
        raise NotImplementedError

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        raise NotImplementedError


def _box(shape: tuple[int, ...], low: float = -FEATURE_BOUND, high: float = FEATURE_BOUND) -> spaces.Box:
    return spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)


def _f32(a: NDArray) -> NDArray[np.float32]:
    # Clipped in a's precision, then rounded to float32 on the way out (one pass, no temporary).
    out = np.empty(a.shape, dtype=np.float32)
    np.clip(a, -FEATURE_BOUND, FEATURE_BOUND, out=out, casting="unsafe")
    return out


class ClusterPart(ObservationPart):
    """Per cluster slot: centroid (normalised to the field), log size, silence pressure, coherence, belief
    entropy, agreement, ambiguity, volatility, coverage deficit, detected, focused; plus a validity mask."""

    FEATURES: Final = 12

    def __init__(self, codec: ActionCodec) -> None:
        self.codec = codec
        self.k = codec.config.cluster_slots

    def spaces(self) -> dict[str, spaces.Box]:
        return {"clusters": _box((self.k, self.FEATURES)), "cluster_mask": _box((self.k,), 0.0, 1.0)}

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        c = world.clusters[step.slots]
        n = len(c)
        x, y = self.codec.grid.normalise(c["lon"], c["lat"])
        # A broadcast compare beats np.isin on these few dozen ids.
        focused = (c["id"][:, None] == world.observers["focus_cluster"][None, :]).any(axis=1)
        out = np.zeros((self.k, self.FEATURES))
        columns = (
            x,
            y,
            np.log1p(c["node_count"]) / 8.0,
            c["silence_pressure"],
            c["coherence"],
            c["entropy"] / 4.0,
            c["agreement"],
            c["ambiguity"],
            c["volatility"],
            c["coverage_deficit"],
            c["detected"],
            focused,
        )
        for j, column in enumerate(columns):
            out[:n, j] = column
        mask = np.zeros(self.k)
        mask[:n] = 1.0
        return {"clusters": _f32(out), "cluster_mask": _f32(mask)}


class ObserverPart(ObservationPart):
    """Per observer slot: position, coverage radius, load, sampling rate (of the type's cap), type one-hot,
    focused, cost share of the budget; plus a validity mask."""

    FEATURES: Final = 7 + MAX_TYPES

    def __init__(self, codec: ActionCodec) -> None:
        self.codec = codec
        self.m = codec.config.observer_slots

    def spaces(self) -> dict[str, spaces.Box]:
        return {"observers": _box((self.m, self.FEATURES)), "observer_mask": _box((self.m,), 0.0, 1.0)}

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        o = world.observers[: self.m]
        n = len(o)
        x, y = self.codec.grid.normalise(o["lon"], o["lat"])
        budget = max(self.codec.scenario.constraints.budget_per_hour, 1e-9)
        types = o["type"]
        out = np.zeros((self.m, self.FEATURES))
        # Column by column into the padded buffer (no stack/concatenate temporaries); the type one-hot
        # fills the last MAX_TYPES columns.
        out[:n, 0] = x
        out[:n, 1] = y
        out[:n, 2] = o["coverage_radius_km"] / 1000.0
        out[:n, 3] = o["load"]
        out[:n, 4] = o["sampling_rate"] / self.codec.type_max_rate[types]
        out[:n, 5] = o["focus_cluster"] >= 0
        out[:n, 6] = o["cost_per_hour"] / budget
        out[np.arange(n), 7 + types] = 1.0
        mask = np.zeros(self.m)
        mask[:n] = 1.0
        return {"observers": _f32(out), "observer_mask": _f32(mask)}


class GridPart(ObservationPart):
    """Coarse grids aligned with the action cells: coverage (summed footprints), occlusion (static, from the
    regions) and uncertainty (belief entropy of the clusters in each cell), shape (3, rows, cols)."""

    def __init__(self, codec: ActionCodec) -> None:
        from scythe_desktop.engine.geo import unit_vectors

        self.codec = codec
        cfg = codec.config
        self.shape = (cfg.cell_rows, cfg.cell_cols)
        sc = codec.scenario
        region = np.array([sc.region_of(float(lon), float(lat)) for lon, lat in codec.cells])
        occl = np.array([r.occlusion for r in sc.regions] + [0.0])
        self.occlusion = occl[region].reshape(self.shape)
        self._occlusion_f32 = _f32(self.occlusion)
        self.cell_units = unit_vectors(codec.cells[:, 0], codec.cells[:, 1])
        # Coverage and the clusters' cells change only when observers or clusters move: each is kept with
        # the exact bytes of its inputs and recomputed when those differ.
        self._coverage: tuple[tuple[bytes, ...], NDArray[np.float64]] | None = None
        self._cells: tuple[tuple[bytes, ...], NDArray[np.intp], NDArray[np.bool_]] | None = None

    def spaces(self) -> dict[str, spaces.Box]:
        return {"grids": _box((3, *self.shape))}

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        from scythe_desktop.engine.geo import unit_vectors
        from scythe_desktop.engine.observers import footprint

        o = world.observers
        o_key = (o["lon"].tobytes(), o["lat"].tobytes(), o["coverage_radius_km"].tobytes())
        if self._coverage is None or self._coverage[0] != o_key:
            coverage = np.zeros(self.codec.config.n_cells)
            if len(o):
                cos = self.cell_units @ unit_vectors(o["lon"], o["lat"]).T
                coverage = footprint(cos, o["coverage_radius_km"][None, :]).sum(axis=1)
            self._coverage = (o_key, coverage)
        coverage = self._coverage[1]
        c = world.clusters
        c_key = (c["lon"].tobytes(), c["lat"].tobytes())
        if self._cells is None or self._cells[0] != c_key:
            cell = self.codec.grid.cell_of(c["lon"], c["lat"])
            self._cells = (c_key, cell, cell >= 0)
        _, cell, inside = self._cells
        # bincount with weights is float64 (numpy's stubs type it as int)
        uncertainty: NDArray[np.float64] = np.bincount(  # type: ignore[assignment]
            cell[inside], weights=c["entropy"][inside], minlength=self.codec.config.n_cells
        )
        # Each channel clipped straight into the float32 output (the occlusion channel is static).
        grids = np.empty((3, *self.shape), dtype=np.float32)
        np.clip(coverage.reshape(self.shape), -FEATURE_BOUND, FEATURE_BOUND, out=grids[0], casting="unsafe")
        grids[1] = self._occlusion_f32
        uncertainty /= 4.0
        np.clip(uncertainty.reshape(self.shape), -FEATURE_BOUND, FEATURE_BOUND, out=grids[2], casting="unsafe")
        return {"grids": grids}


class GlobalPart(ObservationPart):
    """Scalars: episode clock, observers of the cap, spend of the budget, mean cluster entropy, clusters of
    the shown slots, detected fraction."""

    FEATURES: Final = 6

    def __init__(self, codec: ActionCodec) -> None:
        self.codec = codec

    def spaces(self) -> dict[str, spaces.Box]:
        return {"globals": _box((self.FEATURES,))}

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        cons = self.codec.scenario.constraints
        c = world.clusters
        n = max(len(c), 1)
        feats = np.array(
            [
                step.tick_fraction,
                len(world.observers) / max(cons.max_instances, 1),
                world.budget_used_per_hour / max(cons.budget_per_hour, 1e-9),
                float(c["entropy"].sum()) / n / 4.0,
                len(step.slots) / self.codec.config.cluster_slots,
                float(c["detected"].sum()) / n,
            ]
        )
        return {"globals": _f32(feats)}


class ObservationEncoder:
    """The Dict observation as the union of its parts' keys."""

    def __init__(self, codec: ActionCodec, parts: list[ObservationPart] | None = None) -> None:
        self.codec = codec
        self.parts = (
            parts
            if parts is not None
            else [ClusterPart(codec), ObserverPart(codec), GridPart(codec), GlobalPart(codec)]
        )
        merged: dict[str, spaces.Space] = {}
        for part in self.parts:
            for key, space in part.spaces().items():
                if key in merged:
                    raise ValueError(f"observation key {key!r} declared by two parts")
                merged[key] = space
        self.space = spaces.Dict(merged)

    def encode(self, world: WorldView, step: StepView) -> dict[str, NDArray[np.float32]]:
        obs: dict[str, NDArray[np.float32]] = {}
        for part in self.parts:
            obs.update(part.encode(world, step))
        return obs
