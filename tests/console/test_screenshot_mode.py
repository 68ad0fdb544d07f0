"""``scythe --screenshot`` as a real subprocess on the test's Xvfb display, and the no-display guard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gl


def run_scythe(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scythe_desktop", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=240)


def read_png_rgba(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    qimage = QImage(str(path))
    assert not qimage.isNull(), f"{path} is not a readable PNG"
    qimage = qimage.convertToFormat(QImage.Format.Format_RGBA8888)
    return np.frombuffer(qimage.constBits(), np.uint8).reshape(qimage.height(), qimage.bytesPerLine())[
        :, : 4 * qimage.width()
    ].reshape(qimage.height(), qimage.width(), 4).copy()  # copy: the bits die with the QImage


def test_screenshot_mode_writes_a_non_blank_png_of_the_live_world(tmp_path: Path, qapp: object) -> None:
    # qapp makes pytest-xvfb's display exist; the child inherits DISPLAY.
    assert os.environ.get("DISPLAY"), "pytest-xvfb should have set DISPLAY"
    out = tmp_path / "shot.png"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}  # keep QSettings out of the user's
    done = run_scythe(["--scenario", "tutorial", "--screenshot", str(out), "--frames", "3"], env, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    image = read_png_rgba(out)
    assert image.shape[0] >= 600 and image.shape[1] >= 1000  # the whole console window
    rgb = image[..., :3].astype(np.int16)
    assert rgb.reshape(-1, 3).std(axis=0).min() > 10  # not one flat colour
    # The globe's ocean colour covers a good part of the picture (the canvas content was captured).
    ocean = (np.abs(rgb - np.array([13, 31, 56])).sum(axis=-1) < 25).mean()
    assert ocean > 0.05, ocean
    # Nodes are drawn with the threat colours (cyan low, orange medium, red high) somewhere.
    cyan = (rgb[..., 0] < 60) & (rgb[..., 1] > 170) & (rgb[..., 2] > 200)
    orange = (rgb[..., 0] > 230) & (rgb[..., 1] > 110) & (rgb[..., 1] < 190) & (rgb[..., 2] < 60)
    assert cyan.sum() + orange.sum() > 20


def test_without_a_display_the_console_says_how_to_run_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = run_scythe([], env, tmp_path)
    assert done.returncode == 2
    assert "no display" in done.stderr and "xvfb-run" in done.stderr
    assert "Traceback" not in done.stderr


def test_screenshot_mode_without_a_display_uses_a_private_x_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    out = tmp_path / "headless.png"
    done = run_scythe(["--scenario", "tutorial", "--policy", "none", "--screenshot", str(out), "--frames", "2"],
                      env, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    image = read_png_rgba(out)
    assert image[..., :3].reshape(-1, 3).std(axis=0).min() > 10
