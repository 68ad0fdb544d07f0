"""R6 (bounded): SIGKILL ``scythe record`` three times; every file reads back and repairs cleanly."""

from __future__ import annotations

from pathlib import Path

from benchmarks.reliability.rel_recording import run_recording_kills


def test_killed_recordings_stay_readable_and_repairable(tmp_path: Path) -> None:
    r = run_recording_kills(tmp_path, 3, 6606)
    assert r["kills"] == 3
    assert r["unreadable_files"] == 0, r
    assert r["min_messages_kept"] > 0, r
