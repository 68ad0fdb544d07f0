"""R4: the whole auth and transport matrix (it is small enough to run in full here)."""

from __future__ import annotations

from benchmarks.reliability import rel_auth
from scythe_desktop.orchestrator import auth


def test_the_matrix_covers_every_protected_rpc_and_refresh() -> None:
    assert set(rel_auth.REQUESTS) == {*auth.METHOD_ROLES, auth.REFRESH_METHOD}


def test_every_hostile_token_and_transport_is_refused_and_no_token_is_logged() -> None:
    r = rel_auth.run_matrix()
    assert r["wrong_outcomes"] == 0, r
    assert r["refused_correctly"] == r["cases"], r
    methods = len(rel_auth.REQUESTS)
    # 3 transports x every method x at least 16 token cases, plus 4 hostile transports x every method.
    assert r["cases"] >= 3 * methods * 16 + 4 * methods, r
    assert r["valid_controls_accepted"] == r["valid_controls"] == 3 * methods, r
    assert r["token_leaks_in_logs"] == 0, r
