"""World snapshots for the console through the orchestrator client (no Qt, no world access in the code under test)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from scythe_desktop.client.embedded import EmbeddedOrchestrator, start_embedded
from scythe_desktop.console.insight import DRIFT_DEG, ClientInsight, drift_from_grid
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.render.lod import lod_tiers

#: No tick runs unless a test steps the host.
FROZEN_HZ = 1e-4


@pytest.fixture
def embedded() -> Iterator[EmbeddedOrchestrator]:
    handle = start_embedded("tutorial", 2, tick_hz=FROZEN_HZ, policy="greedy")
    yield handle
    handle.stop()


def test_snapshot_has_the_cluster_table_with_lod_tiers_proposals_and_metrics(embedded: EmbeddedOrchestrator) -> None:
    insight = ClientInsight(embedded.client)
    first = insight.snapshot(1)
    with embedded.orchestrator.host.lock:
        ids = embedded.orchestrator.host.world.clusters["id"].copy()
    np.testing.assert_array_equal(first.clusters["id"], ids)
    assert not first.clusters.flags.writeable
    np.testing.assert_array_equal(first.clusters["lod"], lod_tiers(first.clusters["node_count"]))
    assert first.proposals and all(p.explanation and p.policy == "greedy" for p in first.proposals)
    assert {"total entropy", "coverage", "cost/hour"} <= set(first.metrics)
    assert first.metrics["total entropy"] == pytest.approx(float(first.clusters["entropy"].sum()))
    embedded.orchestrator.host.step()  # one more tick: now the per-tick metrics exist
    second = insight.snapshot(2)
    assert {"reward", "info gain per $"} <= set(second.metrics)
    assert second.tick == first.tick + 1


class FailingPolicy(Policy):
    name = "failing"

    def propose(self, world: object, limit: int = 5) -> list:  # type: ignore[override]
        raise RuntimeError("no network for this scenario")


def test_a_failing_policy_still_leaves_the_cluster_table_and_says_why() -> None:
    handle = start_embedded("tutorial", 2, tick_hz=FROZEN_HZ, policy=FailingPolicy())
    try:
        snap = ClientInsight(handle.client).snapshot(1)
    finally:
        handle.stop()
    assert snap.proposals == () and len(snap.clusters) > 0
    assert "policy failing could not propose" in snap.problem and "no network" in snap.problem


def test_drift_from_a_grid_points_up_its_slope_in_the_wire_layout() -> None:
    h, w = 18, 36
    lat = 90.0 - (np.arange(h) + 0.5) * 10.0
    lon = -180.0 + (np.arange(w) + 0.5) * 10.0
    north_up = np.broadcast_to(lat[:, None], (h, w))  # grows toward row 0, the north edge
    east_up = np.broadcast_to(np.sin(np.radians(lon))[None, :], (h, w))  # grows eastward near lon 0
    d = drift_from_grid(north_up, np.array([10.0]), np.array([20.0]))
    np.testing.assert_allclose(d[0], (10.0, 20.0, 0.0, DRIFT_DEG), atol=1e-9)
    d = drift_from_grid(east_up, np.array([0.0, 179.0]), np.array([0.0, 0.0]))
    assert d[0, 2] == pytest.approx(DRIFT_DEG) and abs(d[0, 3]) < 1e-9
    assert d[1, 2] < 0  # past lon 90 the sine falls: the arrow turns west, across the wrap too
    assert drift_from_grid(north_up, np.zeros(0), np.zeros(0)).shape == (0, 4)


def test_drift_arrows_follow_the_uncertainty_gradient_at_each_observer(embedded: EmbeddedOrchestrator) -> None:
    host = embedded.orchestrator.host
    with host.lock:
        rows = host.world.clusters[:2].copy()
    with embedded.client() as client:
        for row in rows:
            reply = client.deploy(float(row["lon"]) + 1.0, float(row["lat"]))
            assert reply.ok, reply.reason
    snap = ClientInsight(embedded.client).snapshot(1)
    with host.lock:
        observers = host.world.observers.copy()
        expected = [host.world.uncertainty_gradient(float(o["lon"]), float(o["lat"])) for o in observers]
    assert snap.drift.shape == (len(observers), 4) and len(observers) >= 2
    for (lon, lat, d_lon, d_lat), o, g in zip(snap.drift, observers, expected, strict=True):
        assert (lon, lat) == pytest.approx((float(o["lon"]), float(o["lat"])))
        assert np.hypot(d_lon, d_lat) == pytest.approx(DRIFT_DEG)
        # From the 1° wire grid the direction matches the world's own gradient closely.
        cosine = (d_lon * g[0] + d_lat * g[1]) / (DRIFT_DEG * np.hypot(*g))
        assert cosine > 0.9


def test_an_orchestrator_without_the_table_rpc_is_said_once_then_left_alone() -> None:
    """An older scythe.v1 server (here: one that implements only the stream) answers UNIMPLEMENTED."""
    from concurrent import futures

    import grpc

    from scythe_desktop.client.grpc_client import OrchestratorClient

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_secure_port("127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP))
    server.start()
    made: list[OrchestratorClient] = []

    def make() -> OrchestratorClient:
        made.append(OrchestratorClient(f"127.0.0.1:{port}",
                                       grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)))
        return made[-1]

    try:
        insight = ClientInsight(make)
        first = insight.snapshot(1)
        assert "offers no GetClusterTable" in first.problem and len(first.clusters) == 0
        second = insight.snapshot(2)
        assert second.problem == "" and second.proposals == () and len(made) == 1
    finally:
        for c in made:
            c.close()
        server.stop(None)
