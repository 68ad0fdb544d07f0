"""GetClusterTable and Propose: the cluster table and the orchestrator policy's proposals over real gRPC."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.client.grpc_client import OrchestratorClient, OrchestratorError
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal, make_proposal
from scythe_desktop.protocol import cluster_table

#: No tick runs during a test unless the test steps the host: the world state stays put.
FROZEN_HZ = 1e-4


@pytest.fixture
def frozen() -> Iterator[EmbeddedOrchestrator]:
    handle = start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy="greedy")
    yield handle
    handle.stop()


def test_the_cluster_table_round_trips_exactly(frozen: EmbeddedOrchestrator) -> None:
    host = frozen.orchestrator.host
    host.step()
    with frozen.client() as client:
        table = client.cluster_table()
    with host.lock:
        expected = host.world.clusters.copy()
        spend = float(host.world.observers["cost_per_hour"].sum())
    assert table.tick == host.tick and len(table.rows) == len(expected) > 0
    assert not table.rows.flags.writeable
    for name in cluster_table.CLUSTER_WIRE_DTYPE.names or ():
        if name != "flags":
            np.testing.assert_array_equal(table.rows[name], expected[name], err_msg=name)
    np.testing.assert_array_equal(table.rows["flags"] & cluster_table.FLAG_DETECTED != 0, expected["detected"])
    assert table.spend_per_hour == pytest.approx(spend)
    s = host.scenario
    assert table.tick_hours == s.tick_hours
    assert table.reward_weights == (s.reward.information_gain, s.reward.cost, s.reward.coverage)


def test_an_adversarial_worlds_table_has_the_evaders_last_moves_and_the_activation_tallies() -> None:
    from scythe_desktop.orchestrator.world_host import EVADER_WINDOW_TICKS, evader_moves

    handle = start_embedded("adversarial", 5, tick_hz=FROZEN_HZ, policy="none")
    try:
        host = handle.orchestrator.host
        expected = []
        for _ in range(2 * EVADER_WINDOW_TICKS):
            result = host.step()
            expected += [(result.tick, *move) for move in evader_moves(host.world, result)]
        with handle.client() as client:
            table = client.cluster_table()
        assert table.evader == host.scenario.adversary.evader == "evade-when-watched"
        assert table.activations == host.world.activation_totals() and sum(table.activations) > 0
        window = [m for m in expected if m[0] > host.tick - EVADER_WINDOW_TICKS]
        assert table.evader_moves == tuple(window) and window and len(window) < len(expected)
    finally:
        handle.stop()


def test_a_world_without_an_evader_has_no_moves_in_its_table(frozen: EmbeddedOrchestrator) -> None:
    for _ in range(5):
        frozen.orchestrator.host.step()
    with frozen.client() as client:
        table = client.cluster_table()
    assert (table.evader, table.evader_moves) == ("", ())
    assert table.activations == frozen.orchestrator.host.world.activation_totals()


def _rows(n: int = 3) -> np.ndarray:
    rows = np.zeros(n, dtype=cluster_table.CLUSTER_WIRE_DTYPE)
    rows["id"] = np.arange(n)
    rows["lon"], rows["lat"] = 10.0, -5.0
    return rows


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lon", np.nan, r"row 1: lon must be in \[-180.0, 180.0\], got nan"),
        ("lat", 91.0, r"row 1: lat must be in \[-90.0, 90.0\], got 91.0"),
        ("state", 7, r"row 1: state must be in \[0, 3\], got 7"),
        ("coverage_deficit", -0.5, r"row 1: coverage_deficit"),
        ("node_count", -1, r"row 1: node_count must be >= 0"),
    ],
)
def test_a_bad_value_in_the_table_is_refused_naming_row_and_field(field: str, value: Any, message: str) -> None:
    rows = _rows()
    rows[field][1] = value
    with pytest.raises(cluster_table.ClusterTableError, match=message):
        cluster_table.decode_rows(rows.tobytes(), 3, rows.dtype.itemsize)


def test_a_table_of_another_layout_or_size_is_refused() -> None:
    data = _rows().tobytes()
    with pytest.raises(cluster_table.ClusterTableError, match=r"row_size 160 is not the scythe\.v1 cluster row layout"):
        cluster_table.decode_rows(data, 3, 160)
    with pytest.raises(cluster_table.ClusterTableError, match=r"rows holds 504 bytes, but row_count 4"):
        cluster_table.decode_rows(data, 4, 168)
    assert len(cluster_table.decode_rows(data, 3, 168)) == 3


def test_proposals_come_from_the_orchestrator_policy_and_can_be_sent(frozen: EmbeddedOrchestrator) -> None:
    with frozen.client() as client:
        got = client.propose(3)
        assert got.policy == "greedy" and 0 < len(got.proposals) <= 3
        assert got.tick == frozen.orchestrator.host.tick
        for p in got.proposals:
            assert isinstance(p, Proposal) and p.policy == "greedy" and p.explanation
            assert 0.0 <= p.confidence <= 1.0
        deploys = [p for p in got.proposals if isinstance(p.action, Deploy)]
        assert deploys, "greedy proposes deploys on a fresh tutorial world"
        action = deploys[0].action
        assert isinstance(action, Deploy)
        reply = client.deploy(action.lon, action.lat, action.observer_type or "")
        assert reply.ok, reply.reason


class CountingPolicy(Policy):
    """Deploys at the most uncertain clusters; counts its calls and can hold one open (to test locking)."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def propose(self, world: Any, limit: int = 5) -> list[Proposal]:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(60), "test never released the policy"
        table = world.clusters
        order = table["entropy"].argsort()[::-1][:limit]
        return [
            make_proposal(world, Deploy(float(r["lon"]), float(r["lat"])), float(r["entropy"]), 0.8, self.name)
            for r in table[order]
        ]


