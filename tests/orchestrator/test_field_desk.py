"""Item 11 against a real server and client: every allowed GetField reply fits the client's receive limit, a
request one cell over is refused, each identity has its own work budget, and the world lock is free while a
field is computed."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import grpc
import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.field_desk import (
    MAX_GRID_CELLS,
    MAX_VOLUME,
    FieldAsk,
    FieldDesk,
    FieldLimits,
    FieldRefused,
)
from scythe_desktop.orchestrator.requests import Verdict


@pytest.fixture
def handle() -> Iterator[EmbeddedOrchestrator]:
    h = start_embedded("tutorial", 1, tick_hz=10.0, auth_secret=secrets.token_hex(32), policy="none",
                       field_limits=FieldLimits(max_work=12_000_000, work_per_s=1.0))
    yield h
    h.stop()


def _viewer(h: EmbeddedOrchestrator, name: str) -> OrchestratorClient:
    return OrchestratorClient(h.target, h.credentials, refresh_token=h.orchestrator.issue_refresh_token(name,
                                                                                                      auth.VIEWER))


@pytest.mark.parametrize(("height", "width"), [(1023, 1024), (512, 2046), (1024, 1023)])
def test_the_largest_grids_allowed_reach_a_client_with_the_default_limit(handle: EmbeddedOrchestrator,
                                                                         height: int, width: int) -> None:
    assert height * width <= MAX_GRID_CELLS
    with _viewer(handle, f"big-{height}") as client:
        grid = client.field("coverage", height=height, width=width)
    assert grid.shape == (height, width)


def test_the_largest_volume_reaches_the_client(handle: EmbeddedOrchestrator) -> None:
    with _viewer(handle, "volume") as client:
        assert client.field("volume", size=MAX_VOLUME).shape == (MAX_VOLUME,) * 3


def test_one_cell_over_the_limit_is_refused_naming_it(handle: EmbeddedOrchestrator) -> None:
    with _viewer(handle, "over") as client, pytest.raises(OrchestratorError) as info:
        client.field("coverage", height=1024, width=1024)
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert f"{MAX_GRID_CELLS:,} cells" in str(info.value)


def test_each_identity_has_its_own_budget(handle: EmbeddedOrchestrator) -> None:
    desk = FieldDesk(handle.orchestrator.host)
    big = FieldAsk("occlusion", height=1000, width=1000)
    cells = 1000 * 1000 * 12_000_000 // (2 * desk.work(big))  # a grid costing just over half the budget
    height = min(1024, cells // 1000 + 1)
    with _viewer(handle, "greedy") as greedy, _viewer(handle, "modest") as modest:
        greedy.field("occlusion", height=height, width=1000)
        with pytest.raises(OrchestratorError) as info:
            greedy.field("occlusion", height=height, width=1000)
        assert info.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED and "retry in" in str(info.value)
        assert modest.field("occlusion", height=90, width=180).shape == (90, 180)


def test_a_field_too_costly_for_one_request_says_to_ask_for_less(handle: EmbeddedOrchestrator) -> None:
    limits = FieldLimits(max_work=1_000)
    desk = FieldDesk(handle.orchestrator.host, limits)
    with pytest.raises(FieldRefused, match="ask for a smaller grid") as info:
        desk.fetch("someone", FieldAsk("uncertainty", height=90, width=180))
    assert info.value.verdict is Verdict.RESOURCE_EXHAUSTED


def test_the_world_lock_is_free_while_a_field_is_computed(handle: EmbeddedOrchestrator) -> None:
    host = handle.orchestrator.host
    free: list[bool] = []

    def probe() -> None:  # runs in the GetField thread, after the snapshot and before the computation
        other = threading.Thread(target=lambda: free.append(_try_lock(host.lock)))
        other.start()
        other.join()

    desk = FieldDesk(host, on_snapshot=probe)
    for kind, size in (("coverage", 0), ("occlusion", 0), ("uncertainty", 0), ("volume", 16)):
        reply = desk.fetch("viewer", FieldAsk(kind, height=45, width=90, size=size))
        assert reply.frame
    assert free == [True] * 4


def _try_lock(lock: threading.RLock) -> bool:
    if lock.acquire(blocking=False):
        lock.release()
        return True
    return False
