"""The console's main window: the globe canvas in the middle, docks around it, workers behind it.

The window wires a :class:`~scythe_desktop.client.source.Source` to the widgets: a
:class:`~scythe_desktop.console.workers.StreamWorker` feeds frames through a mailbox into the
:class:`~scythe_desktop.console.adapters.globe_view.GlobeView`; a
:class:`~scythe_desktop.console.workers.PeriodicWorker` takes
world snapshots (cluster table, proposals, metrics) from any orchestrator through a
:class:`~scythe_desktop.console.insight.ClientInsight`; a
:class:`~scythe_desktop.console.workers.CallWorker` sends actions and world-info requests. Every result reaches
the GUI thread by a queued signal; only this thread touches widgets and GL. Window geometry, dock layout and
preferences (Automate limits, grid overlay) persist in the ``QSettings`` it is given. Closing the window
stops every worker and the source.

A replay source (a recording) streams through the same worker, mailbox and :class:`GlobeView`; its
recorded proposals, decisions and metrics arrive as events (queued from the stream thread) for a read-only
decisions dock, the history and the metrics dock, and a :class:`~scythe_desktop.console.widgets.timeline.TimelineDock`
drives its player. On a live source the Record toggle writes a recording on a stream of its own
(:class:`~scythe_desktop.recording.session.RecordingSession`), with the operator's decisions and the
proposals as they refresh; stopping it runs off the GUI thread. File → Open recording replaces the window
with one on the recording; a file that cannot be replayed is reported and this window goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from scythe_desktop.client.grpc_client import OrchestratorClient
from scythe_desktop.console.adapters.globe_view import GlobeView
from scythe_desktop.console.fields_feed import FieldFeed, FieldSnapshot
from scythe_desktop.console.insight import ClientInsight
from scythe_desktop.console.model.automate import AutomateGuard, AutomateLimits, RegionBox
from scythe_desktop.console.model.heap import limit_heap_growth
from scythe_desktop.console.model.mailbox import OBSERVERS_KIND, FrameMailbox
from scythe_desktop.console.model.replayed import bookmark_row, decision_row, recorded_metrics, recorded_proposals
from scythe_desktop.console.model.snapshots import WorldSnapshot, observer_rows
from scythe_desktop.console.sources import Source, SourceError, SourceSpec, open_source
from scythe_desktop.console.widgets.clusters_dock import ClustersDock, describe_cluster
from scythe_desktop.console.widgets.decisions_dock import DecisionsDock
from scythe_desktop.console.widgets.info_docks import ConnectionDock, MetricsDock
from scythe_desktop.console.widgets.observers_dock import ObserversDock
from scythe_desktop.console.widgets.timeline import TimelineDock, format_offset
from scythe_desktop.console.workers import CallOutcome, CallWorker, PeriodicWorker, StreamWorker
from scythe_desktop.engine.actions import Action
from scythe_desktop.engine.proposals import Proposal, action_kind, describe_target
from scythe_desktop.recording import schemas
from scythe_desktop.recording.session import RecordingSession
from scythe_desktop.recording.timeline import ReplayEvent
from scythe_desktop.recording.writer import decision_message
from scythe_desktop.render.backend import gl_renderer
from scythe_desktop.render.lod import LodThresholds
from scythe_desktop.render.scene import GlobeScene

#: Seconds between world snapshots (cluster table, policy proposals, metrics).
INSIGHT_INTERVAL_S = 1.0
#: Status-bar text from the first frame until the orchestrator's policy has answered.
LOADING_POLICY = "loading policy…"
#: Milliseconds after the first applied frame at which proposals are asked for even if nothing was drawn.
PROPOSALS_FALLBACK_MS = 2000
#: Seconds between fetches of the fields on show (coverage/occlusion grid, volume).
FIELDS_INTERVAL_S = 3.0
#: Nodes drawn at most on a software GL renderer (llvmpipe pays per vertex: ~10k nodes fit a 50 ms frame on
#: two cores, 100k take hundreds of ms and would freeze the GUI thread that draws them).
SOFTWARE_GL_NODE_BUDGET = 10_000
#: LodThresholds fields stored in the settings as ``lod/<field>``.
LOD_KEYS = ("instanced", "volume", "field_only", "max_edges")
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software")
#: Why nothing can be decided while a recording plays (tooltips and the decisions dock).
READ_ONLY_REASON = "Replay is read-only: a recording's decisions were made when it was recorded"


def default_recording_path() -> Path:
    """Where the Record toggle suggests saving: a timestamped file in the user's data directory."""
    folder = platformdirs.user_data_path("scythe-desktop", "SCYTHE") / "recordings"
    return folder / time.strftime("scythe-%Y%m%d-%H%M%S.mcap")


