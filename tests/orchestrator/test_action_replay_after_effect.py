"""The retry of an action that removed what it names replays its reply instead of answering NOT_FOUND.

Found by the restart suite (tests/reliability, R1): the server decommissioned an observer and was killed
before the reply left; the client's retry (same request id) was checked for "observer exists" before the
idempotency lookup and got NOT_FOUND for an action that had in fact succeeded.
"""

from __future__ import annotations

import pytest

from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.orchestrator.backends import SimulatedBackend
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.requests import ActionRefused, ActionRequest, Verdict
from scythe_desktop.orchestrator.world_host import WorldHost


def test_retried_decommission_replays_its_success() -> None:
    host = WorldHost(load_scenario("tutorial"), 4, FrameHub(max_subscribers=1))
    desk = ActionDesk(host, SimulatedBackend(), None, None)
    oid = desk.handle("op", ActionRequest("deploy", "d", lon=-70.0, lat=40.0)).observer_id
    first = desk.handle("op", ActionRequest("decommission", "x", observer_id=oid))
    retry = desk.handle("op", ActionRequest("decommission", "x", observer_id=oid))
    assert first.ok and not first.replayed
    assert retry.ok and retry.replayed
    # A new request for the gone observer is still NOT_FOUND, and so are unknown clusters.
    with pytest.raises(ActionRefused) as gone:
        desk.handle("op", ActionRequest("decommission", "y", observer_id=oid))
    assert gone.value.verdict is Verdict.NOT_FOUND and f"observer_id {oid}" in str(gone.value)
    live = desk.handle("op", ActionRequest("deploy", "d2", lon=-70.0, lat=40.0)).observer_id
    with pytest.raises(ActionRefused) as no_cluster:
        desk.handle("op", ActionRequest("focus", "f", observer_id=live, cluster_id=987654))
    assert no_cluster.value.verdict is Verdict.NOT_FOUND and "cluster_id 987654" in str(no_cluster.value)
