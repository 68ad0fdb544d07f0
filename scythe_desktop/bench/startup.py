"""``scythe bench startup``: launch → first rendered frame, built binary vs ``python -m`` from the venv.

A start is timed from ``Popen`` until the console has rendered its first batch of frames from the embedded
orchestrator and written it as a PNG (``--screenshot FILE --frames 1``: the file appears only after the
first frame was drawn and grabbed), so it includes process start, imports, the Qt/GL set-up, the embedded
world and the first draw. Each variant runs once unmeasured (a cold start: page cache, empty Qt/Mesa shader
caches; reported as ``*_cold``), then ``repeats`` times interleaved with the other; the figures are medians.
``--quick`` starts each variant once, without the cold start. The bundle and archive sizes come from
``dist/package-report.json`` and, for the torch-free field build (``make package VARIANT=field``, timed as
``first_frame_s_field``), ``dist/field/package-report.json`` (written by ``packaging/build.sh``). Without a
built bundle its figures are ``None`` and ``binary`` / ``binary_field`` say why. This module knows the CLI
flags and the ``dist/`` layout, nothing of the app's internals.

Display: with a ``DISPLAY`` both run on it; without one a private Xvfb is started
(:func:`~scythe_desktop.render.display.x_display`), which outlives every child process.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS: dict[str, float] = {
    "bundle_mb": 650.0,
    "archive_mb": 200.0,
    "first_frame_s_binary": 2.5,
    "first_frame_s_python": 2.5,  # the start-up goal holds for both ways of starting
    "bundle_mb_field": 380.0,
    "archive_mb_field": 130.0,
    "first_frame_s_field": 1.5,
}
#: A start that has not rendered after this long is reported as failed rather than waited for.
START_TIMEOUT_S = 180.0
_POLL_S = 0.005


def binary_path() -> Path:
    """The built ``scythe`` (``$SCYTHE_BINARY`` or ``dist/scythe/scythe`` next to the sources)."""
    return Path(os.environ.get("SCYTHE_BINARY", ROOT / "dist" / "scythe" / "scythe"))


def field_binary_path() -> Path:
    """The field build's ``scythe`` (``$SCYTHE_FIELD_BINARY`` or ``dist/field/scythe/scythe``)."""
    return Path(os.environ.get("SCYTHE_FIELD_BINARY", ROOT / "dist" / "field" / "scythe" / "scythe"))


@contextlib.contextmanager
def _display_env() -> Iterator[dict[str, str]]:
    from scythe_desktop.render.display import x_display

    with x_display() as display:
        yield {**os.environ, "DISPLAY": display}


def time_to_first_frame(command: Sequence[str], env: dict[str, str], workdir: Path) -> float:
    """Seconds from launching ``command + --screenshot PNG --frames 1`` until the PNG exists.

    Raises RuntimeError (with the child's stderr) if it exits without writing the PNG or takes too long."""
    png = workdir / f"frame-{time.monotonic_ns()}.png"
    start = time.perf_counter()
    proc = subprocess.Popen([*command, "--screenshot", str(png), "--frames", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while not png.exists():
            if proc.poll() is not None and not png.exists():
                raise RuntimeError(f"{command[0]} exited {proc.returncode} without a frame: "
                                   f"{proc.stderr.read()[-2000:] if proc.stderr else ''}")
            if time.perf_counter() - start > START_TIMEOUT_S:
                raise RuntimeError(f"{command[0]}: no frame within {START_TIMEOUT_S:.0f} s")
            time.sleep(_POLL_S)  # polling a file: the child shares nothing else with us
        elapsed = time.perf_counter() - start
        proc.communicate(timeout=START_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return elapsed


def _package_report(variant: str = "") -> dict[str, object]:
    path = ROOT / "dist" / variant / "package-report.json"
    if not path.exists():
        return {}
    report: dict[str, object] = json.loads(path.read_text())
    return report


def run(quick: bool) -> dict[str, object]:
    repeats = 1 if quick else 5
    binary, field = binary_path(), field_binary_path()
    # The venv's interpreter; inside the frozen binary there is none to compare against.
    python = None if getattr(sys, "frozen", False) else [sys.executable, "-m", "scythe_desktop"]
    variants: dict[str, list[str] | None] = {
        "first_frame_s_binary": [str(binary)] if binary.is_file() else None,
        "first_frame_s_python": python,
        "first_frame_s_field": [str(field)] if field.is_file() else None,
    }
    times: dict[str, list[float]] = {key: [] for key, cmd in variants.items() if cmd is not None}
    cold: dict[str, float] = {}
    with _display_env() as env, tempfile.TemporaryDirectory(prefix="scythe-startup-") as tmp:
        env = {**env, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}  # the same empty Qt/Mesa caches for both
        for key in times if not quick else ():
            cold[key] = time_to_first_frame(variants[key] or [], env, Path(tmp))
        for _ in range(repeats):
            for key in times:
                times[key].append(time_to_first_frame(variants[key] or [], env, Path(tmp)))
    figures = {
        **{key: _package_report().get(key) for key in ("bundle_mb", "archive_mb")},
        **{f"{key}_field": _package_report("field").get(key) for key in ("bundle_mb", "archive_mb")},
        **{key: round(statistics.median(times[key]), 3) if key in times else None for key in variants},
    }
    result: dict[str, object] = {}
    for key, target in TARGETS.items():
        result[key] = figures[key]
        result[f"{key}_target"] = target
    for key in variants:
        result[f"{key}_cold"] = round(cold[key], 3) if key in cold else None
    result["repeats"] = repeats
    result["binary"] = str(binary) if binary.is_file() else f"not built ({binary} missing; run make package)"
    result["binary_field"] = (str(field) if field.is_file()
                              else f"not built ({field} missing; run make package VARIANT=field)")
    return result


__all__ = ["TARGETS", "binary_path", "run", "time_to_first_frame"]
