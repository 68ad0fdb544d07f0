"""R2 (bounded): eight streaming clients and an operator against one orchestrator process, a few seconds.

Latency and RSS are figures of the long version (``python -m benchmarks.reliability``), never asserted here.
"""

from __future__ import annotations

from benchmarks.reliability.rel_load import run_load


def test_concurrent_clients_and_an_operator_see_no_errors() -> None:
    r = run_load(8, 5.0, 2202, scenario="tutorial", tick_hz=20.0, operators=1)
    assert r["errors"] == 0, r
    assert r["clients_without_frames"] == 0, r
    assert r["frames_delivered"] > 8, r
    assert r["actions"] > 0, r
