"""R7: the desktop console streams a scenario with Automate on for a long time; how does it hold up?

Run as its own process under an X server (``python -m benchmarks.reliability.rel_soak --scenario global
--seconds 600``): the real main window on the embedded orchestrator, Automate switched on, a 10 ms
``QTimer`` heartbeat measuring event-loop lateness, RSS sampled every second. When the time is up the
window is closed like a user would (``close()`` runs the console's shutdown), the event loop ends, and
one JSON line is printed: ``rss_growth_after_warmup_mb`` (warm-up: the first quarter), frames applied
and dropped (the mailbox keeps the newest, so a slow GUI drops stale frames: ``dropped_frame_ratio``),
``event_loop_lag_p99_ms``, actions sent by Automate. The caller adds ``clean_exit`` from the exit status.
:func:`run_soak` starts that process (on a private Xvfb when there is no display) and collects the line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEARTBEAT_MS = 10


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rel_soak")
    parser.add_argument("--scenario", default="tutorial")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--policy", default="greedy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from scythe_desktop.render.backend import use_render_backend

    use_render_backend()
    import numpy as np
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.reliability.rel_serve import rss_bytes
    from scythe_desktop.console.main_window import MainWindow
    from scythe_desktop.console.sources import open_source, parse_source

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings_dir = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(settings_dir.name) / "soak.ini"), QSettings.Format.IniFormat)
    connection = open_source(parse_source("embedded"), scenario=args.scenario, seed=args.seed,
                             policy=args.policy)
    window = MainWindow(connection, settings)
    lags: list[float] = []
    rss: list[tuple[float, int]] = []
    sent = [0]
    window.actionSent.connect(lambda *_: sent.__setitem__(0, sent[0] + 1))
    t0 = time.monotonic()
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        lags.append(max(0.0, (now - last[0]) * 1000.0 - HEARTBEAT_MS))
        last[0] = now

    def sample() -> None:
        rss.append((time.monotonic() - t0, rss_bytes(os.getpid())))

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    sampler = QTimer()
    sampler.setInterval(1000)
    sampler.timeout.connect(sample)
    window.show()
    window.start()
    window.decisions_dock.automate.setChecked(True)
    heartbeat.start()
    sampler.start()

    def finish() -> None:
        heartbeat.stop()
        sampler.stop()
        window.close()  # the console's own shutdown: workers stopped, source closed, settings saved
        app.quit()

    QTimer.singleShot(int(args.seconds * 1000), finish)
    code = app.exec()
    warm = [b for t, b in rss if t >= args.seconds * 0.25]
    applied, dropped = window.frames_applied, window.frames_dropped
    result: dict[str, Any] = {
        "scenario": args.scenario,
        "seconds": args.seconds,
        "frames_applied": applied,
        "frames_dropped": dropped,
        "dropped_frame_ratio": round(dropped / max(1, applied + dropped), 4),
        "event_loop_lag_p99_ms": round(float(np.percentile(lags, 99)), 1) if lags else None,
        "event_loop_lag_max_ms": round(max(lags), 1) if lags else None,
        "rss_after_warmup_mb": round(warm[0] / 2**20, 1) if warm else None,
        "rss_end_mb": round(rss[-1][1] / 2**20, 1) if rss else None,
        "rss_growth_after_warmup_mb": round((warm[-1] - warm[0]) / 2**20, 1) if warm else None,
        # Shape of the curve (plateau or line): one sample a minute.
        "rss_per_minute_mb": [round(b / 2**20) for t, b in rss if int(t) % 60 == 0],
        "automate_actions_sent": sent[0],
        "event_loop_exit_code": int(code),
    }
    print(json.dumps(result), flush=True)
    settings_dir.cleanup()
    return int(code)


def run_soak(
    scenario: str, seconds: float, *, policy: str = "greedy", timeout_s: float | None = None
) -> dict[str, Any]:
    """Run the soak in a child process; adds ``clean_exit`` (exit status 0, JSON printed, in time)."""
    command = [sys.executable, "-m", "benchmarks.reliability.rel_soak", "--scenario", scenario, "--seconds",
               str(seconds), "--policy", policy]
    from benchmarks.reliability.rel_serve import child_env
    from scythe_desktop.render.display import x_display

    with x_display((1600, 1000)) as display:
        limit = timeout_s if timeout_s is not None else seconds + 180.0
        proc = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              env={**child_env(), "DISPLAY": display})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"scenario": scenario, "seconds": seconds, "clean_exit": False,
                "problem": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    result["clean_exit"] = proc.returncode == 0
    result["exit_status"] = proc.returncode
    return result


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
