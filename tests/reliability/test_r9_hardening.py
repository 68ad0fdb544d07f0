"""R9's harnesses, bounded: dead credentials against a real server, and the GetField load beside a real
``scythe serve`` stream (figures are the bench's; here only what must hold whatever the machine)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.reliability.rel_field_gaps import run_field_gaps
from benchmarks.reliability.rel_revocation import run_revocation


def test_no_revoked_or_expired_credential_gets_through(tmp_path: Path) -> None:
    r = run_revocation(tmp_path, 1)
    assert r["revoked_or_expired_credentials_accepted"] == 0, r
    assert r["credential_controls_accepted"] == r["credential_controls"] > 0, r


def test_the_stream_keeps_flowing_while_viewers_ask_for_fields(tmp_path: Path) -> None:
    r = run_field_gaps(tmp_path, 3.0, scenario="tutorial", tick_hz=10.0)
    assert r["frames_during_field_load"] > 2, r
    assert sum(r["field_requests"].values()) > 0 and set(r["field_requests"]) <= {
        "answered", "refused_resource_exhausted"}, r
