"""World snapshots for the console, read from the embedded orchestrator's world (no Qt)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.net.server import EmbeddedOrchestrator, start_embedded
from scythe_desktop.render.lod import lod_tiers
from scythe_desktop.ui.insight import EmbeddedInsight
from scythe_desktop.ui.policies import load_console_policy


@pytest.fixture
def embedded() -> Iterator[EmbeddedOrchestrator]:
    handle = start_embedded("tutorial", 2, tick_hz=20.0)
    yield handle
    handle.stop()


def test_snapshot_copies_the_cluster_table_with_lod_tiers_and_metrics(embedded: EmbeddedOrchestrator) -> None:
    insight = EmbeddedInsight(embedded.orchestrator.host, load_console_policy("greedy"))
    first = insight.snapshot(1)
    assert len(first.clusters) > 0 and not first.clusters.flags.writeable
    np.testing.assert_array_equal(first.clusters["lod"], lod_tiers(first.clusters["node_count"]))
    assert first.proposals and all(p.explanation for p in first.proposals)
    assert {"total entropy", "coverage", "cost/hour"} <= set(first.metrics)
    embedded.orchestrator.host.step()  # one more tick: now the per-tick metrics exist
    second = insight.snapshot(2)
    assert {"reward", "info gain per $"} <= set(second.metrics)
    assert second.tick > first.tick


def test_a_policy_loader_runs_once_in_the_worker_and_its_failure_is_not_fatal(
    embedded: EmbeddedOrchestrator,
) -> None:
    calls: list[int] = []

    def broken_loader() -> Policy | None:
        calls.append(1)
        raise FileNotFoundError("policy file not found: nowhere.pt")

    insight = EmbeddedInsight(embedded.orchestrator.host, broken_loader)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pt"):
        insight.snapshot(1)
    later = insight.snapshot(2)  # goes on without proposals
    assert later.proposals == () and len(later.clusters) > 0
    assert calls == [1]


class FailingPolicy(Policy):
    name = "failing"

    def propose(self, world: object, limit: int = 5) -> list:  # type: ignore[override]
        raise RuntimeError("no network for this scenario")


def test_a_failing_policy_still_leaves_the_cluster_table_and_says_why(embedded: EmbeddedOrchestrator) -> None:
    snap = EmbeddedInsight(embedded.orchestrator.host, FailingPolicy()).snapshot(1)
    assert snap.proposals == () and len(snap.clusters) > 0
    assert "policy failing could not propose" in snap.problem and "no network" in snap.problem


def test_drift_arrows_follow_the_uncertainty_gradient_at_each_observer(embedded: EmbeddedOrchestrator) -> None:
    from scythe_desktop.ui.insight import DRIFT_DEG

    host = embedded.orchestrator.host
    with host.lock:
        row = host.world.clusters[0]
    with embedded.client() as client:
        reply = client.deploy(float(row["lon"]) + 1.0, float(row["lat"]))
    assert reply.ok, reply.reason
    snap = EmbeddedInsight(host, None).snapshot(1)
    with host.lock:
        observers = host.world.observers
        expected = [host.world.uncertainty_gradient(float(o["lon"]), float(o["lat"])) for o in observers]
    assert snap.drift.shape == (len(observers), 4)
    for (lon, lat, d_lon, d_lat), o, g in zip(snap.drift, observers, expected, strict=True):
        assert (lon, lat) == (float(o["lon"]), float(o["lat"]))
        if np.hypot(*g) > 0:
            assert np.hypot(d_lon, d_lat) == pytest.approx(DRIFT_DEG)
            assert np.sign(d_lon) == np.sign(g[0]) and np.sign(d_lat) == np.sign(g[1])
