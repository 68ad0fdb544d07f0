"""R6: ``scythe record`` is SIGKILLed at random moments; every file must read back and repair cleanly.

One real orchestrator streams (in this process, on loopback); each round starts a ``scythe record``
process against it with ``--progress-lines``, waits for a random number (1–3) of its flush lines
(readiness, not a sleep), then kills it with SIGKILL after a further random delay inside one flush
interval — the random moment. Each file must then be readable (``inspect``: metadata, messages up to the
last complete chunk) and repairable into a cleanly closed file with the same messages. Figures: ``kills``,
``unreadable_files``, ``max_loss_s`` (kill time minus the log time of the last message that survived:
what a crash costs, bounded by the flush interval plus the stream's own lag).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scythe_desktop.orchestrator import auth


def run_recording_kills(workdir: Path, kills: int, seed: int, *, flush_interval_s: float = 0.5) -> dict[str, Any]:
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.recording.reader import RecordingError, inspect, repair

    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    handle = start_embedded("tutorial", seed, tick_hz=20.0)
    token_file = workdir / "viewer.token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(handle.orchestrator.issue_refresh_token("recorder", auth.VIEWER) + "\n")
    unreadable: list[str] = []
    losses: list[float] = []
    messages: list[int] = []
    try:
        for i in range(kills):
            out = workdir / f"crash-{i}.mcap"
            proc = subprocess.Popen(
                [sys.executable, "-m", "scythe_desktop", "record", "--source", f"grpc://{handle.target}",
                 "--token-file", str(token_file), "--out", str(out), "--duration", "1h",
                 "--flush-interval", str(flush_interval_s), "--progress-lines"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )
            assert proc.stdout is not None
            for _ in range(rng.randint(1, 3)):
                if not proc.stdout.readline().startswith("flushed"):
                    break
            # Fault injection, not synchronisation: the kill lands at a random point of a flush interval.
            time.sleep(rng.uniform(0.0, flush_interval_s))
            killed_ns = time.time_ns()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            try:
                report = inspect(out)
                repaired = repair(out, workdir / f"crash-{i}.repaired.mcap", overwrite=True)
                if not repaired.cleanly_closed or repaired.message_count != report.message_count \
                        or report.message_count == 0:
                    unreadable.append(f"{out.name}: repaired {repaired.message_count} of {report.message_count}")
                    continue
                messages.append(report.message_count)
                losses.append((killed_ns - report.end_ns) / 1e9)
            except RecordingError as exc:
                unreadable.append(f"{out.name}: {exc}")
    finally:
        handle.stop()
    return {
        "kills": kills,
        "unreadable_files": len(unreadable),
        "unreadable_examples": unreadable[:5],
        "max_loss_s": round(max(losses), 3) if losses else None,
        "median_loss_s": round(sorted(losses)[len(losses) // 2], 3) if losses else None,
        "flush_interval_s": flush_interval_s,
        "min_messages_kept": min(messages) if messages else 0,
        "seed": seed,
    }
