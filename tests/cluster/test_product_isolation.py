"""The console and ``scythe serve`` never import Ray (it is the cluster extra's): checked on real starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scythe_desktop.bench.cluster import _imports_ray, ray_import_in_product


def test_an_importtime_log_that_imports_ray_is_caught() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import ray"], capture_output=True, text=True,
                          timeout=120, check=True)
    assert _imports_ray(done.stderr)
    plain = subprocess.run([sys.executable, "-X", "importtime", "-c", "import json"], capture_output=True,
                           text=True, timeout=120, check=True)
    assert not _imports_ray(plain.stderr)


def test_the_console_and_serve_start_without_importing_ray(tmp_path: Path) -> None:
    assert ray_import_in_product(tmp_path) == 0