def test_many_consoles_at_one_tick_cost_one_inference(tmp_path: Path) -> None:
    policy = CountingPolicy()
    handle = start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy=policy)
    clients = [handle.client() for _ in range(6)]
    try:
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda c: c.propose(4), clients))
        assert policy.calls == 1 == handle.orchestrator.advisor.inferences
        assert len({tuple(p.target for p in a.proposals) for a in answers}) == 1
        assert len(clients[0].propose(2).proposals) == 2 and policy.calls == 1  # a shorter list: the same cache
        handle.orchestrator.host.step()  # a new world state: a new inference
        assert clients[0].propose(4).tick == answers[0].tick + 1 and policy.calls == 2
        action = answers[0].proposals[0].action
        assert isinstance(action, Deploy)
        assert clients[0].deploy(action.lon, action.lat).ok  # observers changed within the tick: stale too
        clients[0].propose(4)
        assert policy.calls == 3
    finally:
        for c in clients:
            c.close()
        handle.stop()


def test_inference_does_not_hold_the_world_so_ticks_go_on(tmp_path: Path) -> None:
    policy = CountingPolicy()
    policy.release.clear()
    handle = start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy=policy)
    host = handle.orchestrator.host
    try:
        with handle.client() as client, ThreadPoolExecutor(1) as pool:
            pending = pool.submit(client.propose, 3)
            assert policy.entered.wait(60)
            before = host.tick
            stepped = threading.Event()
            threading.Thread(target=lambda: (host.step(), stepped.set()), daemon=True).start()
            # The policy is still inside propose(); the tick must not wait for it.
            assert stepped.wait(60), "the tick waited for the policy"
            assert host.tick == before + 1 and not pending.done()
            policy.release.set()
            assert pending.result(60).tick == before  # proposals describe the world they were made on
    finally:
        policy.release.set()
        handle.stop()


