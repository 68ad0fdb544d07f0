"""R8 (bounded): the trust figures of issue #16 — guardrail bypasses, lock-out without a token, secrets in
observer environments, audit tampering — at small sizes, through the same functions as the bench."""

from __future__ import annotations

from benchmarks.reliability.rel_trust import guardrail_bypasses_in_process, guardrail_bypasses_over_grpc, run_trust

SEED = 8808


def test_no_random_point_under_random_overlapping_rails_gets_through() -> None:
    r = guardrail_bypasses_in_process(1_000, SEED)
    assert r["bypasses"] == 0 and r["false_refusals"] == 0, r
    assert 0 < r["oracle_refused"] < r["points"], r  # both verdicts occur


def test_no_deploy_through_a_real_server_bypasses_random_rails() -> None:
    r = guardrail_bypasses_over_grpc(30, SEED)
    assert r["bypasses"] == 0, r


def test_every_trust_figure_meets_its_target_at_small_sizes() -> None:
    r = run_trust(100, 5, 30, 2, 1, 7, SEED)
    assert r["guardrail_bypasses"] == 0, r
    assert r["unauthenticated_lockout_failures"] == 0, r
    assert r["secrets_in_child_environment"] == 0, r
    assert r["audit_tamper_cases_detected"] == 1.0, r
