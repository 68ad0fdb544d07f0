"""``scythe`` (no subcommand): create the Qt application, open the source, show the console, run.

:func:`run_console` is what :mod:`scythe_desktop.cli.app` calls after parsing the options. It selects
VisPy's PySide6 / ``gl+`` backend before any canvas exists, opens the source (the embedded orchestrator
on the chosen scenario by default), builds the :class:`~scythe_desktop.console.main_window.MainWindow` and runs
the event loop. With ``--screenshot PNG`` it waits for the first frames, renders ``--frames`` frames of
the live world, writes the PNG and exits 0 (1 with a one-line reason when no frame arrives in time).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from scythe_desktop.render.backend import use_render_backend

#: Seconds screenshot mode waits for the first keyframe before giving up.
SCREENSHOT_TIMEOUT_S = 120.0
#: Window size in screenshot mode (logical pixels).
SCREENSHOT_SIZE = (1600, 1000)
ORGANIZATION = "SCYTHE"
APPLICATION = "SCYTHE Desktop"


def run_console(args: argparse.Namespace) -> int:
    if args.screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return _screenshot_on_private_display()
    use_render_backend()  # before PySide6 widgets or any canvas exist
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from scythe_desktop.console.main_window import MainWindow
    from scythe_desktop.console.sources import SourceError, open_source, parse_source
    from scythe_desktop.engine.policies import check_policy_name

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    try:
        spec = parse_source(args.source)
        token = _read_token(getattr(args, "token_file", None))
        policy_name = getattr(args, "policy", "auto")
        check_policy_name(policy_name)  # refuse an unknown name now, before any window opens
        # The embedded orchestrator loads it lazily, at the console's first Propose (a remote one has its own).
        connection = open_source(spec, scenario=args.scenario, seed=getattr(args, "seed", 0), policy=policy_name,
                                 token=token, tls_ca=getattr(args, "tls_ca", None))
    except (SourceError, ValueError) as exc:
        print(f"scythe: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(connection, QSettings())
    if args.screenshot:
        return _screenshot(app, window, Path(args.screenshot), max(1, args.frames))
    window.show()
    window.start()
    code = app.exec()
    window.shutdown()
    return int(code)


def _screenshot_on_private_display() -> int:
    """Headless ``--screenshot`` (packaging checks): run this same command again on a private Xvfb.

    The child owns the Qt application, so the X server outlives it (Qt aborts if its display vanishes).
    """
    from scythe_desktop.render.display import x_display

    command = [sys.executable, *sys.argv[1:]] if getattr(sys, "frozen", False) else [
        sys.executable, "-m", "scythe_desktop", *sys.argv[1:]]
    try:
        with x_display() as display:
            return subprocess.run(command, env={**os.environ, "DISPLAY": display}, check=False).returncode
    except OSError as exc:  # no Xvfb binary, say: say so in one line
        print(f"scythe: --screenshot could not start a private X server ({exc}); run it under xvfb-run",
              file=sys.stderr)
        return 2


def _read_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read --token-file {path}: {exc.strerror}") from exc
    if not token:
        raise ValueError(f"--token-file {path} is empty")
    return token


def _screenshot(app: object, window: object, path: Path, frames: int) -> int:
    """Stream until ``frames`` batches of frames were applied and drawn, then write the PNG."""
    from PySide6.QtCore import QEventLoop, QTimer

    from scythe_desktop.console.main_window import MainWindow

    assert isinstance(window, MainWindow)
    loop = QEventLoop()
    applied = 0

    def ready() -> bool:  # enough frames, and the clusters and proposals shown when the source has them
        return applied >= frames and (window.insight is None or window.snapshot is not None)

    def on_frames(_seq: int) -> None:
        nonlocal applied
        applied += 1
        if ready():
            loop.quit()

    window.framesApplied.connect(on_frames)
    window.snapshotShown.connect(lambda _generation: loop.quit() if ready() else None)
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    window.start()
    window.globe.set_draw_budget(None)  # a still image can afford every node, even on software GL
    timeout.start(int(SCREENSHOT_TIMEOUT_S * 1000))
    loop.exec()
    try:
        if not ready():
            print(f"scythe: --screenshot: only {applied} of {frames} frames (world snapshot: "
                  f"{'yes' if window.snapshot is not None else 'no'}) arrived within {SCREENSHOT_TIMEOUT_S:.0f} s "
                  "(is the source streaming?)", file=sys.stderr)
            return 1
        path.parent.mkdir(parents=True, exist_ok=True)
        # The whole console (globe canvas and docks); QOpenGLWidget content is included by grab().
        if not window.grab().save(str(path), "PNG"):
            print(f"scythe: --screenshot: cannot write {path}", file=sys.stderr)
            return 1
        print(f"scythe: wrote {path} after {applied} frames (last seq {window.last_seq})")
        return 0
    finally:
        window.close()
        window.shutdown()


__all__ = ["run_console"]