class FailingPolicy(Policy):
    name = "failing"

    def propose(self, world: Any, limit: int = 5) -> list[Proposal]:
        raise RuntimeError("no network for this scenario")


def test_a_failing_or_missing_policy_is_failed_precondition_and_the_table_still_works() -> None:
    def broken_loader() -> Policy | None:
        raise FileNotFoundError("policy file not found: nowhere.pt")

    for source, reason in ((FailingPolicy(), "policy failing could not propose: RuntimeError: no network"),
                           (broken_loader, "policy could not be loaded: FileNotFoundError: policy file not found")):
        handle = start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy=source)
        try:
            with handle.client() as client:
                for _ in range(2):  # the server keeps answering, with the same reason
                    with pytest.raises(OrchestratorError) as err:
                        client.propose()
                    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION
                    assert reason in err.value.details
                assert len(client.cluster_table().rows) > 0
        finally:
            handle.stop()


def test_no_policy_answers_an_empty_list_and_a_bad_limit_is_invalid() -> None:
    handle = start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy="none")
    try:
        with handle.client() as client:
            got = client.propose()
            assert got.policy == "none" and got.proposals == ()
            with pytest.raises(OrchestratorError) as err:
                client.propose(500)
            assert err.value.code is grpc.StatusCode.INVALID_ARGUMENT and "limit must be in 0..32" in err.value.details
    finally:
        handle.stop()


def test_an_unknown_policy_name_is_refused_before_serving() -> None:
    with pytest.raises(ValueError, match=r"--policy must be 'auto', 'none' or one of .*greedy.*got 'clairvoyant'"):
        start_embedded("tutorial", 3, tick_hz=FROZEN_HZ, policy="clairvoyant")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real ``scythe serve --policy greedy`` process; yields its address and token directory."""
    tokens = tmp_path_factory.mktemp("tokens")
    env = {**os.environ, "SCYTHE_AUTH_SECRET": secrets.token_hex(32)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scythe_desktop", "serve", "--scenario", "tutorial", "--port", "0",
         "--policy", "greedy", "--tick-hz", "2", "--token-dir", str(tokens)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until it serves (or exits)
        assert line.startswith("serving tutorial on "), line
        yield line.split(" on ")[1].split(";")[0], tokens
    finally:
        proc.terminate()
        proc.wait(30)


def _remote(served: tuple[str, Path], role: str | None) -> OrchestratorClient:
    address, tokens = served
    token = (tokens / f"{role}.token").read_text().strip() if role else None
    return OrchestratorClient(
        address, grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP), refresh_token=token
    )


def test_a_remote_viewer_gets_the_table_and_proposals_from_scythe_serve(served: tuple[str, Path]) -> None:
    with _remote(served, "viewer") as viewer:
        got = viewer.propose(2)
        assert got.policy == "greedy" and 0 < len(got.proposals) <= 2
        table = viewer.cluster_table()
        assert len(table.rows) > 0 and table.tick_hours > 0
        with pytest.raises(OrchestratorError) as err:  # a viewer may look, not act
            viewer.deploy(got.proposals[0].action.lon, got.proposals[0].action.lat)  # type: ignore[union-attr]
        assert err.value.code is grpc.StatusCode.PERMISSION_DENIED
    with _remote(served, None) as anonymous, pytest.raises(OrchestratorError) as err:
        anonymous.propose()
    assert err.value.code is grpc.StatusCode.UNAUTHENTICATED


def test_policy_names_are_checked_without_loading_and_loaded_by_name() -> None:
    from scythe_desktop.engine.policies import check_policy_name, load_policy

    check_policy_name("ppo")  # known: accepted without importing torch
    check_policy_name("auto")
    with pytest.raises(ValueError, match="clairvoyant"):
        check_policy_name("clairvoyant")
    assert load_policy("none") is None
    greedy = load_policy("greedy")
    assert isinstance(greedy, Policy) and greedy.name == "greedy"
