"""The orchestrator's hold on the simulator: one ``World``, ticked on its own thread, published once.

The host owns the world and the lock around it. It ticks ``tick_hz`` times per wall-clock second (each
tick advances the scenario by its ``tick_seconds``). Each tick it steps the world and encodes the result
once with the core codec: a DELTA every tick (chained by ``base_seq`` to the previous node frame), a
KEYFRAME plus EDGES every ``keyframe_every`` ticks (and first), a MEMBERSHIP frame after each node frame
that places nodes in clusters (all of them after a keyframe; after a delta only the ids whose cluster is new
or changed, and none when nothing changed), an uncertainty GRID every
``grid_every`` ticks and an OBSERVERS list whenever the observers change; then hands the bytes to the
:class:`~scythe_desktop.orchestrator.hub.FrameHub`. Every seq is durably reserved in the
:class:`~scythe_desktop.orchestrator.store.StateStore` before use, and the world is checkpointed there after
every action and every ``checkpoint_s`` seconds, so a restarted host continues the same world (same
seed, tick and observers) with fresh, never reused seqs, beginning with a keyframe.

Everything else in ``net`` reaches the world through this class only. It knows the engine's public
API and the frame codec, not gRPC.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import numpy as np

from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.layout import MEMBERSHIP_DTYPE
from scythe_desktop.engine.actions import Action, ActionResult
from scythe_desktop.engine.batch.evader import MOVE_EVENTS, MOVE_NAMES
from scythe_desktop.engine.field_snapshot import FieldSnapshot
from scythe_desktop.engine.scenario import Scenario
from scythe_desktop.engine.world import StepResult, World
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.store import StateStore
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

log = logging.getLogger(__name__)

GRID_SHAPE: Final = (90, 180)
#: Ticks of evader moves a host keeps for its clients (``ClusterTable.evader_moves``): what the globe's
#: evader layer shows, and more than a client polling once a second misses at the fastest tick rate.
EVADER_WINDOW_TICKS: Final = 30

#: One evader move: (tick, kind, cluster id, lon, lat), the cluster where it is after the move.
EvaderMove = tuple[int, str, int, float, float]


class StateMismatch(RuntimeError):
    """The state directory holds a different scenario or seed than the one asked for."""


class WorldHost:
    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        hub: FrameHub,
        *,
        store: StateStore | None = None,
        tick_hz: float = 5.0,
        keyframe_every: int = 50,
        grid_every: int = 10,
        checkpoint_s: float = 1.0,
        world: World | None = None,
    ) -> None:
        if not tick_hz > 0:
            raise ValueError(f"tick_hz must be > 0, got {tick_hz!r}")
        self.scenario = scenario
        self._fingerprint = scenario.fingerprint()
        self.seed = seed
        self.tick_hz = tick_hz
        self._hub = hub
        self._store = store
        self._keyframe_every = keyframe_every
        self._grid_every = grid_every
        self._checkpoint_s = checkpoint_s
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = store.first_free_seq if store else 1
        self._last_node_seq = 0
        # The cluster of every node id as the clients know it (-1: not sent yet); reset by each keyframe.
        self._cluster_by_id = np.zeros(0, dtype=np.int32)
        self._observers_dirty = True
        self._last_checkpoint = 0.0
        self._checkpoint_deferred = False
        self.world = world or self._restore() or World(scenario, seed)
        self._ticks_since_keyframe = 0
        self._evader_moves: deque[EvaderMove] = deque()  # the last EVADER_WINDOW_TICKS ticks' moves
        #: The evader's moves of the tick last stepped: (kind, cluster id, lon, lat) each.
        self.last_evader_moves: tuple[tuple[str, int, float, float], ...] = ()
        #: Filled in by the deployment backend: (status, last heartbeat, load) of an observer id.
        self.observer_status: Callable[[int], tuple[str, float, float]] = lambda _oid: ("running", 0.0, 0.0)
        self.backend_name = "simulated"

    @classmethod
    def resumed(cls, world: World, seed: int, hub: FrameHub, *, next_seq: int, keyframe_seq: int,
                tick_hz: float = 5.0, keyframe_every: int = 50, grid_every: int = 10) -> WorldHost:
        """A host that continues a stream exactly: ``world`` as it was right after the host published the
        keyframe ``keyframe_seq`` (and the rest of that tick's frames), ``next_seq`` the seq it would publish
        next. Its frames from here on are byte for byte those the original host published (a recording's
        world checkpoint resumed; see :mod:`scythe_desktop.recording.branch`)."""
        host = cls(world.scenario, seed, hub, tick_hz=tick_hz, keyframe_every=keyframe_every, grid_every=grid_every,
                   world=world)
        host._seq, host._last_node_seq = next_seq, keyframe_seq
        host._cluster_by_id = world.node_cluster()  # node ids are rows right after a keyframe
        host._observers_dirty = False
        return host

    @property
    def hub(self) -> FrameHub:
        return self._hub

    @property
    def keyframe_every(self) -> int:
        return self._keyframe_every

    @property
    def grid_every(self) -> int:
        return self._grid_every

    @property
    def after_keyframe(self) -> bool:
        """Whether the last tick published a keyframe: the moment :meth:`resumed` can continue from."""
        return self._ticks_since_keyframe == 0 and not self._observers_dirty

    @property
    def keyframe_seq(self) -> int:
        """The seq of the last node frame published (the keyframe's, when :attr:`after_keyframe`)."""
        return self._last_node_seq

    def mark_observers_changed(self) -> None:
        """Publish the observer list again at the next tick (e.g. a backend lost an observer process)."""
        self._observers_dirty = True

    # ------------------------------------------------------------------------------------ lifecycle

    def _restore(self) -> World | None:
        if self._store is None:
            return None
        blob = self._store.get_meta("world")
        if blob is None:
            return None
        stored = tuple(str(v) for v in (self._store.get_meta("scenario"), self._store.get_meta("seed")))
        if stored != (self.scenario.name, str(self.seed)):
            raise StateMismatch(
                f"state directory holds scenario {stored[0]!r} seed {stored[1]}, not "
                f"{self.scenario.name!r} seed {self.seed}; use another --state directory"
            )
        saved = self._store.get_meta("scenario_fingerprint")  # None: saved before worlds recorded it
        if saved is not None and str(saved) != self.scenario.fingerprint():
            raise StateMismatch(
                f"scenario {self.scenario.name!r} ({self.scenario.source or 'built in code'}) has changed since the "
                f"world in {self._store.path.parent} was saved (its costs or rules would no longer match that world). "
                "To continue the saved world, put the scenario back as it was; to run the edited scenario, start "
                f"with another --state directory or remove {self._store.path.name} from this one"
            )
        assert isinstance(blob, bytes)
        world = World.from_bytes(blob)
        log.info("restored world %s seed %d at tick %d", self.scenario.name, self.seed, world.tick)
        return world

    def publish_initial(self) -> None:
        """Publish what a new stream starts from: keyframe and edges, observers, uncertainty grid. :meth:`start`
        calls it before the tick thread runs; a caller stepping the host itself (``scythe simulate``) calls it
        once before its first :meth:`step`."""
        with self.lock:
            self._publish_keyframe()
            self._publish_observers()
            self._publish_grid()

    def start(self) -> None:
        with self.lock:
            self.publish_initial()
            self.checkpoint()
        self._thread = threading.Thread(target=self._run, name="world-host", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            self.checkpoint()

    def _run(self) -> None:
        period = 1.0 / self.tick_hz
        deadline = time.monotonic()
        while True:
            deadline += period
            if self._stop.wait(max(0.0, deadline - time.monotonic())):
                return
            try:
                self.step()
            except Exception:  # keep serving reads and streams even if one tick fails
                log.exception("tick failed")
            deadline = max(deadline, time.monotonic() - period)  # never try to catch up a backlog

    # ---------------------------------------------------------------------------------------- ticks

    def step(self) -> StepResult:
        """Advance the world one tick and publish its frames (called by the tick thread; tests and
        ``scythe simulate`` may call it). Returns the engine's result (entropy, reward terms in ``info``); its
        ``nodes`` view is only valid until the next step."""
        with self.lock:
            res = self.world.step()
            self._remember_evader_moves(res)
            self._ticks_since_keyframe += 1
            if self._ticks_since_keyframe >= self._keyframe_every:
                self._publish_keyframe()
            else:
                payload = core_frames.encode_delta(res.delta, self._seq)
                self._publish(pb.DELTA, payload, base_seq=self._last_node_seq, node=True)
                self._publish_membership_changes()
            if self._grid_every and res.tick % self._grid_every == 0:
                self._publish_grid()
            if self._observers_dirty:
                self._publish_observers()
            if time.monotonic() - self._last_checkpoint >= self._checkpoint_s:
                self.checkpoint()
            return res

    def _remember_evader_moves(self, result: StepResult) -> None:
        if self.scenario.adversary is None:
            return
        self.last_evader_moves = evader_moves(self.world, result)
        self._evader_moves.extend((result.tick, *move) for move in self.last_evader_moves)
        while self._evader_moves and self._evader_moves[0][0] <= result.tick - EVADER_WINDOW_TICKS:
            self._evader_moves.popleft()

    def recent_evader_moves(self) -> tuple[EvaderMove, ...]:
        """The evader's moves of the last :data:`EVADER_WINDOW_TICKS` ticks stepped here, oldest first."""
        with self.lock:
            return tuple(self._evader_moves)

    @property
    def tick(self) -> int:
        return int(self.world.tick)

    @property
    def latest_seq(self) -> int:
        return self._seq - 1

    def _publish(self, kind: int, payload: bytes, *, base_seq: int = 0, node: bool = False) -> None:
        seq = self._seq
        if self._store is not None:
            self._store.reserve_seq(seq)  # durable before any client can see this seq
        self._hub.publish(seq, kind, payload, base_seq=base_seq, tick=self.tick)
        self._seq = seq + 1
        if node:
            self._last_node_seq = seq

    def _publish_keyframe(self) -> None:
        self.world.rekey()  # node ids := rows, as every receiver of this keyframe will assume
        self._publish(pb.KEYFRAME, core_frames.encode_keyframe(self.world.nodes, self._seq), node=True)
        self._publish(pb.EDGES, core_frames.encode_edges(self.world.edges(), self._seq))
        self._ticks_since_keyframe = 0
        self._cluster_by_id = self.world.node_cluster()  # ids equal rows right after the keyframe
        pairs = np.empty(len(self._cluster_by_id), dtype=MEMBERSHIP_DTYPE)
        pairs["node"] = np.arange(len(pairs))
        pairs["cluster"] = self._cluster_by_id
        self._publish(pb.MEMBERSHIP, core_frames.encode_membership(pairs, self._seq), base_seq=self._last_node_seq)

    def _publish_membership_changes(self) -> None:
        """After a delta: the (id, cluster) pairs of added or reassigned nodes, if any (O(N) numpy)."""
        ids = self.world.node_ids()
        cluster = self.world.node_cluster()
        known = self._cluster_by_id
        if ids.size and int(ids.max()) >= len(known):
            known = np.concatenate([known, np.full(int(ids.max()) + 1 - len(known), -1, dtype=np.int32)])
            self._cluster_by_id = known
        changed = np.flatnonzero(known[ids] != cluster)
        if not changed.size:
            return
        known[ids[changed]] = cluster[changed]
        pairs = np.empty(changed.size, dtype=MEMBERSHIP_DTYPE)
        pairs["node"] = ids[changed]
        pairs["cluster"] = cluster[changed]
        self._publish(pb.MEMBERSHIP, core_frames.encode_membership(pairs, self._seq), base_seq=self._last_node_seq)

    def _publish_grid(self) -> None:
        grid = np.ascontiguousarray(self.world.uncertainty_grid(*GRID_SHAPE), dtype=np.float32)
        self._publish(pb.GRID, core_frames.encode_grid(grid, self._seq))

    def _publish_observers(self) -> None:
        self._publish(pb.OBSERVERS, self.observer_list().SerializeToString())
        self._observers_dirty = False

    def checkpoint(self) -> None:
        if self._store is None:
            return
        with self.lock:
            if self._checkpoint_deferred:
                return  # the action in progress stores the world together with its outcome
            self._store.put_meta(**self.checkpoint_meta())
            self._last_checkpoint = time.monotonic()

    def checkpoint_meta(self) -> dict[str, bytes | str | int | float]:
        """What :meth:`checkpoint` stores; call with :attr:`lock` held."""
        return {"world": self.world.to_bytes(), "scenario": self.scenario.name, "seed": self.seed, "tick": self.tick,
                "scenario_fingerprint": self._fingerprint}

    @contextmanager
    def atomic_action(self) -> Iterator[None]:
        """Hold the world (no tick runs) and defer checkpoints while an action is applied and its outcome
        recorded: the caller commits :meth:`checkpoint_meta` in the same transaction as the outcome."""
        with self.lock:
            self._checkpoint_deferred = True
            try:
                yield
            finally:
                self._checkpoint_deferred = False

    # -------------------------------------------------------------------------------------- actions

    def validate(self, action: Action) -> str | None:
        with self.lock:
            return self.world.validate(action)

    def apply(self, action: Action) -> tuple[ActionResult, int]:
        with self.lock:
            result = self.world.apply(action)
            if result.ok:
                self._observers_dirty = True
                self.checkpoint()  # an acknowledged action survives a crash
            return result, self.tick

    # ---------------------------------------------------------------------------------------- reads

    def observers(self) -> np.ndarray:
        with self.lock:
            return np.array(self.world.observers, copy=True)

    def observer_row(self, observer_id: int) -> int | None:
        with self.lock:
            rows = np.flatnonzero(self.world.observers["id"] == observer_id)
        return int(rows[0]) if rows.size else None

    def has_cluster(self, cluster_id: int) -> bool:
        with self.lock:
            return bool((self.world.clusters["id"] == cluster_id).any())

    def observer_list(self) -> pb.ObserverList:
        with self.lock:
            obs = np.array(self.world.observers, copy=True)
            tick = self.tick
        types = self.scenario.observer_types
        out = pb.ObserverList(tick=tick)
        for row in obs:
            oid = int(row["id"])
            status, heartbeat, load = self.observer_status(oid)
            out.observers.add(
                observer_id=oid,
                observer_type=types[int(row["type"])].name,
                lon=float(row["lon"]),
                lat=float(row["lat"]),
                sampling_rate=float(row["sampling_rate"]),
                focus_cluster=int(row["focus_cluster"]),
                cost_per_hour=float(row["cost_per_hour"]),
                load=load or float(row["load"]),
                status=status,
                backend=self.backend_name,
                last_heartbeat_unix=heartbeat,
            )
        return out

    def cluster_graph(self, cluster_id: int) -> tuple[int, np.ndarray, np.ndarray] | None:
        with self.lock:
            if not self.has_cluster(cluster_id):
                return None
            membership = self.world.node_cluster()
            nodes = self.world.nodes
            edges = self.world.edges()
            tick = self.tick
            rows = np.flatnonzero(membership == cluster_id)
            sub_nodes = np.ascontiguousarray(nodes[rows])
            new_index = np.full(nodes.shape[0], -1, dtype=np.int64)
            new_index[rows] = np.arange(rows.size)
            keep = (new_index[edges["src"]] >= 0) & (new_index[edges["dst"]] >= 0)
            sub_edges = edges[keep].copy()
            sub_edges["src"] = new_index[sub_edges["src"]]
            sub_edges["dst"] = new_index[sub_edges["dst"]]
        return tick, sub_nodes, sub_edges

    def field_sizes(self) -> tuple[int, int, int]:
        """(clusters, observers, nodes) now: what a field's cost is estimated from."""
        with self.lock:
            return len(self.world.clusters), len(self.world.observers), int(self.world.nodes.shape[0])

    def field_snapshot(self, *, with_nodes: bool = False) -> FieldSnapshot:
        """A copy of what the fields are computed from (the volume also needs the nodes), taken under the lock;
        computing the field from it holds nothing."""
        with self.lock:
            return FieldSnapshot.of(self.world, with_nodes=with_nodes)

    def world_info(self) -> pb.WorldInfo:
        s = self.scenario
        with self.lock:
            info = pb.WorldInfo(
                scenario=s.name,
                seed=self.seed,
                tick=self.tick,
                tick_rate_hz=self.tick_hz,
                latest_seq=self.latest_seq,
                node_count=int(self.world.nodes.shape[0]),
                cluster_count=len(self.world.clusters),
                spend_per_hour=float(self.world.observers["cost_per_hour"].sum()),
            )
        for r in s.regions:
            info.regions.add(
                name=r.name,
                lon_min=r.lon_min,
                lon_max=r.lon_max,
                lat_min=r.lat_min,
                lat_max=r.lat_max,
                latency_zone=r.latency_zone,
            )
        for z in s.latency_zones:
            info.latency_zones.add(name=z.name, max_latency_ms=z.max_latency_ms)
        for t in s.observer_types:
            info.observer_types.add(
                name=t.name,
                coverage_radius_km=t.coverage_radius_km,
                cost_per_hour=t.cost_per_hour,
                latency_ms=t.latency_ms,
            )
        return info


def evader_moves(world: World, result: StepResult) -> tuple[tuple[str, int, float, float], ...]:
    """The evader's moves of the tick ``world`` just stepped (``result``), from its events: (kind, cluster id,
    lon, lat) each, with where the cluster is now (NaN for one that is gone)."""
    moves = [(name, int(i)) for kind, name in zip(MOVE_EVENTS[1:], MOVE_NAMES[1:], strict=True)
             for i in result.events.get(kind, ())]
    if not moves:
        return ()
    clusters = world.clusters
    where = {int(i): (float(lo), float(la)) for i, lo, la in zip(clusters["id"], clusters["lon"], clusters["lat"],
                                                              strict=True)}
    return tuple((name, i, *where.get(i, (float("nan"), float("nan")))) for name, i in moves)
