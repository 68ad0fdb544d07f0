"""The main window's menus, toolbar and keyboard shortcuts, as one set of ``QAction`` s.

:func:`build_menus` fills the window's menu bar and toolbar and returns the actions in a :class:`WindowMenus`;
each action is wired to an intent method of the window or a dock (``set_overlay``, ``confirm_selected``, …),
so this module holds the key map and the menu layout and no behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

if TYPE_CHECKING:
    from scythe_desktop.console.main_window import MainWindow

KEYS_HELP = (
    "Home: reset view · F: fly to selected cluster · +/−: zoom · arrows: orbit\n"
    "Ctrl+Return: confirm proposal · Ctrl+Backspace: reject · Ctrl+Shift+A: automate\n"
    "N/U/C/O: no/uncertainty/coverage/occlusion overlay · V: volume field · G: drift arrows · B: borders\n"
    "E: the evader's moves (adversarial worlds, live or replayed)\n"
    "Ctrl+O: open recording · Ctrl+R: record on/off · Ctrl+S: save screenshot · Ctrl+Q: quit\n"
    "Replay timeline: Space: play/pause · .: step · W: what if… (branch the replay at the current time)")


@dataclass
class WindowMenus:
    open_recording: QAction
    record: QAction
    save_image: QAction
    reset_view: QAction
    fly: QAction
    overlays: dict[str, QAction]
    volume: QAction
    drift: QAction
    evader: QAction
    borders: QAction
    all_nodes: QAction
    confirm: QAction
    reject: QAction
    automate: QAction

    @staticmethod
    def disable(actions: tuple[QAction, ...], reason: str) -> None:
        """Actions that cannot be used on this source; the tooltip says why."""
        for action in actions:
            action.setEnabled(False)
            action.setToolTip(reason)


def build_menus(w: MainWindow) -> WindowMenus:
    def act(text: str, slot: Callable[..., object], shortcut: str | QKeySequence.StandardKey | None = None,
            checkable: bool = False) -> QAction:
        action = QAction(text, w)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    open_recording = act("&Open recording…", w.open_recording_dialog, "Ctrl+O")
    record = act("&Record", w.recorder.toggle, "Ctrl+R")
    record.setCheckable(True)
    save_image = act("Save &screenshot…", lambda: _save_screenshot(w), "Ctrl+S")
    whatif = act("&What if… (branch this replay here)", lambda: w.whatif.open_dialog() if w.whatif else None, "W")
    whatif.setEnabled(w.whatif is not None)
    for item in (open_recording, record, whatif, None, save_image, None,
                 act("&Quit", w.close, QKeySequence.StandardKey.Quit)):
        file_menu.addAction(item) if item is not None else file_menu.addSeparator()

    view = bar.addMenu("&View")
    scene = w.scene
    reset_view = act("&Reset view", scene.reset_view, "Home")
    fly = act("&Fly to selected cluster", w.clusters_dock.fly_to_selected, "F")
    for item in (reset_view, fly, act("Zoom &in", lambda: scene.zoom(0.8), "+"),
                 act("Zoom &out", lambda: scene.zoom(1.25), "-"),
                 act("Orbit west", lambda: scene.orbit(-10, 0), "Left"),
                 act("Orbit east", lambda: scene.orbit(10, 0), "Right"),
                 act("Orbit north", lambda: scene.orbit(0, 10), "Up"),
                 act("Orbit south", lambda: scene.orbit(0, -10), "Down")):
        view.addAction(item)
    view.addSeparator()
    overlay_menu = view.addMenu("&Overlay")
    group = QActionGroup(w)
    overlays: dict[str, QAction] = {}
    for kind, text, key in (("none", "&None", "N"), ("uncertainty", "&Uncertainty", "U"),
                            ("coverage", "&Coverage", "C"), ("occlusion", "&Occlusion", "O")):
        overlays[kind] = act(text, _when_checked(w.set_overlay, kind), key, checkable=True)
        group.addAction(overlays[kind])
        overlay_menu.addAction(overlays[kind])
    volume = act("&Volume field", w.set_volume_visible, "V", checkable=True)
    drift = act("&Gradient drift arrows", w.show_drift, "G", checkable=True)
    evader = act("&Evader moves (adversarial worlds)", w.globe.evader_marks.set_shown, "E", checkable=True)
    borders = act("Country &borders", w.show_borders, "B", checkable=True)
    all_nodes = act("Draw &every node (slow on software GL)", w.apply_draw_budget, checkable=True)
    for item in (volume, drift, evader, borders, all_nodes):
        view.addAction(item)
    view.addSeparator()
    for dock in (w.clusters_dock, w.observers_dock, w.decisions_dock, w.metrics_dock, w.connection_dock):
        view.addAction(dock.toggleViewAction())

    decide = bar.addMenu("&Decisions")
    dock = w.decisions_dock
    confirm = act("&Confirm proposal", dock.confirm_selected, "Ctrl+Return")
    reject = act("&Reject proposal", dock.reject_selected, "Ctrl+Backspace")
    automate = act("&Automate", dock.automate.setChecked, "Ctrl+Shift+A", checkable=True)
    dock.automate.toggled.connect(automate.setChecked)
    for item in (confirm, reject, automate):
        decide.addAction(item)
    bar.addMenu("&Help").addAction(act("&Keys", lambda: QMessageBox.information(w, "Keys", KEYS_HELP), "F1"))

    toolbar = w.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    for item in (record, reset_view, fly, confirm, reject, automate, overlays["uncertainty"], volume):
        toolbar.addAction(item)
    return WindowMenus(open_recording, record, save_image, reset_view, fly, overlays, volume, drift, evader, borders,
                       all_nodes, confirm, reject, automate)


def _save_screenshot(w: MainWindow) -> None:
    path, _ = QFileDialog.getSaveFileName(w, "Save screenshot", "scythe.png", "PNG images (*.png)")
    if path:
        w.scene.screenshot(path)
        w.notify(f"screenshot saved to {path}")


def _when_checked(slot: Callable[[str], None], kind: str) -> Callable[[bool], None]:
    def toggled(on: bool) -> None:
        if on:  # the exclusive group also un-checks the previous overlay: ignore that half
            slot(kind)

    return toggled


__all__ = ["KEYS_HELP", "WindowMenus", "build_menus"]
