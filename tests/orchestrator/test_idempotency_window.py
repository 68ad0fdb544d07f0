"""Item 15: the idempotency window is kept per subject: one client's burst of request ids never evicts
another client's outcomes, on disk (state directory) or in memory, and a retry after the burst still replays."""

from __future__ import annotations

import secrets
from pathlib import Path

import grpc

from scythe_desktop.client.embedded import start_embedded
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.store import MemoryOutcomes, StateStore, StoredOutcome

OK = StoredOutcome("fp", 0, "", b"")


def test_the_database_window_is_bounded_per_subject(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "orchestrator.sqlite", window_requests=5)
    store.remember("alice", "a-1", OK, now=1.0)
    for i in range(50):
        store.remember("mallory", f"m-{i}", OK, now=2.0 + i)
    assert store.outcome("alice", "a-1") == OK
    assert store.outcome("mallory", "m-49") == OK and store.outcome("mallory", "m-44") is None
    rows = store._db.execute("SELECT subject, COUNT(*) FROM idempotency GROUP BY subject").fetchall()
    assert dict(rows) == {"alice": 1, "mallory": 5}
    store.close()


def test_the_memory_window_is_bounded_per_subject_and_in_time() -> None:
    window = MemoryOutcomes(window_s=100.0, window_requests=5)
    window.remember("alice", "a-1", OK, now=0.0)
    for i in range(50):
        window.remember("mallory", f"m-{i}", OK, now=1.0 + i)
    assert window.outcome("alice", "a-1", now=60.0) == OK
    assert window.outcome("mallory", "m-44", now=60.0) is None
    assert window.outcome("alice", "a-1", now=101.0) is None  # older than the window


def test_a_retry_replays_after_another_client_floods_the_window(tmp_path: Path) -> None:
    handle = start_embedded("tutorial", 2, tick_hz=10.0, auth_secret=secrets.token_hex(32), policy="none",
                            state_dir=tmp_path / "state")
    desk_window = 20
    assert handle.orchestrator.store is not None
    handle.orchestrator.store.window_requests = desk_window  # small, so that the flood below passes it twice
    try:
        with handle.client() as alice:
            first = alice.deploy(-70.0, 40.0, request_id="alice-deploy")
        assert first.ok
        mallory_token = handle.orchestrator.issue_refresh_token("mallory", auth.OPERATOR)
        with OrchestratorClient(handle.target, handle.credentials, refresh_token=mallory_token) as mallory:
            for i in range(2 * desk_window):  # each outcome (acted or refused by the world) is remembered
                try:
                    mallory.increase_sampling(first.observer_id, request_id=f"flood-{i}")
                except OrchestratorError as exc:
                    assert exc.code is grpc.StatusCode.FAILED_PRECONDITION, exc
        with handle.client() as again:
            retry = again.deploy(-70.0, 40.0, request_id="alice-deploy")
        assert retry.replayed and retry.observer_id == first.observer_id
    finally:
        handle.stop()
