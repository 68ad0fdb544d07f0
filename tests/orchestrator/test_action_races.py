"""An observer removed between parsing a request and taking the action lock is NOT_FOUND, not a crash.

Found by the guardrail property suite (tests/reliability, R5): with several clients, a decommission
could land after another request naming the same observer had been parsed; the guardrail check then
indexed the observer table with a missing row and raised TypeError (the client saw UNKNOWN).
"""

from __future__ import annotations

from typing import Any

import pytest

from scythe_desktop.engine.actions import Decommission
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.orchestrator.backends import SimulatedBackend
from scythe_desktop.orchestrator.dispatch import ActionDesk
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.requests import ActionRefused, ActionRequest, Verdict
from scythe_desktop.orchestrator.world_host import WorldHost


@pytest.mark.parametrize(
    "request_for",
    [
        lambda oid: ActionRequest("increase_sampling", "x", observer_id=oid),
        lambda oid: ActionRequest("relocate", "x", observer_id=oid, lon=-60.0, lat=45.0),
        lambda oid: ActionRequest("decommission", "x", observer_id=oid),
    ],
    ids=["increase_sampling", "relocate", "decommission"],
)
def test_observer_removed_after_parse_is_not_found(request_for: Any) -> None:
    host = WorldHost(load_scenario("tutorial"), 2, FrameHub(max_subscribers=1))
    desk = ActionDesk(host, SimulatedBackend(), None, None)
    oid = desk.handle("op", ActionRequest("deploy", "d", lon=-70.0, lat=40.0)).observer_id
    parse = desk._parse

    def parse_then_lose_the_race(request: Any) -> Any:
        parsed = parse(request)
        host.apply(Decommission(oid))  # another client's decommission wins the lock first
        return parsed

    desk._parse = parse_then_lose_the_race  # type: ignore[method-assign]
    with pytest.raises(ActionRefused) as refused:
        desk.handle("op", request_for(oid))
    assert refused.value.verdict is Verdict.NOT_FOUND
    assert f"observer_id {oid}" in str(refused.value)
    desk._parse = parse  # type: ignore[method-assign]
    assert desk.handle("op", ActionRequest("deploy", "d2", lon=-70.0, lat=40.0)).ok
