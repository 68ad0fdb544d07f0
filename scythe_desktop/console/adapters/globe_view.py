"""The GUI-thread adapter between streamed frames and the render layer's visuals on the globe.

:class:`GlobeView` owns a :class:`~scythe_desktop.render.scene.GlobeScene` and the visuals under it (the
globe, the instanced node visual, edges, the draped uncertainty grid) and applies a
:class:`~scythe_desktop.console.model.mailbox.FrameBatch` to them: a keyframe loads the
:class:`~scythe_desktop.core.swarm.NodeSwarm` and uploads the buffer once; each delta goes through
``NodeSwarm.apply_delta`` and only the changed rows go up (``NodesVisual.update_rows``). A delta that does
not apply (an unknown id, a value out of range) leaves the swarm as it was and is reported; node frames
then wait for the next keyframe. MEMBERSHIP frames place node ids in clusters; each cluster's LOD tier
(:mod:`scythe_desktop.render.lod`, thresholds settable) decides what it draws: ``FIELD_ONLY`` clusters draw no
node sprites but one centroid marker, ``INSTANCED`` ones only their strongest edges, ``VOLUME`` ones none
(see :mod:`scythe_desktop.console.model.cluster_lod`). Leaving rows out means drawing a gathered copy of the others,
like the draw budget does; a delta then re-uploads only the changed rows of that copy. It also maps a click
to the nearest cluster or node on screen. Called from the GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scythe_desktop.console.model.cluster_lod import ClusterMembership, LodLayout, edge_selection, lod_layout
from scythe_desktop.console.model.mailbox import FrameBatch
from scythe_desktop.console.model.snapshots import observer_rows
from scythe_desktop.core.frames import FrameError, FrameKind
from scythe_desktop.core.layout import COL_X, COL_Z, DeltaOp, lonlat_to_unit, unit_to_lonlat
from scythe_desktop.core.swarm import NodeSwarm
from scythe_desktop.engine.actions import Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.fields import EXTENT as FIELD_EXTENT  # the cube the volume field covers
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.render.branch_ghosts import BranchGhosts
from scythe_desktop.render.centroids import CentroidMarkers
from scythe_desktop.render.edges import Edges
from scythe_desktop.render.evader_marks import EvaderMarks
from scythe_desktop.render.fields import FieldBox, GridLayers, VolumeField
from scythe_desktop.render.globe import Globe
from scythe_desktop.render.lod import LodThresholds, strongest_edges
from scythe_desktop.render.nodes import Nodes
from scythe_desktop.render.overlays import (
    GradientArrows,
    GradientField,
    ObserverOverlay,
    ObserverView,
    ProposalOverlay,
    ProposalView,
)
from scythe_desktop.render.scene import GlobeScene

#: Edges drawn at most (the strongest), whatever the swarm's size: software GL pays per vertex.
MAX_EDGES = 4000
#: Pixel radius within which a click picks a cluster centre, then a node.
PICK_CLUSTER_PX = 24.0
PICK_NODE_PX = 8.0
#: Footprint radius used until the world info names the observer types' radii.
DEFAULT_RADIUS_KM = 300.0


@dataclass
class ApplyReport:
    """What one batch did: node rows uploaded, the upload kind, and problems to show the operator."""

    keyframe: bool = False
    deltas: int = 0
    rows: int = 0
    upload: str = "none"
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pick:
    """A click's result: a cluster id (or ``None``) and/or a node row (or ``None``) with its position."""

    cluster_id: int | None
    node_row: int | None
    lon: float
    lat: float


