"""packaging/check_screenshot.py: a flat globe canvas fails (docks alone do not count), a rendered one passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

CHECK = Path(__file__).resolve().parents[2] / "packaging" / "check_screenshot.py"


def _png(path: Path, rgb: np.ndarray) -> Path:
    h, w, _ = rgb.shape
    data = np.ascontiguousarray(rgb, dtype=np.uint8)
    assert QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).save(str(path), "PNG")
    return path


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True, text=True, timeout=60,
                          check=False, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})


def test_busy_docks_around_a_flat_canvas_fail(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (200, 320, 3))
    rgb[30:140, 96:198] = (4, 6, 12)  # the canvas region: one colour
    proc = _check(_png(tmp_path / "blank.png", rgb))
    assert proc.returncode == 1
    assert "blank" in proc.stderr


def test_a_rendered_canvas_passes(tmp_path: Path) -> None:
    rgb = np.zeros((200, 320, 3), np.uint8)
    rgb[30:140, 96:198] = np.random.default_rng(1).integers(0, 256, (110, 102, 3))
    proc = _check(_png(tmp_path / "globe.png", rgb))
    assert proc.returncode == 0, proc.stderr


def test_a_file_that_is_not_an_image_fails_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    proc = _check(bad)
    assert proc.returncode == 1
    assert "bad.png" in proc.stderr
