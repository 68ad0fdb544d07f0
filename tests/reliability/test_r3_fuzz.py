"""R3 (bounded): hostile frames, RPCs, scenario files and recordings are refused with the right error.

Sizes here are small; the long version (1,000,000 frames, 10,000 RPCs) is ``python -m benchmarks.reliability``.
"""

from __future__ import annotations

from benchmarks.reliability import rel_fuzz

SEED = 3303


def test_mutated_frames_decode_or_raise_frame_error() -> None:
    r = rel_fuzz.fuzz_codec(20_000, SEED)
    assert r["frames_crashed"] == 0, r
    # The mutator exercises both sides: some mutants still decode, most are refused.
    assert r["frames_accepted"] > 0 and r["frames_rejected_frame_error"] > 0, r


def test_malformed_rpcs_are_refused_and_the_server_keeps_serving() -> None:
    r = rel_fuzz.fuzz_rpcs(600, SEED)
    assert r["rpcs_wrong_status"] == 0, r
    assert r["server_still_serving"], r
    assert set(r["rpc_status_counts"]) <= {"INVALID_ARGUMENT", "NOT_FOUND", "RESOURCE_EXHAUSTED"}, r


def test_mutated_scenario_toml_loads_or_raises_scenario_error() -> None:
    r = rel_fuzz.fuzz_scenarios(400, SEED)
    assert r["scenarios_crashed"] == 0, r
    assert r["scenarios_rejected_scenario_error"] > 0, r


def test_mutated_recordings_read_or_raise_recording_error() -> None:
    r = rel_fuzz.fuzz_recordings(120, SEED)
    assert r["recordings_crashed"] == 0, r
    assert r["recordings_rejected_recording_error"] > 0, r