class _Relay(QObject):
    """Lives in the GUI thread; other threads emit its signals, which Qt queues to the GUI thread."""

    replayEvent = Signal(object)  # ReplayEvent, from the replay stream thread
    recordingStopped = Signal(str, str)  # (path, error or ""), from the thread that closed the recording


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
        limit_heap_growth()  # streaming multi-MB frames for hours must not ratchet the C heap up (ui/heap.py)
        self.setWindowTitle("SCYTHE Desktop")
        self.setObjectName("scytheMainWindow")
        self.connection = connection
        self.settings = settings
        self.scene = GlobeScene(size=canvas_size, show=False)
        self.globe = GlobeView(self.scene)
        self.setCentralWidget(self.scene.canvas.native)

        self.clusters_dock = ClustersDock(self)
        self.observers_dock = ObserversDock(self)
        self.decisions_dock = DecisionsDock(self)
        self.metrics_dock = MetricsDock(self)
        self.connection_dock = ConnectionDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.clusters_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.observers_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.decisions_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.connection_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.metrics_dock)
        self.tabifyDockWidget(self.decisions_dock, self.connection_dock)
        self.decisions_dock.raise_()
        self._relay = _Relay(self)
        self.timeline: TimelineDock | None = None
        self._replay_min_generation = 0
        self._replayed_rows: dict[int, tuple[str, str, str, str, str]] = {}
        if connection.replay is not None:
            self.setWindowTitle(f"SCYTHE Desktop — replay of {connection.replay.path.name}")
            self.timeline = TimelineDock(connection.replay, connection.replay.bookmarks, self)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline)
            self.timeline.seekRequested.connect(self.seek_replay)
            self._relay.replayEvent.connect(self._on_replay_event)
            connection.replay.on_replay_event = self._relay.replayEvent.emit
        for key, value in connection.description.items():
            self.connection_dock.set_field(key, value)

        self._status_fps = QLabel("fps —")
        self._status_seq = QLabel("seq —")
        self._status_latency = QLabel("latency —")
        self._status_state = QLabel("connecting")
        self._status_nodes = QLabel("nodes —")
        self._status_record = QLabel("")
        self._status_record.setObjectName("recordStatus")
        self._status_record.setVisible(False)
        for label in (self._status_record, self._status_nodes, self._status_fps, self._status_seq, self._status_latency,
                      self._status_state):
            self.statusBar().addPermanentWidget(label)

        self.mailbox = FrameMailbox()
        self.stream = StreamWorker(lambda on_state: connection.client(on_state), self.mailbox)
        self.stream.framesReady.connect(self._apply_frames)
        self.stream.stateChanged.connect(self._on_state)
        self.stream.problem.connect(self.notify)
        self.calls = CallWorker()
        self.calls.done.connect(self._on_call_done)
        self._orchestrator = connection.orchestrator() if connection.live else None
        self._action_client = self._orchestrator or connection.client()
        self.insight: PeriodicWorker[WorldSnapshot] | None = None
        self._insight_source: ClientInsight | None = None
        if connection.live:  # every orchestrator, through its client
            # First frame first: the orchestrator loads its policy (torch, SB3: seconds of CPU) at the first
            # Propose, so the insight asks for proposals only once a frame has been drawn.
            self._insight_source = ClientInsight(connection.orchestrator, defer_proposals=True)
            self.insight = PeriodicWorker("insight", self._insight_source.snapshot, INSIGHT_INTERVAL_S)
            self.insight.ready.connect(self._on_snapshot)
            self.insight.problem.connect(self.notify)
            self.scene.canvas.events.draw.connect(self._on_draw_before_proposals)
            self.framesApplied.connect(self._on_frame_before_proposals)
        else:
            self.decisions_dock.automate_status.setText(
                f"{READ_ONLY_REASON}. Shown as recorded: nodes, edges, uncertainty grid, observers, the "
                "policy's proposals, decisions (history and timeline markers) and metrics. Not in recordings: "
                "the cluster table (clusters dock), coverage/occlusion grids and the volume field.")

        self.fields_feed = FieldFeed(connection.orchestrator)
        self.fields: PeriodicWorker[FieldSnapshot] = PeriodicWorker("fields", self.fields_feed.fetch, FIELDS_INTERVAL_S)
        self.fields.ready.connect(self._on_fields)
        self.fields.problem.connect(self.notify)

        self.last_seq = 0
        self.frames_applied = 0
        self.frames_dropped = 0  # stale frames the mailbox dropped (latest wins)
        self.snapshot: WorldSnapshot | None = None
        self._snapshot_generation = 0
        self._draws = 0
        self._fps = 0.0
        self._fps_t0 = time.monotonic()
        self._spend_per_hour = 0.0
        self._guard = AutomateGuard(AutomateLimits())
        self._automate_in_flight = False
        self._rejected: set[Action] = set()
        self._observers = observer_rows([])
        self._started = False
        self._closed = False
        self._world_info_received = False
        self.renderer = "unknown (not started)"
        self.recording: RecordingSession | None = None
        self._record_started = 0.0
        self._record_stopper: threading.Thread | None = None
        self._recorded_proposals: tuple[Proposal, ...] = ()
        self.successor: MainWindow | None = None
        self._relay.recordingStopped.connect(self._on_recording_stopped)
        self._record_timer = QTimer(self)
        self._record_timer.setInterval(1000)
        self._record_timer.timeout.connect(self._show_record_status)

        self.scene.canvas.events.draw.connect(self._count_draw)
        self.scene.canvas.events.mouse_press.connect(self._on_mouse_press)
        self.scene.canvas.events.mouse_release.connect(self._on_mouse_release)
        self._press_pos: tuple[float, float] | None = None
        self.clusters_dock.flyToRequested.connect(self.fly_to)
        self.clusters_dock.clusterSelected.connect(self._on_cluster_selected)
        self.observers_dock.actionRequested.connect(self.request_action)
        self.observers_dock.view.selectionModel().currentRowChanged.connect(
            lambda *_: self.globe.set_observers(self._observers, self.observers_dock.selected_observer_id()))
        self.clusters_dock.view.doubleClicked.connect(lambda _index: self.clusters_dock.fly_to_selected())
        self.decisions_dock.confirmRequested.connect(self.confirm)
        self.decisions_dock.rejectRequested.connect(self.reject)
        self.decisions_dock.automateChanged.connect(self._on_automate_changed)

        self._build_actions()
        self._fps_timer = QTimer(self)
        self._fps_timer.setInterval(1000)
        self._fps_timer.timeout.connect(self._update_fps)
        self._restore_settings()
        if connection.replay is not None:
            self._make_read_only()

    # --------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the workers (separate from ``__init__`` so tests can connect to signals first)."""
        if self._started:
            return
        self._started = True
        self.stream.start()
        self.calls.start()
        if self.insight is not None:
            self.insight.start()
        self.fields.start()
        self._fps_timer.start()
        self.calls.submit(("world_info", None), self._action_client.world_info)
        if self.timeline is not None:
            self.timeline.start()
        self.renderer = self._detect_renderer()
        self._status_nodes.setToolTip(f"GL renderer: {self.renderer}")
        self._apply_draw_budget()

    def _detect_renderer(self) -> str:
        try:
            self.scene.canvas.set_current()
            return gl_renderer()
        except Exception as exc:  # no context yet (never shown): assume hardware GL, say so
            return f"unknown ({type(exc).__name__})"

    @property
    def software_gl(self) -> bool:
        return any(name in self.renderer.lower() for name in SOFTWARE_RENDERERS)

    def _apply_draw_budget(self, *_: object) -> None:
        """On software GL draw an even subsample of nodes unless the operator asked for every node."""
        budget = SOFTWARE_GL_NODE_BUDGET if self.software_gl and not self.all_nodes_action.isChecked() else None
        self.globe.set_draw_budget(budget)
        self._show_node_count()

    def _show_node_count(self) -> None:
        n, k = len(self.globe.swarm), self.globe.draw_stride
        self._status_nodes.setText(f"{n} nodes" if k == 1 else f"{n} nodes (drawing 1 in {k}: software GL)")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker, close the source and save the settings; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._save_settings()
        self._fps_timer.stop()
        self._record_timer.stop()
        if self.timeline is not None:
            self.timeline.stop()
        if self.recording is not None:  # closing: finish the file here (the queue is short)
            session, self.recording = self.recording, None
            self._stop_session(session, notify=False)
        if self._record_stopper is not None:
            self._record_stopper.join()
            self._record_stopper = None
        self.stream.stop()
        if self._insight_source is not None:
            self._insight_source.cancel()  # ends a call in flight, so the worker stops at once
        if self.insight is not None:
            self.insight.stop()
        self.fields_feed.cancel()
        self.fields.stop()
        self._action_client.cancel()  # ends any retry loop of an action in flight
        self.calls.stop()
        self.connection.close()

    # ------------------------------------------------------------------------------------------ menus

    def _action(self, text: str, slot: Callable[..., object], shortcut: str | QKeySequence.StandardKey | None = None,
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_recording_action = self._action("&Open recording…", self._open_recording_dialog, "Ctrl+O")
        file_menu.addAction(self.open_recording_action)
        self.record_action = QAction("&Record", self)
        self.record_action.setCheckable(True)
        self.record_action.setShortcut(QKeySequence("Ctrl+R"))
        self.record_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.record_action.triggered.connect(self._record_triggered)
        if self.connection.live:
            self.record_action.setToolTip("Record this session (frames, proposals, your decisions) to a file (Ctrl+R)")
        else:
            self.record_action.setEnabled(False)
            self.record_action.setToolTip("A recording is already a recording: Record works on live sources")
        file_menu.addAction(self.record_action)
        file_menu.addSeparator()
        self.save_image_action = self._action("Save &screenshot…", self._save_screenshot_dialog, "Ctrl+S")
        file_menu.addAction(self.save_image_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        view = bar.addMenu("&View")
        self.reset_view_action = self._action("&Reset view", self.scene.reset_view, "Home")
        self.fly_action = self._action("&Fly to selected cluster", self.clusters_dock.fly_to_selected, "F")
        view.addAction(self.reset_view_action)
        view.addAction(self.fly_action)
        view.addAction(self._action("Zoom &in", lambda: self.scene.zoom(0.8), "+"))
        view.addAction(self._action("Zoom &out", lambda: self.scene.zoom(1.25), "-"))
        view.addAction(self._action("Orbit west", lambda: self.scene.orbit(-10, 0), "Left"))
        view.addAction(self._action("Orbit east", lambda: self.scene.orbit(10, 0), "Right"))
        view.addAction(self._action("Orbit north", lambda: self.scene.orbit(0, 10), "Up"))
        view.addAction(self._action("Orbit south", lambda: self.scene.orbit(0, -10), "Down"))
        view.addSeparator()
        overlay_menu = view.addMenu("&Overlay")
        self.overlay_group = QActionGroup(self)
        self.overlay_actions: dict[str, QAction] = {}
        for kind, text, key in (("none", "&None", "N"), ("uncertainty", "&Uncertainty", "U"),
                                ("coverage", "&Coverage", "C"), ("occlusion", "&Occlusion", "O")):
            action = self._action(text, self._overlay_slot(kind), key, checkable=True)
            self.overlay_group.addAction(action)
            overlay_menu.addAction(action)
            self.overlay_actions[kind] = action
        self.volume_action = self._action("&Volume field", self.set_volume_visible, "V", checkable=True)
        view.addAction(self.volume_action)
        self.drift_action = self._action("&Gradient drift arrows", self._toggle_drift, "G", checkable=True)
        view.addAction(self.drift_action)
        self.borders_action = self._action("Country &borders", self._toggle_borders, "B", checkable=True)
        view.addAction(self.borders_action)
        self.all_nodes_action = self._action("Draw &every node (slow on software GL)", self._apply_draw_budget,
                                             checkable=True)
        view.addAction(self.all_nodes_action)
        view.addSeparator()
        for dock in (self.clusters_dock, self.observers_dock, self.decisions_dock, self.metrics_dock,
                     self.connection_dock):
            view.addAction(dock.toggleViewAction())

        decide = bar.addMenu("&Decisions")
        self.confirm_action = self._action("&Confirm proposal", self.decisions_dock.confirm_selected, "Ctrl+Return")
        self.reject_action = self._action("&Reject proposal", self.decisions_dock.reject_selected, "Ctrl+Backspace")
        self.automate_action = self._action("&Automate", self.decisions_dock.automate.setChecked, "Ctrl+Shift+A",
                                            checkable=True)
        self.decisions_dock.automate.toggled.connect(self.automate_action.setChecked)
        for a in (self.confirm_action, self.reject_action, self.automate_action):
            decide.addAction(a)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keys", self._show_keys, "F1"))

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        for a in (self.record_action, self.reset_view_action, self.fly_action, self.confirm_action,
                  self.reject_action, self.automate_action, self.overlay_actions["uncertainty"], self.volume_action):
            toolbar.addAction(a)

    def _show_keys(self) -> None:
        QMessageBox.information(self, "Keys", (
            "Home: reset view · F: fly to selected cluster · +/−: zoom · arrows: orbit\n"
            "Ctrl+Return: confirm proposal · Ctrl+Backspace: reject · Ctrl+Shift+A: automate\n"
            "N/U/C/O: no/uncertainty/coverage/occlusion overlay · V: volume field · G: drift arrows · B: borders\n"
            "Ctrl+O: open recording · Ctrl+R: record on/off · Ctrl+S: save screenshot · Ctrl+Q: quit\n"
            "Replay timeline: Space: play/pause · .: step"))

    def _save_screenshot_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "scythe.png", "PNG images (*.png)")
        if path:
            self.scene.screenshot(path)
            self.notify(f"screenshot saved to {path}")

    def _overlay_slot(self, kind: str) -> Callable[[bool], None]:
        def toggled(on: bool) -> None:
            if on:  # the exclusive group also un-checks the previous overlay: ignore that half
                self.set_overlay(kind)

        return toggled

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

    def _toggle_drift(self, on: bool) -> None:
        self.globe.show_drift = on
        self.globe.set_drift(self.snapshot.drift if self.snapshot is not None else np.zeros((0, 4)))

    def _on_fields(self) -> None:
        snap = self.fields.slot.take()
        if snap is None:
            return
        if snap.grid is not None and snap.grid_kind is not None:
            self.globe.set_engine_grid(snap.grid_kind, snap.grid)
        if snap.volume is not None and self.volume_action.isChecked():
            self.globe.set_volume(snap.volume)

    def _toggle_borders(self, on: bool) -> None:
        self.globe.globe.show_borders = on

    # ------------------------------------------------------------------------------------ settings

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        defaults = AutomateLimits()
        try:
            limits = AutomateLimits(
                budget_per_hour=float(s.value("automate/budget_per_hour", defaults.budget_per_hour)),  # type: ignore[arg-type]
                max_deploys_per_minute=int(s.value("automate/max_deploys_per_minute",  # type: ignore[call-overload]
                                                   defaults.max_deploys_per_minute)),
                min_confidence=float(s.value("automate/min_confidence", defaults.min_confidence)),  # type: ignore[arg-type]
                allowed_regions=tuple(str(r) for r in _as_list(s.value("automate/allowed_regions", []))),
            )
        except (TypeError, ValueError) as exc:
            self.notify(f"stored Automate limits ignored ({exc}); using defaults")
            limits = defaults
        self._stored_regions = limits.allowed_regions
        self.decisions_dock.set_limits(limits)
        overlay = str(s.value("view/overlay", "uncertainty"))
        self.set_overlay(overlay if overlay in self.overlay_actions else "uncertainty")
        self.set_volume_visible(_as_bool(s.value("view/volume", False)))
        self.borders_action.setChecked(_as_bool(s.value("view/borders", True)))
        self.all_nodes_action.setChecked(_as_bool(s.value("view/draw_every_node", False)))
        self.drift_action.setChecked(_as_bool(s.value("view/drift_arrows", False)))
        lod = LodThresholds()
        try:
            lod = LodThresholds(**{k: int(s.value(f"lod/{k}", getattr(lod, k))) for k in LOD_KEYS})  # type: ignore[call-overload]
        except (TypeError, ValueError) as exc:
            self.notify(f"stored LOD thresholds ignored ({exc}); using defaults")
        self.set_lod_thresholds(lod)

    def set_lod_thresholds(self, thresholds: LodThresholds) -> None:
        """Node counts at which clusters change LOD tier, for the globe and the clusters dock's tier column."""
        self.globe.set_lod_thresholds(thresholds)
        if self._insight_source is not None:
            self._insight_source.thresholds = thresholds  # read by the next snapshot (one reference swap)

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        limits = self.decisions_dock.limits()
        s.setValue("automate/budget_per_hour", limits.budget_per_hour)
        s.setValue("automate/max_deploys_per_minute", limits.max_deploys_per_minute)
        s.setValue("automate/min_confidence", limits.min_confidence)
        s.setValue("automate/allowed_regions", list(limits.allowed_regions))
        s.setValue("view/overlay", self.overlay)
        s.setValue("view/volume", self.volume_action.isChecked())
        s.setValue("view/draw_every_node", self.all_nodes_action.isChecked())
        s.setValue("view/drift_arrows", self.drift_action.isChecked())
        s.setValue("view/borders", self.borders_action.isChecked())
        for k in LOD_KEYS:
            s.setValue(f"lod/{k}", getattr(self.globe.lod_thresholds, k))
        s.sync()

    # -------------------------------------------------------------------------------------- frames

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
            self._spend_per_hour = float(self._observers["cost_per_hour"].sum())
            self.observers_dock.set_observers(self._observers)
            self.globe.set_observers(self._observers, self.observers_dock.selected_observer_id())
        if report.keyframe or report.upload == "full":
            self._show_node_count()
        self.last_seq = batch.last_seq
        self.frames_applied += 1
        self.frames_dropped += batch.dropped
        self._status_seq.setText(f"seq {batch.last_seq}")
        latency_ms = (time.monotonic() - batch.received_at) * 1000.0 if batch.received_at else float("nan")
        self._status_latency.setText(f"latency {latency_ms:.1f} ms")
        self.scene.canvas.update()
        self.framesApplied.emit(batch.last_seq)

    def _on_state(self, state: str, detail: str) -> None:
        self._status_state.setText(state)
        if state == "streaming" and not self._world_info_received:
            self.calls.submit(("world_info", None), self._action_client.world_info)  # it failed while down
        self.connection_dock.set_field("state", f"{state} {detail}".strip())
        if state == "reconnecting" and detail:
            self.notify(f"connection lost ({detail}); reconnecting…")

    def notify(self, message: str) -> None:
        """Show a problem or outcome in the status bar and the connection dock; the app keeps running."""
        self.statusBar().showMessage(message, 10_000)
        self.connection_dock.set_field("last problem", message)

    def _count_draw(self, _event: object) -> None:
        self._draws += 1

    def _update_fps(self) -> None:
        now = time.monotonic()
        self._fps = self._draws / max(now - self._fps_t0, 1e-6)
        self._draws, self._fps_t0 = 0, now
        self._status_fps.setText(f"{self._fps:.1f} fps")

    # ------------------------------------------------------------------------------------- insight

    def _on_draw_before_proposals(self, _event: object) -> None:
        if self.frames_applied == 0 or self._insight_source is None:
            return
        self.scene.canvas.events.draw.disconnect(self._on_draw_before_proposals)
        QTimer.singleShot(0, self._allow_proposals)  # after this paint has finished

    def _on_frame_before_proposals(self, _seq: int) -> None:
        # A window that never paints (hidden, minimised) must get its proposals too: a moment after the first
        # frame, whether or not it was drawn.
        self.framesApplied.disconnect(self._on_frame_before_proposals)
        QTimer.singleShot(PROPOSALS_FALLBACK_MS, self._allow_proposals)

    def _allow_proposals(self) -> None:
        if self._closed or self._insight_source is None or self.insight is None:
            return
        if self._insight_source.proposals_allowed:
            return
        self._insight_source.allow_proposals()
        self.statusBar().showMessage(LOADING_POLICY)  # until the first answer (or a problem) replaces it
        self.insight.poke()

    def _on_snapshot(self) -> None:
        assert self.insight is not None
        snap = self.insight.slot.take()
        if snap is None or snap.generation <= self._snapshot_generation:
            return  # stale: a newer snapshot was already shown
        self._snapshot_generation = snap.generation
        self.snapshot = snap
        self.clusters_dock.set_clusters(snap.clusters)
        self.globe.set_cluster_centres(snap.clusters["id"], snap.clusters["lon"], snap.clusters["lat"])
        self.decisions_dock.set_proposals([p for p in snap.proposals if p.action not in self._rejected])
        self.globe.set_proposals(self.decisions_dock.proposals)
        self.globe.set_drift(snap.drift)
        self.metrics_dock.append(snap.metrics)
        if self.recording is not None:
            self._record_snapshot(snap)
        if not snap.proposals_pending and self.statusBar().currentMessage() == LOADING_POLICY:
            self.statusBar().clearMessage()
        if snap.problem:
            self.notify(snap.problem)
        self.snapshotShown.emit(snap.generation)
        if self.decisions_dock.automate.isChecked():
            self._automate_step()

    # ------------------------------------------------------------------------------------- picking

    def _on_mouse_press(self, event: Any) -> None:
        self._press_pos = (float(event.pos[0]), float(event.pos[1]))

    def _on_mouse_release(self, event: Any) -> None:
        if self._press_pos is None or event.button != 1:
            return
        x, y = float(event.pos[0]), float(event.pos[1])
        moved = abs(x - self._press_pos[0]) + abs(y - self._press_pos[1])
        self._press_pos = None
        if moved <= 3:  # a click, not an orbit drag
            self.pick_at(x, y)

    def pick_at(self, x: float, y: float) -> None:
        """Pick the cluster (or node) under canvas pixel (x, y) and show it in the clusters dock."""
        pick = self.globe.pick(x, y)
        if pick is None:
            return
        if pick.cluster_id is not None:
            self.clusters_dock.select_cluster(pick.cluster_id)
        if pick.node_row is not None:
            node = self.globe.swarm.nodes[pick.node_row]
            text = (f"node row {pick.node_row} (id {int(self.globe.swarm.ids[pick.node_row])}) at lon "
                    f"{pick.lon:.2f}, lat {pick.lat:.2f}: intensity {node[3]:.2f}, threat {node[4]:.2f}")
            row = self.clusters_dock.selected_cluster()
            if row is not None:
                text += f"\nnearest {describe_cluster(row)}"
            self.clusters_dock.show_details(text)

    def fly_to(self, lon: float, lat: float) -> None:
        self.scene.fly_to(lon, lat, extent=1.2)

    def _on_cluster_selected(self, cluster_id: int) -> None:
        row = self.clusters_dock.selected_cluster()
        if row is not None:
            self.observers_dock.set_target(cluster_id, float(row["lon"]), float(row["lat"]))

    # ------------------------------------------------------------------------------------- actions

    def confirm(self, proposal: Proposal) -> None:
        if not self.connection.live:
            self.notify(READ_ONLY_REASON)
            return
        self._send(proposal, "confirmed")
        self._withdraw(proposal)

    def reject(self, proposal: Proposal) -> None:
        if not self.connection.live:
            self.notify(READ_ONLY_REASON)
            return
        self._rejected.add(proposal.action)
        self._withdraw(proposal)
        self._log("rejected", proposal, "not sent")
        self._record_decision("rejected", proposal, ok=True, reason="not sent")

    def _withdraw(self, proposal: Proposal) -> None:
        self.decisions_dock.remove_proposal(proposal)
        self.globe.set_proposals(self.decisions_dock.proposals)

    def request_action(self, action: Action) -> None:
        """An operator action from the observers dock (no proposal behind it)."""
        if not self.connection.live:
            self.notify(READ_ONLY_REASON)
            return
        proposal = Proposal(action, describe_target(action), float("nan"), 0.0, 1.0, "operator action", "operator")
        self._send(proposal, "operator")

    def _send(self, proposal: Proposal, decision: str) -> None:
        request_id = OrchestratorClient.new_request_id()
        client = self._orchestrator
        assert client is not None  # only live sources act
        queued = self.calls.submit(("action", (decision, proposal)),
                                   lambda: client.act(proposal.action, request_id=request_id))
        if not queued:
            self._log(decision, proposal, "not sent: too many actions waiting")
            self._record_decision(decision, proposal, ok=False, reason="not sent: too many actions waiting")
            if decision == "automated":
                self._automate_in_flight = False
            return
        self.actionSent.emit(decision, proposal)

    def _on_call_done(self, outcome: CallOutcome) -> None:
        what, payload = outcome.tag
        if what == "world_info":
            self._on_world_info(outcome)
            return
        decision, proposal = payload
        if decision == "automated":
            self._automate_in_flight = False
        reply = outcome.result
        ok = False
        if outcome.error:
            text = f"refused: {outcome.error}"
        elif reply is not None and not reply.ok:
            text = f"refused: {reply.reason}"
        else:
            ok = True
            text = f"ok (observer {reply.observer_id}, spend {reply.cost_per_hour:.2f}/h)"
            self._spend_per_hour = float(reply.cost_per_hour)
            if self.insight is not None:
                self.insight.poke()
        self._log(decision, proposal, text)
        self._record_decision(decision, proposal, ok=ok, reason=text,
                              observer_id=int(reply.observer_id) if ok else None,
                              cost_per_hour=float(reply.cost_per_hour) if ok else 0.0)
        self.notify(f"{action_kind(proposal.action)} {proposal.target}: {text}")

    def _on_world_info(self, outcome: CallOutcome) -> None:
        if outcome.error:
            self.notify(f"world info unavailable: {outcome.error}")
            return
        info = outcome.result
        self._world_info_received = True
        regions = tuple(RegionBox(r.name, r.lon_min, r.lon_max, r.lat_min, r.lat_max) for r in info.regions)
        self._guard = AutomateGuard(self.decisions_dock.limits(), regions)
        self.decisions_dock.set_region_names([r.name for r in regions], self._stored_regions)
        self._spend_per_hour = float(info.spend_per_hour)
        self.globe.coverage_km = {t.name: float(t.coverage_radius_km) for t in info.observer_types}
        self.connection_dock.set_field("source", f"{self.connection.description['source']} "
                                                 f"(server {info.server_version}, {info.backend} backend)")

    def _log(self, decision: str, proposal: Proposal, outcome: str) -> None:
        self.decisions_dock.add_history(decision, proposal, outcome)
        self.decisionLogged.emit(decision, outcome)

    # ------------------------------------------------------------------------------------ automate

    @property
    def guard(self) -> AutomateGuard:
        return self._guard

    def _on_automate_changed(self, on: bool) -> None:
        if on:
            # Limits are read when Automate is switched on; the deploy window carries over.
            self._guard.limits = self.decisions_dock.limits()
            self.decisions_dock.automate_status.setText("Automate on: proposals that pass the guardrails are sent.")
        else:
            self.decisions_dock.automate_status.setText("Automate off.")

    def _automate_step(self) -> None:
        """Send the best proposal the guard allows; one action in flight at a time so spend stays known."""
        if self._automate_in_flight:
            return
        now = time.monotonic()
        held = []
        for proposal in self.decisions_dock.proposals:
            verdict = self._guard.check(proposal, self._spend_per_hour, now)
            if verdict.allowed:
                self._guard.record_sent(proposal, now)
                self._automate_in_flight = True
                self._send(proposal, "automated")
                self._withdraw(proposal)
                return
            held.append(verdict.reason)
        if held:
            self.decisions_dock.automate_status.setText("Automate holding: " + "; ".join(sorted(set(held))))


    # -------------------------------------------------------------------------------------- replay

    def _make_read_only(self) -> None:
        """A recording plays: nothing can be decided, and what recordings lack is not offered."""
        self.decisions_dock.set_read_only(READ_ONLY_REASON)
        for action in (self.confirm_action, self.reject_action, self.automate_action):
            action.setEnabled(False)
            action.setToolTip(READ_ONLY_REASON)
        dock = self.observers_dock
        for button in (dock.relocate_button, dock.sampling_button, dock.focus_button, dock.decommission_button):
            button.setEnabled(False)
            button.setToolTip(READ_ONLY_REASON)
        dock.hint.setText("Observers as recorded. " + READ_ONLY_REASON + ".")
        self.clusters_dock.show_details("Recordings carry no cluster table (it comes from an orchestrator's "
                                        "GetClusterTable): no clusters are listed in replay.")
        self.metrics_dock.setWindowTitle("Metrics (as recorded)")
        missing = "not in recordings (fetched from a live orchestrator)"
        for kind in ("coverage", "occlusion"):
            self.overlay_actions[kind].setEnabled(False)
            self.overlay_actions[kind].setToolTip(missing)
        self.volume_action.setEnabled(False)
        self.volume_action.setToolTip(missing)
        if self.overlay in ("coverage", "occlusion"):
            self.set_overlay("uncertainty")
        self.set_volume_visible(False)

    def seek_replay(self, offset_s: float) -> None:
        """Go to ``offset_s`` seconds into the recording; what was pending from before is dropped."""
        source = self.connection.replay
        if source is None:
            return
        # Events of the generation playing now are stale once the source has taken the seek.
        self._replay_min_generation = max(self._replay_min_generation, source.generation + 1)
        self.mailbox.reset_chain()  # pending node frames are stale; the seek's first frame is a keyframe
        source.seek(offset_s)
        self.decisions_dock.set_proposals([])  # the seek's catch-up brings the proposals in force then
        self.globe.set_proposals(())
        self.decisions_dock.clear_history()
        self.metrics_dock.plot.clear()  # the catch-up re-sends the samples up to the target
        target_ns = source.start_ns + int(offset_s * 1e9)
        for bookmark in source.bookmarks:
            if bookmark.log_time_ns <= target_ns:
                row = self._replayed_rows.get(bookmark.log_time_ns) or bookmark_row(
                    format_offset(bookmark.offset_s), bookmark)
                self.decisions_dock.add_history_row(row)

    def _on_replay_event(self, event: ReplayEvent) -> None:
        """A recorded proposal set, decision or metrics sample (queued from the stream thread)."""
        source = self.connection.replay
        if source is None or event.generation < self._replay_min_generation:
            return  # from before a seek
        message: Any = event.message
        if event.topic == schemas.TOPIC_PROPOSALS:
            proposals, problems = recorded_proposals(message)
            for problem in problems:
                self.notify(problem)
            self.decisions_dock.set_proposals(proposals)
            self.globe.set_proposals(self.decisions_dock.proposals)
        elif event.topic == schemas.TOPIC_DECISIONS:
            if event.catch_up:
                return  # already in the history rebuilt from the bookmarks at the seek
            row = decision_row(format_offset((event.log_time_ns - source.start_ns) / 1e9), message)
            self._replayed_rows[event.log_time_ns] = row
            self.decisions_dock.add_history_row(row)
            self.decisionLogged.emit(message.outcome, row[4])
        elif event.topic == schemas.TOPIC_METRICS:
            self.metrics_dock.append(recorded_metrics(message))

    def _open_recording_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = default_recording_path().parent
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", str(folder if folder.is_dir() else Path.cwd()),
                                              "MCAP recordings (*.mcap);;All files (*)")
        if path:
            problem = self.open_recording(path)
            if problem is not None:
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

    # ----------------------------------------------------------------------------------- recording

    def _record_triggered(self, on: bool) -> None:
        if not on:
            self.stop_recording()
            return
        from PySide6.QtWidgets import QFileDialog

        suggested = default_recording_path()
        suggested.parent.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self, "Record to", str(suggested), "MCAP recordings (*.mcap)")
        if not path or not self.start_recording(path, overwrite=True):  # the dialog asked about replacing
            self.record_action.setChecked(False)

    def start_recording(self, path: str | Path, *, overwrite: bool = False) -> bool:
        """Record the live source into ``path`` on a stream and thread of its own; False (and why) if not."""
        if not self.connection.live:
            self.notify("Record works on live sources, not on a recording")
            return False
        if self.recording is not None or self._record_stopper is not None:
            self.notify("a recording is still running or being saved")
            return False
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            session = RecordingSession(self.connection.orchestrator(), path, overwrite=overwrite,
                                       metadata={"operator": self._who("confirmed"), "recorder": "scythe console"})
        except (OSError, ValueError) as exc:
            self.notify(f"cannot record to {path}: {exc}")
            self.record_action.setChecked(False)
            return False
        session.start()
        self.recording = session
        self._record_started = time.monotonic()
        self._recorded_proposals = ()
        if self.snapshot is not None:
            self._record_snapshot(self.snapshot)
        self.record_action.setChecked(True)
        self._status_record.setVisible(True)
        self._show_record_status()
        self._record_timer.start()
        self.notify(f"recording to {path}")
        return True

    def stop_recording(self) -> None:
        """Stop recording; the file is finished on a worker thread (``recordingSaved`` says when)."""
        session = self.recording
        if session is None:
            self.record_action.setChecked(False)
            return
        self.recording = None
        self._record_timer.stop()
        self.record_action.setChecked(False)
        self._status_record.setText(f"saving {session.path.name}…")
        self._record_stopper = threading.Thread(target=self._stop_session, args=(session,),
                                                name="scythe-record-stop", daemon=True)
        self._record_stopper.start()

    def _stop_session(self, session: RecordingSession, notify: bool = True) -> None:
        """Runs on the stopper thread (or at shutdown): drain the queue and close the file."""
        error = ""
        try:
            session.stop()
        except Exception as exc:  # a disk error must reach the operator, not kill the thread silently
            error = f"{type(exc).__name__}: {exc}"
        if session.error is not None and not error:
            error = f"the recording stream ended early: {session.error}"
        if notify:
            self._relay.recordingStopped.emit(str(session.path), error)

    def _on_recording_stopped(self, path: str, error: str) -> None:
        if self._record_stopper is not None:
            self._record_stopper.join()  # it has emitted: it is ending now
            self._record_stopper = None
        self._status_record.setVisible(False)
        if error:
            self.notify(f"recording {path} ended with a problem: {error}")
        else:
            self.notify(f"recording saved to {path} ({_size_text(Path(path))})")
        self.recordingSaved.emit(path, error)

    def _show_record_status(self) -> None:
        session = self.recording
        if session is None:
            return
        elapsed = time.monotonic() - self._record_started
        self._status_record.setText(f"● REC {session.path.name} · {_size_text(session.path)} · "
                                    f"{format_offset(elapsed)}")
        self._status_record.setToolTip(str(session.path))

    def _who(self, decision: str) -> str:
        if decision == "automated":
            return "automate"
        subject = getattr(self._action_client, "subject", "") or "local"
        return f"operator:{subject}"

    def _record_decision(self, decision: str, proposal: Proposal, *, ok: bool, reason: str,
                         observer_id: int | None = None, cost_per_hour: float = 0.0) -> None:
        if self.recording is None:
            return
        tick = self.snapshot.tick if self.snapshot is not None else 0
        self.recording.write_decision(decision_message(
            proposal, who=self._who(decision), outcome=decision, reason=reason, ok=ok, tick=tick,
            observer_id=observer_id, cost_per_hour=cost_per_hour))

    def _record_snapshot(self, snap: WorldSnapshot) -> None:
        assert self.recording is not None
        self.recording.write_metrics(snap.tick, snap.metrics)
        if snap.proposals != self._recorded_proposals:
            self._recorded_proposals = snap.proposals
            policy = snap.proposals[0].policy if snap.proposals else ""
            self.recording.write_proposals(snap.proposals, snap.tick, policy)


def _size_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "—"
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _as_list(value: object) -> list[object]:
    """QSettings returns a one-element list as a plain string on some backends."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _as_bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1")


__all__ = ["INSIGHT_INTERVAL_S", "READ_ONLY_REASON", "MainWindow", "default_recording_path"]
