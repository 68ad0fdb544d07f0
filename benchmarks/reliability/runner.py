"""``python -m benchmarks.reliability``: the reliability and security suite's long versions, as one JSON object.

R1 orchestrator restarts under SIGKILL, R2 load (50 streaming clients + operators), R3 fuzzing (codec,
RPCs, scenario TOML, recordings), R4 auth/transport matrix, R5 guardrail property, R6 recording crashes,
R7 desktop soak, R8 trust (guardrail bypasses, lock-out without a token, secrets in observer environments,
audit tampering). Each section is one module ``benchmarks/reliability/rel_*.py`` (never shipped: not in the
package, not in the binary); the bounded versions of the same functions run in ``tests/reliability``.
``--quick`` runs tiny sizes (figures meaningless). ``SCYTHE_RELIABILITY_ONLY=R1,R3`` runs only those sections.
Every random choice comes from ``SCYTHE_RELIABILITY_SEED`` (default 20261127), printed in the output.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_SEED = 20261127

TARGETS: dict[str, dict[str, Any]] = {
    "R1": {"max_resume_s": 2.0, "frames_lost": 0, "frames_duplicated": 0, "duplicate_actions": 0},
    "R2": {"errors": 0, "p99_frame_latency_ms": 100.0},
    "R3": {"frames_crashed": 0, "rpcs_wrong_status": 0, "scenarios_crashed": 0, "recordings_crashed": 0},
    "R4": {"wrong_outcomes": 0, "token_leaks_in_logs": 0},
    "R5": {"violations": 0},
    "R6": {"unreadable_files": 0},
    # The issue names no numbers for R7: a clean exit, and the console's own lag goal (bench ui, 50 ms).
    "R7": {"clean_exit": True, "dropped_frame_ratio": 0.05, "event_loop_lag_p99_ms": 50.0},
    "R8": {"guardrail_bypasses": 0, "unauthenticated_lockout_failures": 0, "secrets_in_child_environment": 0,
           "audit_tamper_cases_detected": 1.0},
}


def _r1(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_restarts import run_restarts

    return run_restarts(tmp / "r1", 2 if quick else 20, seed)


def _r2(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_load import run_load

    baseline = run_load(1, 3 if quick else 15, seed, operators=0)
    result = run_load(5 if quick else 50, 4 if quick else 60, seed)
    result["baseline_1_client_p99_frame_latency_ms"] = baseline["p99_frame_latency_ms"]
    result["baseline_1_client_p50_frame_latency_ms"] = baseline["p50_frame_latency_ms"]
    # The same fan-out over the small tutorial world: separates the world's own tick cost from fan-out.
    light = run_load(5 if quick else 50, 3 if quick else 30, seed, scenario="tutorial", tick_hz=10.0)
    result["tutorial_p99_frame_latency_ms"] = light["p99_frame_latency_ms"]
    result["tutorial_p50_frame_latency_ms"] = light["p50_frame_latency_ms"]
    result["tutorial_errors"] = light["errors"]
    return result


def _r3(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability import rel_fuzz

    return {
        **rel_fuzz.fuzz_codec(2_000 if quick else 1_000_000, seed),
        **rel_fuzz.fuzz_rpcs(200 if quick else 10_000, seed),
        **rel_fuzz.fuzz_scenarios(100 if quick else 2_000, seed),
        **rel_fuzz.fuzz_recordings(50 if quick else 1_000, seed),
    }


def _r4(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_auth import run_matrix

    return run_matrix()


def _r5(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_guardrails import run_guardrails

    return run_guardrails(50 if quick else 10_000, 5 if quick else 200, seed)


def _r6(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_recording import run_recording_kills

    return run_recording_kills(tmp / "r6", 2 if quick else 20, seed)


def _r7(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_soak import run_soak

    return run_soak("tutorial" if quick else "global", 10 if quick else 600)


def _r8(quick: bool, seed: int, tmp: Path) -> dict[str, Any]:
    from benchmarks.reliability.rel_trust import run_trust

    if quick:
        return run_trust(200, 10, 30, 2, 1, 7, seed)
    return run_trust(10_000, 200, 200, 20, 4, 700, seed)


SECTIONS: dict[str, Callable[[bool, int, Path], dict[str, Any]]] = {
    "R1": _r1, "R2": _r2, "R3": _r3, "R4": _r4, "R5": _r5, "R6": _r6, "R7": _r7, "R8": _r8,
}


#: Figures whose target is an exact count; the others are upper bounds.
EXACT = frozenset({
    "frames_lost", "frames_duplicated", "duplicate_actions", "errors", "frames_crashed", "rpcs_wrong_status",
    "scenarios_crashed", "recordings_crashed", "wrong_outcomes", "token_leaks_in_logs", "violations",
    "unreadable_files", "guardrail_bypasses", "unauthenticated_lockout_failures", "secrets_in_child_environment",
    "audit_tamper_cases_detected",
})


def _met(key: str, value: Any, target: Any) -> bool:
    if value is None:
        return False
    if isinstance(target, bool) or key in EXACT:
        return bool(value == target)
    return bool(value <= target)


def run(quick: bool = False) -> dict[str, object]:
    seed = int(os.environ.get("SCYTHE_RELIABILITY_SEED", DEFAULT_SEED))
    only = [s.strip().upper() for s in os.environ.get("SCYTHE_RELIABILITY_ONLY", "").split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        raise ValueError(f"SCYTHE_RELIABILITY_ONLY: unknown sections {unknown}; known: {', '.join(SECTIONS)}")
    out: dict[str, object] = {"seed": seed, "quick": quick, "cpu_count": os.cpu_count(),
                              "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    met: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="scythe-reliability-") as tmp:
        for name, section in SECTIONS.items():
            if only and name not in only:
                continue
            t0 = time.monotonic()
            try:
                figures = section(quick, seed, Path(tmp))
            except Exception as exc:  # one broken section must not hide the others' figures
                figures = {"failed": f"{type(exc).__name__}: {exc}"}
            for key, target in TARGETS[name].items():
                figures[f"{key}_target"] = target
                met[f"{name}.{key}"] = _met(key, figures.get(key), target)
            figures["wall_s"] = round(time.monotonic() - t0, 1)
            out[name] = figures
    out["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    out["targets_met"] = met
    return out