class GlobeView:
    def __init__(self, scene: GlobeScene) -> None:
        self.scene = scene
        root = scene.root
        self.globe = Globe(root)
        self.swarm = NodeSwarm()
        self.nodes = Nodes(parent=root)
        self.edges = Edges(root)
        self.grids = GridLayers(root)
        self.volume = VolumeField(root)
        self.observer_overlay = ObserverOverlay(root)
        self.proposal_overlay = ProposalOverlay(root)
        self.drift_arrows = GradientArrows(root)
        self.show_drift = False
        self.coverage_km: dict[str, float] = {}  # observer type -> coverage radius, from world info
        self._observers: np.ndarray = observer_rows([])
        self._edges_data: np.ndarray | None = None
        self._keyframe_seq = 0
        self._budget: int | None = None
        self._stride = 1
        self._drawn: np.ndarray | None = None  # the drawn rows' copy when a budget or a LOD tier leaves rows out
        self._drawn_at = np.zeros(0, dtype=np.int64)  # row -> its index in _drawn, -1 when not drawn
        self._layout_rows = 0  # swarm rows when the selection was made
        self.membership = ClusterMembership()
        self.lod_thresholds = LodThresholds()
        self.centroids = CentroidMarkers(root)
        self.evader_marks = EvaderMarks(root)  # what an adversarial world's evader did (live and replayed)
        self.branch_ghosts = BranchGhosts(root)  # the other future's observers (a what-if pair)
        self.lod: LodLayout | None = None  # the current draw selection (tiers per cluster)
        self._cluster_lonlat = np.zeros((0, 2))
        self._cluster_ids = np.zeros(0, dtype=np.int64)
        self.grid_overlay: str | None = "uncertainty"

    # -------------------------------------------------------------------------------------- frames

    def apply(self, batch: FrameBatch) -> ApplyReport:
        report = ApplyReport()
        edges = batch.latest.get(FrameKind.EDGES)
        if batch.keyframe is not None:
            self._keyframe_seq, nodes = batch.keyframe
            self.swarm.load_keyframe(nodes)
            self.membership.reset()
            report.keyframe, report.rows, report.upload = True, len(self.swarm), "full"
            self._edges_data = None  # edges index keyframe rows: the old ones no longer apply
        # Membership is keyed by stable id, so it applies before this batch's deltas as well as after them;
        # ids it may name end where those deltas' ADDs end.
        if batch.membership:
            id_limit = self.swarm.next_id + sum(int((d.deltas["op"] == DeltaOp.ADD).sum()) for d in batch.deltas)
            for pairs in batch.membership:
                if unknown := self.membership.apply(pairs, id_limit):
                    report.problems.append(
                        f"membership named {unknown} unknown node ids (at or past {id_limit}); ignored"
                    )
        if batch.keyframe is not None:
            self._upload_all()
        elif batch.membership and not batch.deltas and self._relayout():
            self._upload_drawn()  # clusters changed tier: other rows are drawn now
            report.upload = "full"
        if edges is not None and edges[0] > self._keyframe_seq:
            # Edges are published right after their keyframe and index its rows; draw them against the
            # swarm as it is before this batch's deltas move or remove rows.
            self._edges_data = strongest_edges(edges[1], MAX_EDGES)
            self._draw_edges(report)
        if batch.deltas:
            changed: list[np.ndarray] = []
            for delta in batch.deltas:
                try:
                    changed.append(self.swarm.apply_delta(delta.deltas))
                except FrameError as exc:
                    report.problems.append(f"delta seq {delta.seq} not applied: {exc}")
                    break
                report.deltas += 1
            # Rows past the end (removed by a later delta) are gone, not changed.
            rows = np.unique(np.concatenate(changed)) if changed else np.zeros(0, np.int64)
            rows = rows[rows < len(self.swarm)]
            report.upload = self._upload_rows(rows, relayout=bool(batch.membership))
            report.rows += int(rows.size)
        grid = batch.latest.get(FrameKind.GRID)
        if grid is not None:
            self.set_engine_grid("uncertainty", grid[1])
        return report

    def set_engine_grid(self, kind: str, grid: np.ndarray) -> None:
        """Store a grid (row 0 north, column 0 at lon -180°: engine, wire and render agree); drape it if
        it is the overlay the operator chose."""
        self.grids.set_grid(kind, np.ascontiguousarray(grid))
        if self.grid_overlay == kind and self.grids.active != kind:
            self.grids.show(kind)

    def set_volume(self, field: np.ndarray | None) -> None:
        """Show the volumetric field ([z, y, x] over the engine's cube), or hide it with ``None``."""
        if field is None:
            self.volume.visible = False
            return
        self.volume.set_field(np.ascontiguousarray(field, dtype=np.float32), FieldBox(half_extent=FIELD_EXTENT))

    # -------------------------------------------------------------------------------- draw budget

    @property
    def draw_stride(self) -> int:
        """Every ``draw_stride``-th node row is drawn (1: all of them)."""
        return self._stride

    def set_draw_budget(self, max_nodes: int | None) -> None:
        """Draw at most about ``max_nodes`` nodes (every k-th row), or all with ``None``.

        Software GL pays per vertex (a 100k-node frame blocks the GUI thread for hundreds of ms on llvmpipe),
        so on such renderers the console draws an even subsample; the swarm itself stays whole (picking,
        details and the tables use every node).
        """
        if max_nodes is not None and max_nodes < 1:
            raise ValueError(f"draw budget must be >= 1 node or None, got {max_nodes}")
        self._budget = max_nodes
        if len(self.swarm):
            self._upload_all()

    def set_lod_thresholds(self, thresholds: LodThresholds) -> None:
        """Node counts at which clusters change tier; applied at once."""
        self.lod_thresholds = thresholds
        self._upload_all()

    def _relayout(self) -> bool:
        """Recompute tiers, centroid markers and the rows to draw; True when those rows changed."""
        n = len(self.swarm)
        self._stride = 1 if self._budget is None or n <= self._budget else -(-n // self._budget)
        before = None if self.lod is None else self.lod.rows
        tiers_before = None if self.lod is None else self.lod.tiers
        self.lod = lod_layout(self.swarm.nodes, self.membership.of_ids(self.swarm.ids), self.lod_thresholds,
                              self._stride)
        self.centroids.set_centroids(self.lod.marker_lonlat)
        if self._edges_data is not None and (tiers_before is None or not np.array_equal(tiers_before, self.lod.tiers)):
            self._draw_edges(ApplyReport())  # a cluster changed tier: its edges change with it
        after = self.lod.rows
        same = n == self._layout_rows and (
            (before is None and after is None)
            or (before is not None and after is not None and np.array_equal(before, after))
        )
        return not same

    def _upload_all(self) -> None:
        self._relayout()
        self._upload_drawn()

    def _upload_drawn(self) -> None:
        assert self.lod is not None
        n = len(self.swarm)
        self._layout_rows = n
        if self.lod.rows is None:
            self._drawn = None
            self.nodes.set_nodes(self.swarm.nodes)
        else:
            self._drawn = np.ascontiguousarray(self.swarm.nodes[self.lod.rows])
            self._drawn_at = np.full(n, -1, dtype=np.int64)
            self._drawn_at[self.lod.rows] = np.arange(len(self.lod.rows))
            self.nodes.set_nodes(self._drawn)

    def _upload_rows(self, rows: np.ndarray, relayout: bool = False) -> str:
        if len(self.swarm) != self._layout_rows:
            self._upload_all()  # rows were added or removed: the selection (and maybe the stride) changes
            return "full"
        if relayout and self._relayout():  # rows moved between clusters, or a cluster crossed a threshold
            self._upload_drawn()
            return "full"
        if self._drawn is None:
            return self.nodes.update_rows(self.swarm.nodes, rows)
        at = self._drawn_at[rows]
        picked = at >= 0
        self._drawn[at[picked]] = self.swarm.nodes[rows[picked]]
        return self.nodes.update_rows(self._drawn, at[picked])

    def _draw_edges(self, report: ApplyReport) -> None:
        assert self._edges_data is not None
        edges = self._edges_data
        n = len(self.swarm)
        edges = edges[(edges["src"] < n) & (edges["dst"] < n)]  # rows removed since the keyframe: drop their edges
        if self.lod is not None:
            edges = edge_selection(edges, self.lod, self.lod_thresholds)
        try:
            self.edges.set_edges(self.swarm.nodes, edges)
        except ValueError as exc:
            self.edges.visible = False
            report.problems.append(f"edges not shown: {exc}")

    def show_grid(self, kind: str | None) -> None:
        """Drape a grid (``'uncertainty'``, ``'coverage'``, ``'occlusion'``) or none; remembered until it arrives."""
        self.grid_overlay = kind
        if kind is None or kind in self.grids.kinds:
            self.grids.show(kind)

    # ------------------------------------------------------------------------------------ overlays

    def set_observers(self, rows: np.ndarray, selected: int | None = None) -> None:
        """Observer markers with footprints and load (rows of ``OBSERVER_DTYPE``)."""
        self._observers = rows
        views = [
            ObserverView(str(int(r["observer_id"])), float(r["lon"]), float(r["lat"]),
                         self.coverage_km.get(str(r["observer_type"]), DEFAULT_RADIUS_KM),
                         float(np.clip(r["load"], 0.0, 1.0)), selected == int(r["observer_id"]))
            for r in rows
        ]
        self.observer_overlay.set_observers(views)

    def set_drift(self, drift: np.ndarray) -> None:
        """Gradient-drift arrows, rows of (lon, lat, d_lon, d_lat); drawn only while :attr:`show_drift`."""
        if not self.show_drift or not len(drift):
            self.drift_arrows.visible = False
            return
        self.drift_arrows.set_gradient(GradientField(drift[:, 0], drift[:, 1], drift[:, 2], drift[:, 3]))

    def set_proposals(self, proposals: tuple[Proposal, ...] | list[Proposal]) -> None:
        """The policy's proposals as ghosts with confidence cones toward their target cluster."""
        views = []
        for i, p in enumerate(proposals):
            view = self._proposal_view(i, p)
            if view is not None:
                views.append(view)
        self.proposal_overlay.set_proposals(views)

    def _proposal_view(self, i: int, p: Proposal) -> ProposalView | None:
        action = p.action
        radius = DEFAULT_RADIUS_KM
        if isinstance(action, Deploy):
            lon, lat = action.lon, action.lat
            radius = self.coverage_km.get(action.observer_type or "", radius)
        else:
            hits = self._observers[self._observers["observer_id"] == action.observer_id]
            if not len(hits):
                return None  # the observer is not (yet) in the list this view knows
            lon, lat = (action.lon, action.lat) if isinstance(action, Relocate) else (float(hits[0]["lon"]),
                                                                                      float(hits[0]["lat"]))
            radius = self.coverage_km.get(str(hits[0]["observer_type"]), radius)
        target = None
        if isinstance(action, Focus):
            target = self._centre_of(action.cluster_id)
        if target is None:
            cid = self.nearest_cluster(lon, lat)
            target = self._centre_of(cid) if cid is not None else None
        t_lon, t_lat = target if target is not None else (lon, lat)
        gain = p.predicted_information_gain if np.isfinite(p.predicted_information_gain) else 0.0
        label = f"{p.kind}, {p.cost_per_hour:+.1f}/h"  # the overlay prefixes the predicted gain
        if isinstance(action, IncreaseSampling | Decommission):
            label = f"{p.kind} observer {action.observer_id}"
        return ProposalView(f"p{i}", lon, lat, radius, t_lon, t_lat, float(np.clip(p.confidence, 0.0, 1.0)),
                            float(gain), label)

    def _centre_of(self, cluster_id: int) -> tuple[float, float] | None:
        hits = np.flatnonzero(self._cluster_ids == cluster_id)
        return (float(self._cluster_lonlat[hits[0], 0]), float(self._cluster_lonlat[hits[0], 1])) if hits.size else None

    # ------------------------------------------------------------------------------------ clusters

    def set_cluster_centres(self, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> None:
        """Cluster centres for picking (from the cluster table)."""
        self._cluster_ids = np.asarray(ids, dtype=np.int64)
        self._cluster_lonlat = np.stack([np.asarray(lon, float), np.asarray(lat, float)], axis=1)

    def pick(self, x: float, y: float) -> Pick | None:
        """The cluster centre (else node) nearest the canvas pixel (x, y) that the globe does not hide."""
        if len(self._cluster_ids):
            xyz = lonlat_to_unit(self._cluster_lonlat[:, 0], self._cluster_lonlat[:, 1])
            i = self.scene.pick_point(self.nodes, xyz, x, y, PICK_CLUSTER_PX)
            if i is not None:
                lon, lat = self._cluster_lonlat[i]
                return Pick(int(self._cluster_ids[i]), None, float(lon), float(lat))
        nodes = self.swarm.nodes
        row = self.scene.pick_point(self.nodes, nodes[:, COL_X : COL_Z + 1], x, y, PICK_NODE_PX)
        if row is None:
            return None
        lon, lat, _ = unit_to_lonlat(nodes[row, COL_X : COL_Z + 1].astype(np.float64))
        return Pick(self.nearest_cluster(float(lon), float(lat)), row, float(lon), float(lat))

    def describe_node(self, row: int) -> str:
        """One line about the node in swarm row ``row``: id, position, intensity and threat."""
        node = self.swarm.nodes[row]
        lon, lat, _ = unit_to_lonlat(node[COL_X : COL_Z + 1].astype(np.float64))
        return (f"node row {row} (id {int(self.swarm.ids[row])}) at lon {float(lon):.2f}, lat {float(lat):.2f}: "
                f"intensity {node[3]:.2f}, threat {node[4]:.2f}")

    def on_click(self, handler: Callable[[float, float], None]) -> None:
        """Call ``handler(x, y)`` for a left click on the canvas (a press and release that hardly moved; a drag
        orbits the camera instead)."""
        pressed: list[tuple[float, float]] = []

        def press(event: Any) -> None:
            pressed[:] = [(float(event.pos[0]), float(event.pos[1]))]

        def release(event: Any) -> None:
            if not pressed or event.button != 1:
                return
            (x0, y0), x, y = pressed.pop(), float(event.pos[0]), float(event.pos[1])
            if abs(x - x0) + abs(y - y0) <= 3:
                handler(x, y)

        self.scene.canvas.events.mouse_press.connect(press)
        self.scene.canvas.events.mouse_release.connect(release)

    def nearest_cluster(self, lon: float, lat: float) -> int | None:
        if not len(self._cluster_ids):
            return None
        p = lonlat_to_unit(lon, lat)
        xyz = lonlat_to_unit(self._cluster_lonlat[:, 0], self._cluster_lonlat[:, 1])
        return int(self._cluster_ids[int(np.argmax(xyz @ p))])



__all__ = ["MAX_EDGES", "ApplyReport", "GlobeView", "Pick"]
