"""An action's effect on the world and its idempotency outcome are stored in one transaction.

Found by the restart suite (tests/reliability, R1): the world was checkpointed inside ``apply`` and the
outcome committed afterwards, so a SIGKILL between the two kept the deploy but not its outcome, and the
client's retry (same request id) deployed a second observer. Here the "crash" is an exception inside the
outcome's commit; a host restored from the same store must hold neither the effect nor the outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.orchestrator.backends import SimulatedBackend
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.requests import ActionRequest
from scythe_desktop.orchestrator.store import StateStore
from scythe_desktop.orchestrator.world_host import WorldHost


class Crash(Exception):
    pass


class CrashingStore(StateStore):
    def remember(self, *args: Any, **kwargs: Any) -> None:
        raise Crash("killed before the outcome was stored")


def _host(store: StateStore) -> WorldHost:
    return WorldHost(load_scenario("tutorial"), 5, FrameHub(max_subscribers=2), store=store)


def test_a_crash_before_the_outcome_is_stored_keeps_no_effect(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    crashing = CrashingStore(path)
    host = _host(crashing)
    host.checkpoint()
    desk = ActionDesk(host, SimulatedBackend(), crashing, None)
    with pytest.raises(Crash):
        desk.handle("op", ActionRequest("deploy", "d1", lon=-70.0, lat=40.0))
    crashing.close()

    store = StateStore(path)
    restored = _host(store)
    assert len(restored.observers()) == 0, "the deploy survived the crash without its outcome"
    assert store.outcome("op", "d1") is None
    # The retry acts exactly once, and both the effect and the outcome survive the next restart.
    desk = ActionDesk(restored, SimulatedBackend(), store, None)
    reply = desk.handle("op", ActionRequest("deploy", "d1", lon=-70.0, lat=40.0))
    store.close()
    again = StateStore(path)
    assert len(_host(again).observers()) == 1
    assert again.outcome("op", "d1") is not None
    replay = ActionDesk(_host(again), SimulatedBackend(), again, None).handle(
        "op", ActionRequest("deploy", "d1", lon=-70.0, lat=40.0)
    )
    assert replay.replayed and replay.observer_id == reply.observer_id
    again.close()
