"""R7 (bounded): the console streams ``tutorial`` with Automate on for 30 s and exits cleanly.

Runs the same child process as the 10-minute soak of ``python -m benchmarks.reliability`` (on pytest-xvfb's X
server). RSS growth, dropped frames and event-loop lag are figures there, not assertions here.
"""

from __future__ import annotations

import pytest

from benchmarks.reliability.rel_soak import run_soak


@pytest.mark.gl
def test_console_soak_streams_and_exits_cleanly() -> None:
    r = run_soak("tutorial", 30.0)
    assert r["clean_exit"], r
    assert r["event_loop_exit_code"] == 0, r
    assert r["frames_applied"] > 0, r
    assert r["rss_end_mb"] is not None, r
