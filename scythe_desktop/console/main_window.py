"""The console's main window: the globe canvas in the middle, docks around it, workers and controllers behind it.

The window wires a :class:`~scythe_desktop.client.source.Source` to the widgets: a
:class:`~scythe_desktop.console.workers.StreamWorker` feeds frames through a mailbox into the
:class:`~scythe_desktop.console.adapters.globe_view.GlobeView`; a
:class:`~scythe_desktop.console.workers.PeriodicWorker` takes world snapshots (cluster table, proposals,
metrics) from any orchestrator through a :class:`~scythe_desktop.console.insight.ClientInsight`; a
:class:`~scythe_desktop.console.workers.CallWorker` sends actions and world-info requests. Decisions (confirm,
reject, Automate), the Record toggle and a recording's replay each have a controller
(:mod:`scythe_desktop.console.controllers`); menus and keys are in :mod:`~scythe_desktop.console.menus`,
preferences in :class:`~scythe_desktop.console.preferences.Preferences`. Every result reaches the GUI thread
by a queued signal; only this thread touches widgets and GL. Closing the window stops every worker and the
source. File → Open recording replaces the window with one on the recording; a file that cannot be replayed
is reported and this window goes on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from scythe_desktop.console.adapters.globe_view import GlobeView
from scythe_desktop.console.controllers.decisions import READ_ONLY_REASON, DecisionController
from scythe_desktop.console.controllers.insight import INSIGHT_INTERVAL_S, LOADING_POLICY, InsightController
from scythe_desktop.console.controllers.live_evader import LiveEvader
from scythe_desktop.console.controllers.recording import RecordingController, default_recording_path
from scythe_desktop.console.controllers.replay import ReplayController
from scythe_desktop.console.controllers.whatif import WhatIfController
from scythe_desktop.console.fields_feed import FieldFeed, FieldSnapshot
from scythe_desktop.console.menus import build_menus
from scythe_desktop.console.model.heap import limit_heap_growth
from scythe_desktop.console.model.mailbox import OBSERVERS_KIND, FrameMailbox
from scythe_desktop.console.model.snapshots import WorldSnapshot, observer_rows
from scythe_desktop.console.preferences import Preferences
from scythe_desktop.console.sources import Source, SourceError, SourceSpec, open_source
from scythe_desktop.console.widgets.clusters_dock import ClustersDock
from scythe_desktop.console.widgets.decisions_dock import DecisionsDock
from scythe_desktop.console.widgets.info_docks import ConnectionDock, MetricsDock
from scythe_desktop.console.widgets.observers_dock import ObserversDock
from scythe_desktop.console.widgets.status_line import StatusLine
from scythe_desktop.console.widgets.timeline import TimelineDock
from scythe_desktop.console.workers import CallOutcome, CallWorker, PeriodicWorker, StreamWorker
from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.render.backend import gl_renderer
from scythe_desktop.render.lod import LodThresholds
from scythe_desktop.render.scene import GlobeScene

#: Seconds between fetches of the fields on show (coverage/occlusion grid, volume).
FIELDS_INTERVAL_S = 3.0
#: Nodes drawn at most on a software GL renderer (llvmpipe pays per vertex: ~10k nodes fit a 50 ms frame on
#: two cores, 100k take hundreds of ms and would freeze the GUI thread that draws them).
SOFTWARE_GL_NODE_BUDGET = 10_000
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")
NOT_RECORDED = ("Shown as recorded: nodes, edges, uncertainty grid, observers, the policy's proposals, decisions "
                "(history and timeline markers) and metrics. Not in recordings: the cluster table (clusters dock), "
                "coverage/occlusion grids and the volume field.")


class MainWindow(QMainWindow):
    #: Emitted after each applied batch of frames with the newest seq (tests and screenshot mode wait on it).
    framesApplied = Signal(int)
    #: Emitted with the generation of each world snapshot shown (clusters, proposals, metrics).
    snapshotShown = Signal(int)
    #: Emitted with (decision, outcome) whenever the audit trail grows.
    decisionLogged = Signal(str, str)
    #: Emitted with (decision, proposal) when an action is handed to the orchestrator client.
    actionSent = Signal(str, object)
    #: Emitted with the file's path once a recording made by the Record toggle is closed (error text or "").
    recordingSaved = Signal(str, str)
    #: Emitted with the new window when File → Open recording replaced this one.
    replacedBy = Signal(object)

    def __init__(self, connection: Source, settings: QSettings, *, canvas_size: tuple[int, int] = (1280, 800),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        limit_heap_growth()  # streaming multi-MB frames for hours must not ratchet the C heap up (model/heap.py)
        self.setWindowTitle("SCYTHE Desktop")
        self.setObjectName("scytheMainWindow")
        self.connection, self.settings = connection, settings
        self.scene = GlobeScene(size=canvas_size, show=False)
        self.globe = GlobeView(self.scene)
        self.setCentralWidget(self.scene.canvas.native)
        self.clusters_dock, self.observers_dock = ClustersDock(self), ObserversDock(self)
        self.decisions_dock, self.metrics_dock = DecisionsDock(self), MetricsDock(self)
        self.connection_dock = ConnectionDock(self)
        _arrange_docks(self)
        for key, value in connection.description.items():
            self.connection_dock.set_field(key, value)
        self.status = StatusLine(self.statusBar())
        s = self.status
        self._status_record, self._status_nodes, self._status_fps, self._status_seq, self._status_state = (
            s.record, s.nodes, s.fps, s.seq, s.state)

        self.mailbox = FrameMailbox()
        self.stream = StreamWorker(lambda on_state: connection.client(on_state), self.mailbox)
        self.stream.framesReady.connect(self._apply_frames)
        self.stream.stateChanged.connect(self._on_state)
        self.stream.problem.connect(self.notify)
        self.calls = CallWorker()
        self.calls.done.connect(self._on_call_done)
        orchestrator = connection.orchestrator() if connection.live else None
        self._info_client = orchestrator or connection.client()
        self.insight_controller = InsightController(  # every orchestrator, through its client; not a recording
            connection, self.scene, self.framesApplied, self.statusBar(), self.notify, self._show_snapshot, self
        ) if connection.live else None
        self.insight = self.insight_controller.worker if self.insight_controller is not None else None
        self.live_evader = LiveEvader(self.globe, self.notify)
        self.fields_feed = FieldFeed(connection.orchestrator)
        self.fields: PeriodicWorker[FieldSnapshot] = PeriodicWorker("fields", self.fields_feed.fetch, FIELDS_INTERVAL_S)
        self.fields.ready.connect(self._on_fields)
        self.fields.problem.connect(self.notify)

        self.recorder = RecordingController(connection, self._status_record, self.notify,
                                            lambda decision: self.decisions.who(decision), self)
        self.recorder.saved.connect(self.recordingSaved.emit)
        self.decisions = DecisionController(orchestrator, self.calls, self.decisions_dock, self.globe, self.recorder,
                                            self.notify, self.decisionLogged.emit, self.actionSent.emit,
                                            lambda: self.insight.poke() if self.insight is not None else None)
        self.replay: ReplayController | None = None
        self.timeline: TimelineDock | None = None
        if connection.replay is not None:
            self.setWindowTitle(f"SCYTHE Desktop — replay of {connection.replay.path.name}")
            self.replay = ReplayController(connection.replay, self.mailbox, self.decisions_dock, self.metrics_dock,
                                           self.globe, self.notify, self.decisionLogged.emit, self)
            self.timeline = TimelineDock(connection.replay, connection.replay.bookmarks, self)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline)
            self.timeline.seekRequested.connect(self.replay.seek)
        self.whatif = WhatIfController(self, connection.replay) if connection.replay is not None else None

        self.last_seq = self.frames_applied = self.frames_dropped = 0  # dropped: stale frames (latest wins)
        self.snapshot: WorldSnapshot | None = None
        self._observers = observer_rows([])
        self._started = self._closed = self._world_info_received = False
        self.renderer = "unknown (not started)"
        self.successor: MainWindow | None = None
        self.scene.canvas.events.draw.connect(self.status.count_draw)
        self.globe.on_click(self.pick_at)
        self.clusters_dock.flyToRequested.connect(self.fly_to)
        self.clusters_dock.clusterSelected.connect(self._on_cluster_selected)
        self.observers_dock.actionRequested.connect(self.request_action)
        self.observers_dock.view.selectionModel().currentRowChanged.connect(
            lambda *_: self.globe.set_observers(self._observers, self.observers_dock.selected_observer_id()))

        menus = self.menus = build_menus(self)
        self.recorder.bind_action(menus.record)
        self.record_action, self.overlay_actions, self.volume_action = menus.record, menus.overlays, menus.volume
        self.drift_action, self.all_nodes_action = menus.drift, menus.all_nodes
        self.confirm_action, self.reject_action, self.automate_action = menus.confirm, menus.reject, menus.automate
        self._restore_settings()
        if connection.replay is not None:
            self._make_read_only()

    # --------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the workers (separate from ``__init__`` so tests can connect to signals first)."""
        if self._started:
            return
        self._started = True
        for worker in (self.stream, self.calls, self.insight, self.fields, self.status.timer, self.timeline):
            if worker is not None:
                worker.start()
        self.calls.submit(("world_info", None), self._info_client.world_info)
        self.renderer = _renderer_of(self.scene)
        self._status_nodes.setToolTip(f"GL renderer: {self.renderer}")
        self.apply_draw_budget()

    @property
    def software_gl(self) -> bool:
        return any(name in self.renderer.lower() for name in SOFTWARE_RENDERERS)

    def apply_draw_budget(self, *_: object) -> None:
        """On software GL draw an even subsample of nodes unless the operator asked for every node."""
        budget = SOFTWARE_GL_NODE_BUDGET if self.software_gl and not self.all_nodes_action.isChecked() else None
        self.globe.set_draw_budget(budget)
        self._show_node_count()

    def _show_node_count(self) -> None:
        self.status.show_nodes(len(self.globe.swarm), self.globe.draw_stride)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker, close the source and save the settings; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._save_settings()
        self.status.timer.stop()
        for stoppable in (self.timeline, self.whatif):
            if stoppable is not None:
                stoppable.stop()
        self.recorder.shutdown()
        self.stream.stop()
        if self.insight_controller is not None:
            self.insight_controller.stop()
        self.fields_feed.cancel()
        self.fields.stop()
        self._info_client.cancel()  # ends any retry loop of an action in flight
        self.calls.stop()
        self.connection.close()

    # ------------------------------------------------------------------------------- view intents

    def set_overlay(self, kind: str) -> None:
        """Drape ``kind`` ('none', 'uncertainty', 'coverage', 'occlusion') on the globe."""
        self.overlay_actions[kind].setChecked(True)
        shown = None if kind == "none" else kind
        self.globe.show_grid(shown)
        self.fields_feed.grid_kind = shown
        self.fields.poke()

    @property
    def overlay(self) -> str:
        return next(k for k, a in self.overlay_actions.items() if a.isChecked())

    def set_volume_visible(self, on: bool) -> None:
        self.volume_action.setChecked(on)
        self.fields_feed.volume = on
        if on:
            self.fields.poke()
        else:
            self.globe.set_volume(None)

    def show_drift(self, on: bool) -> None:
        self.globe.show_drift = on
        self.globe.set_drift(self.snapshot.drift if self.snapshot is not None else np.zeros((0, 4)))

    def show_borders(self, on: bool) -> None:
        self.globe.globe.show_borders = on

    def set_lod_thresholds(self, thresholds: LodThresholds) -> None:
        """Node counts at which clusters change LOD tier, for the globe and the clusters dock's tier column."""
        self.globe.set_lod_thresholds(thresholds)
        if self.insight_controller is not None:
            self.insight_controller.set_thresholds(thresholds)

    def fly_to(self, lon: float, lat: float) -> None:
        self.scene.fly_to(lon, lat, extent=1.2)

    def pick_at(self, x: float, y: float) -> None:
        """Pick the cluster (or node) under canvas pixel (x, y) and show it in the clusters dock."""
        pick = self.globe.pick(x, y)
        if pick is not None:
            node = None if pick.node_row is None else self.globe.describe_node(pick.node_row)
            self.clusters_dock.show_pick(pick.cluster_id, node)

    def notify(self, message: str) -> None:
        """Show a problem or outcome in the status bar and the connection dock; the app keeps running."""
        self.statusBar().showMessage(message, 10_000)
        self.connection_dock.set_field("last problem", message)

    # ------------------------------------------------------------------------------------ settings

    def _restore_settings(self) -> None:
        for key, restore in (("window/geometry", self.restoreGeometry), ("window/state", self.restoreState)):
            if (value := self.settings.value(key)) is not None:
                restore(value)
        prefs, problems = Preferences.load(self.settings)
        for problem in problems:
            self.notify(problem)
        self._stored_regions = prefs.limits.allowed_regions
        self.decisions_dock.set_limits(prefs.limits)
        self.set_overlay(prefs.overlay)
        self.set_volume_visible(prefs.volume)
        self.menus.borders.setChecked(prefs.borders)
        self.all_nodes_action.setChecked(prefs.draw_every_node)
        self.drift_action.setChecked(prefs.drift_arrows)
        self.menus.evader.setChecked(prefs.evader_moves)
        self.set_lod_thresholds(prefs.lod)

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        Preferences(self.decisions_dock.limits(), self.overlay, self.volume_action.isChecked(),
                    self.menus.borders.isChecked(), self.all_nodes_action.isChecked(), self.drift_action.isChecked(),
                    self.globe.lod_thresholds, self.menus.evader.isChecked()).save(self.settings)
        self.settings.sync()

    # ------------------------------------------------------------------------------ frames, fields

    def _apply_frames(self) -> None:
        batch = self.mailbox.take()
        if batch is None:
            return
        report = self.globe.apply(batch)
        for problem in report.problems:
            self.notify(problem)
        if report.problems:
            self.mailbox.reset_chain()
        observers = batch.latest.get(OBSERVERS_KIND)
        if observers is not None:
            self._observers = observer_rows(observers[1])
            self.decisions.on_observers(self._observers)
            self.observers_dock.set_observers(self._observers)
            self.globe.set_observers(self._observers, self.observers_dock.selected_observer_id())
        if report.keyframe or report.upload == "full":
            self._show_node_count()
        self.last_seq = batch.last_seq
        self.frames_applied += 1
        self.frames_dropped += batch.dropped
        self.status.show_batch(batch.last_seq, batch.received_at)
        self.scene.canvas.update()
        self.framesApplied.emit(batch.last_seq)

    def _on_fields(self) -> None:
        snap = self.fields.slot.take()
        if snap is not None and snap.grid is not None and snap.grid_kind is not None:
            self.globe.set_engine_grid(snap.grid_kind, snap.grid)
        if snap is not None and snap.volume is not None and self.volume_action.isChecked():
            self.globe.set_volume(snap.volume)

    def _on_state(self, state: str, detail: str) -> None:
        self._status_state.setText(state)
        if state == "streaming" and not self._world_info_received:
            self.calls.submit(("world_info", None), self._info_client.world_info)  # it failed while down
        self.connection_dock.set_field("state", f"{state} {detail}".strip())
        if state == "reconnecting" and detail:
            self.notify(f"connection lost ({detail}); reconnecting…")

    def _on_call_done(self, outcome: CallOutcome) -> None:
        what, payload = outcome.tag
        if what != "world_info":
            self.decisions.on_action_done(outcome, payload)
        elif outcome.error:
            self.notify(f"world info unavailable: {outcome.error}")
        else:
            info = outcome.result
            self._world_info_received = True
            self.decisions.on_world_info(info, self._stored_regions)
            self.globe.coverage_km = {t.name: float(t.coverage_radius_km) for t in info.observer_types}
            self.connection_dock.set_field("source", f"{self.connection.description['source']} "
                                                     f"(server {info.server_version}, {info.backend} backend)")

    def _show_snapshot(self, snap: WorldSnapshot) -> None:
        self.snapshot = snap
        self.clusters_dock.set_clusters(snap.clusters)
        self.globe.set_cluster_centres(snap.clusters["id"], snap.clusters["lon"], snap.clusters["lat"])
        self.decisions.show_proposals(snap.proposals)
        self.globe.set_drift(snap.drift)
        self.metrics_dock.append(snap.metrics)
        self.live_evader.show(snap)
        self.recorder.record_snapshot(snap)
        if snap.problem:
            self.notify(snap.problem)
        self.snapshotShown.emit(snap.generation)
        if self.decisions_dock.automate_on:
            self.decisions.automate_step()

    def _on_cluster_selected(self, cluster_id: int) -> None:
        row = self.clusters_dock.selected_cluster()
        if row is not None:
            self.observers_dock.set_target(cluster_id, float(row["lon"]), float(row["lat"]))

    # ----------------------------------------------------------------------------------- decisions

    def confirm(self, proposal: Proposal) -> None:
        self.decisions.confirm(proposal)

    def request_action(self, action: Action) -> None:
        self.decisions.request_action(action)

    # ------------------------------------------------------------------------------ record, replay

    def start_recording(self, path: str | Path, *, overwrite: bool = False) -> bool:
        return self.recorder.start(path, overwrite=overwrite)

    def stop_recording(self) -> None:
        self.recorder.stop()

    def _make_read_only(self) -> None:
        """A recording plays: nothing can be decided, and what recordings lack is not offered."""
        self.decisions_dock.set_read_only(READ_ONLY_REASON, NOT_RECORDED)
        self.menus.disable((self.confirm_action, self.reject_action, self.automate_action), READ_ONLY_REASON)
        self.observers_dock.set_read_only(READ_ONLY_REASON)
        self.clusters_dock.set_recorded()
        self.metrics_dock.set_recorded()
        self.menus.disable((self.overlay_actions["coverage"], self.overlay_actions["occlusion"], self.volume_action),
                           "not in recordings (fetched from a live orchestrator)")
        if self.overlay in ("coverage", "occlusion"):
            self.set_overlay("uncertainty")
        self.set_volume_visible(False)

    def open_recording_dialog(self) -> None:
        folder = default_recording_path().parent
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", str(folder if folder.is_dir() else Path.cwd()),
                                              "MCAP recordings (*.mcap);;All files (*)")
        if path and (problem := self.open_recording(path)) is not None:
            QMessageBox.warning(self, "Cannot open recording", problem)

    def open_recording(self, path: str | Path) -> str | None:
        """Replace this window with one replaying ``path``; on failure say why (returned too) and go on."""
        try:
            connection = open_source(SourceSpec("replay", path=Path(path)))
        except SourceError as exc:
            self.notify(str(exc))
            return str(exc)
        window = MainWindow(connection, self.settings, canvas_size=tuple(self.scene.canvas.size))
        self.successor = window
        window.resize(self.size())
        window.show()
        window.start()
        self.replacedBy.emit(window)
        self.close()
        return None


def _arrange_docks(w: MainWindow) -> None:
    area = Qt.DockWidgetArea
    for where, dock in ((area.LeftDockWidgetArea, w.clusters_dock), (area.LeftDockWidgetArea, w.observers_dock),
                        (area.RightDockWidgetArea, w.decisions_dock), (area.RightDockWidgetArea, w.connection_dock),
                        (area.BottomDockWidgetArea, w.metrics_dock)):
        w.addDockWidget(where, dock)
    w.tabifyDockWidget(w.decisions_dock, w.connection_dock)
    w.decisions_dock.raise_()


def _renderer_of(scene: GlobeScene) -> str:
    try:
        scene.canvas.set_current()
        return gl_renderer()
    except Exception as exc:  # no context yet (never shown): assume hardware GL, say so
        return f"unknown ({type(exc).__name__})"


__all__ = ["INSIGHT_INTERVAL_S", "LOADING_POLICY", "READ_ONLY_REASON", "SOFTWARE_GL_NODE_BUDGET", "MainWindow",
           "default_recording_path"]
