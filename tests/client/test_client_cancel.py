"""``OrchestratorClient.cancel()`` ends a unary call that is blocked in the server, from another thread.

The console closes while its insight worker waits for ``Propose`` (the orchestrator loading a policy can
take seconds); the worker's thread must end at once, not after the call's deadline. The server here runs a
real policy loader that blocks on an event until the test lets it go.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from scythe_desktop.client.embedded import start_embedded
from scythe_desktop.client.grpc_client import OrchestratorError
from scythe_desktop.engine.policies.base import Policy


def test_cancel_ends_a_unary_call_blocked_in_the_server() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_loader() -> Policy | None:
        entered.set()
        release.wait(60)
        return None

    handle = start_embedded("tutorial", 3, tick_hz=1e-4, policy=slow_loader)
    client = handle.client(timeout_s=60.0)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(client.propose)
            assert entered.wait(30), "the server never started loading the policy"
            assert not pending.done()
            client.cancel()
            with pytest.raises(OrchestratorError) as info:
                pending.result(timeout=10)  # ends now, not after the 60 s deadline
        assert info.value.code is grpc.StatusCode.CANCELLED
        with pytest.raises(OrchestratorError) as again:  # a cancelled client starts no new call
            client.world_info()
        assert again.value.code is grpc.StatusCode.CANCELLED
    finally:
        release.set()
        client.close()
        handle.stop()
