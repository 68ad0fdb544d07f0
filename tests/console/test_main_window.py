"""The console window against a real embedded orchestrator under Xvfb (no mocks of Qt, GL or gRPC)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from scythe_desktop.engine.actions import Focus
from scythe_desktop.render.lod import LodTier
from tests.console.conftest import NearestClusterDeploys, running_qthreads

pytestmark = pytest.mark.gl


def observer_ids(window: Any) -> set[int]:
    rows = window.observers_dock.model.records
    return set() if rows is None else {int(i) for i in rows["observer_id"]}


def test_window_opens_and_streams_nodes_clusters_and_observers(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: window.frames_applied >= 3 and len(window.globe.swarm) > 0, timeout=30_000)
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    # The node visual draws exactly the swarm the frames built, and the status bar follows the stream.
    assert window.globe.nodes.count == len(window.globe.swarm)
    assert window._status_seq.text() == f"seq {window.last_seq}"
    assert window.clusters_dock.model.rowCount() == len(window.snapshot.clusters) > 0
    assert window.observers_dock.model.records is not None
    assert window.connection_dock.field("state").startswith("streaming")
    # Deltas after the keyframe keep arriving and apply.
    seq = window.last_seq
    qtbot.waitUntil(lambda: window.last_seq > seq, timeout=30_000)


def test_clusters_table_sorts_by_number_and_filters(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=30_000)
    dock = window.clusters_dock
    dock.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # nodeCount
    counts = [int(dock.proxy.index(r, 1).data()) for r in range(dock.proxy.rowCount())]
    assert counts == sorted(counts, reverse=True)
    some_id = int(window.snapshot.clusters["id"][0])
    dock.filter.setText("no cluster is called this")
    assert dock.proxy.rowCount() == 0
    assert dock.select_cluster(some_id)  # picking clears a filter that hides the pick
    assert int(dock.selected_cluster()["id"]) == some_id
    assert f"cluster {some_id}:" in dock.details.text()


def test_confirming_a_proposal_deploys_an_observer_through_the_orchestrator(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0 and window.frames_applied > 0, timeout=30_000)
    before = observer_ids(window)
    window.decisions_dock.table.selectRow(0)
    proposal = window.decisions_dock.selected_proposal()
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000) as logged:
        qtbot.mouseClick(window.decisions_dock.confirm_button, Qt.MouseButton.LeftButton)
    assert logged.args[0] == "confirmed" and logged.args[1].startswith("ok"), logged.args
    # The new observer arrives through the orchestrator's stream, and the audit trail shows the decision.
    qtbot.waitUntil(lambda: len(observer_ids(window) - before) == 1, timeout=30_000)
    new_id = (observer_ids(window) - before).pop()
    assert f"observer {new_id}" in logged.args[1]
    decision, kind, target, outcome = window.decisions_dock.history_rows()[-1][1:]
    assert (decision, kind, target) == ("confirmed", "deploy", proposal.target) and outcome.startswith("ok")
    # And the orchestrator itself lists it (asked through a fresh client, not the window).
    with window.connection.embedded.client() as client:
        listed = {o.observer_id for o in client.list_observers().observers}
    assert new_id in listed


def test_rejected_proposal_is_logged_and_not_sent(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0, timeout=30_000)
    window.decisions_dock.table.selectRow(0)
    proposal = window.decisions_dock.selected_proposal()
    before = observer_ids(window)
    window.reject_action.trigger()  # the Ctrl+Backspace action
    assert window.decisions_dock.history_rows()[-1][1:3] == ("rejected", "deploy")
    assert proposal not in window.decisions_dock.proposals
    # Later snapshots do not bring the rejected action back.
    generation = window.snapshot.generation
    qtbot.waitUntil(lambda: window.snapshot.generation > generation + 1, timeout=30_000)
    assert proposal.action not in {p.action for p in window.decisions_dock.proposals}
    assert observer_ids(window) == before


def test_automate_mode_never_exceeds_its_guardrails(make_window: Any, qtbot: Any) -> None:
    from scythe_desktop.console.model.automate import AutomateLimits

    cost = 2.0
    window = make_window(policy=NearestClusterDeploys(cost_per_hour=cost, low_confidence_first=True))
    qtbot.waitUntil(lambda: window.observers_dock.model.records is not None and window.snapshot is not None,
                    timeout=30_000)
    with window.connection.embedded.client() as client:
        start_spend = client.world_info().spend_per_hour
    budget = start_spend + 2.5 * cost  # room for two deploys, not three
    window.decisions_dock.set_limits(AutomateLimits(budget_per_hour=budget, max_deploys_per_minute=5,
                                                    min_confidence=0.5))
    sent: list[Any] = []
    window.actionSent.connect(lambda decision, proposal: sent.append((decision, proposal)))
    window.automate_action.trigger()
    assert window.decisions_dock.automate.isChecked()

    def automated() -> list[tuple[str, ...]]:
        return [r for r in window.decisions_dock.history_rows() if r[1] == "automated"]

    qtbot.waitUntil(lambda: len(automated()) >= 2, timeout=60_000)
    qtbot.waitUntil(lambda: "budget_per_hour" in window.decisions_dock.automate_status.text(), timeout=60_000)
    generation = window.snapshot.generation
    qtbot.waitUntil(lambda: window.snapshot.generation >= generation + 2, timeout=30_000)
    assert len(automated()) == 2
    assert all(r[4].startswith("ok") for r in automated())
    with window.connection.embedded.client() as client:
        spend = client.world_info().spend_per_hour
    assert spend <= budget
    # Exactly those two went out, and the low-confidence proposal (always ranked first) never did.
    assert [d for d, _ in sent] == ["automated", "automated"]
    assert all(p.confidence >= 0.5 for _, p in sent)


def test_automate_on_the_default_world_acts_in_its_first_simulated_hour(make_window: Any, qtbot: Any) -> None:
    """The shipped brain on the default world, Automate at its default limits (minimum confidence 0.5: "more
    likely than not to beat waiting"): at least two automated actions before the world's tick 60 (an hour)."""
    import inspect

    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.console.model.automate import AutomateLimits

    app_rate = inspect.signature(start_embedded).parameters["tick_hz"].default  # what `scythe` runs at
    window = make_window(policy="auto", scenario="regional", embedded_options={"tick_hz": app_rate})
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=60_000)
    assert window.decisions_dock.limits().min_confidence == AutomateLimits().min_confidence == 0.5
    window.decisions_dock.automate.setChecked(True)

    def automated() -> list[tuple[str, ...]]:
        return [r for r in window.decisions_dock.history_rows() if r[1] == "automated" and r[4].startswith("ok")]

    qtbot.waitUntil(lambda: len(automated()) >= 2, timeout=120_000)
    with window.connection.embedded.client() as client:
        tick = client.world_info().tick
    from scythe_desktop.engine.scenario import load_scenario

    ticks_per_hour = 3600.0 / load_scenario("regional").tick_seconds
    assert tick <= ticks_per_hour, f"two automated actions took until tick {tick}"


def test_automate_respects_the_deploy_rate(make_window: Any, qtbot: Any) -> None:
    from scythe_desktop.console.model.automate import AutomateLimits

    window = make_window(policy=NearestClusterDeploys(cost_per_hour=0.5))
    qtbot.waitUntil(lambda: window.snapshot is not None and window.observers_dock.model.records is not None,
                    timeout=30_000)
    window.decisions_dock.set_limits(AutomateLimits(budget_per_hour=1e6, max_deploys_per_minute=1,
                                                    min_confidence=0.0))
    window.decisions_dock.automate.setChecked(True)
    qtbot.waitUntil(lambda: "max_deploys_per_minute" in window.decisions_dock.automate_status.text(),
                    timeout=60_000)
    sent = [r for r in window.decisions_dock.history_rows() if r[1] == "automated"]
    assert len(sent) == 1


def test_a_refused_action_is_shown_and_the_console_keeps_streaming(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=None)
    qtbot.waitUntil(lambda: bool(observer_ids(window)) or window.frames_applied > 2, timeout=30_000)
    oid = min(observer_ids(window)) if observer_ids(window) else 0
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000) as logged:
        window.request_action(Focus(oid, 987_654))  # no such cluster (or no such observer)
    assert logged.args[1].startswith("refused:"), logged.args
    assert "refused" in window.statusBar().currentMessage()
    seq = window.last_seq
    qtbot.waitUntil(lambda: window.last_seq > seq, timeout=30_000)


def test_picking_a_cluster_on_the_globe_selects_it(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=None)
    qtbot.waitUntil(lambda: window.snapshot is not None and window.frames_applied > 0, timeout=30_000)
    row = window.snapshot.clusters[np.argmax(window.snapshot.clusters["node_count"])]
    window.fly_to(float(row["lon"]), float(row["lat"]))
    from scythe_desktop.core.layout import lonlat_to_unit

    centre = lonlat_to_unit(float(row["lon"]), float(row["lat"]))[None, :]
    x, y = window.scene.world_to_canvas(window.globe.nodes, centre)[0]
    window.pick_at(float(x) + 2.0, float(y) - 1.0)
    assert int(window.clusters_dock.selected_cluster()["id"]) == int(row["id"])
    # The selected cluster becomes the observers dock's focus and relocation target.
    assert window.observers_dock.lon.value() == pytest.approx(float(row["lon"]), abs=0.01)


def test_settings_persist_automate_limits_and_overlay(make_window: Any, qtbot: Any) -> None:
    from scythe_desktop.console.model.automate import AutomateLimits

    window = make_window(policy=None, start=False)
    window.decisions_dock.set_limits(AutomateLimits(budget_per_hour=12.5, max_deploys_per_minute=3,
                                                    min_confidence=0.7))
    window.set_overlay("coverage")
    window.set_volume_visible(True)
    window.close()
    again = make_window(policy=None, start=False)
    limits = again.decisions_dock.limits()
    assert (limits.budget_per_hour, limits.max_deploys_per_minute, limits.min_confidence) == (12.5, 3, 0.7)
    assert again.overlay == "coverage" and again.volume_action.isChecked()


def test_closing_the_window_stops_every_worker(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: window.frames_applied > 0 and window.snapshot is not None, timeout=30_000)
    assert running_qthreads()  # stream, insight and action threads are up
    window.close()
    assert running_qthreads() == []
    assert window.connection.embedded is None  # the embedded orchestrator was stopped too


def test_the_engine_policy_proposals_appear_in_the_dock_and_as_ghosts(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy="greedy")
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0, timeout=30_000)
    proposals = window.decisions_dock.proposals
    table = window.decisions_dock.table
    assert table.rowCount() == len(proposals)
    assert table.item(0, 5).text() == proposals[0].explanation != ""
    assert table.item(0, 4).text() == f"{proposals[0].confidence:.2f}"
    assert len(window.globe.proposal_overlay.proposals) == len(proposals)
    # Ghost cones are translucent; the globe must still be drawn under them frame after frame.
    from scythe_desktop.render.globe import OCEAN_RGBA

    ocean = np.array(OCEAN_RGBA[:3]) * 255
    for _ in range(2):
        image = window.scene.render_offscreen()[..., :3].astype(float)
    assert (np.abs(image - ocean).sum(axis=-1) < 30).mean() > 0.05


def test_coverage_overlay_and_volume_field_are_fetched_in_a_worker_and_shown(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=None)
    qtbot.waitUntil(lambda: window.frames_applied > 0, timeout=30_000)
    window.overlay_actions["coverage"].trigger()  # the C key's action
    window.volume_action.trigger()
    qtbot.waitUntil(lambda: window.globe.grids.active == "coverage", timeout=30_000)
    qtbot.waitUntil(lambda: window.globe.volume.visible, timeout=30_000)
    assert window.overlay == "coverage"
    window.overlay_actions["none"].trigger()
    window.volume_action.trigger()
    assert window.globe.grids.active is None and not window.globe.volume.visible


def test_the_volume_box_matches_the_engine_field_extent() -> None:
    from scythe_desktop.console.adapters.globe_view import FIELD_EXTENT
    from scythe_desktop.engine.fields import EXTENT

    assert FIELD_EXTENT == EXTENT


def test_observer_actions_from_the_dock_go_through_the_orchestrator(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0 and window.frames_applied > 0, timeout=30_000)
    before = observer_ids(window)
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000):
        window.confirm(window.decisions_dock.proposals[0])
    qtbot.waitUntil(lambda: len(observer_ids(window) - before) == 1, timeout=30_000)
    oid = (observer_ids(window) - before).pop()
    dock = window.observers_dock
    assert dock.select_observer(oid)
    assert [o.selected for o in window.globe.observer_overlay.observers if o.id == str(oid)] == [True]

    def sampling() -> float:
        rows = dock.model.records
        return float(rows["sampling_rate"][rows["observer_id"] == oid][0])

    rate = sampling()
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000) as logged:
        qtbot.mouseClick(dock.sampling_button, Qt.MouseButton.LeftButton)
    assert logged.args[0] == "operator" and logged.args[1].startswith(f"ok (observer {oid}"), logged.args
    qtbot.waitUntil(lambda: sampling() > rate, timeout=30_000)

    dock.select_observer(oid)
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000) as logged:
        qtbot.mouseClick(dock.decommission_button, Qt.MouseButton.LeftButton)
    assert logged.args[1].startswith("ok"), logged.args
    qtbot.waitUntil(lambda: oid not in observer_ids(window), timeout=30_000)
    kinds = [row[2] for row in window.decisions_dock.history_rows()]
    assert kinds[-2:] == ["increase-sampling", "decommission"]


def test_software_gl_draws_a_budgeted_subsample_unless_every_node_is_asked_for(make_window: Any, qtbot: Any) -> None:
    from scythe_desktop.console.main_window import SOFTWARE_GL_NODE_BUDGET

    window = make_window(policy=None, scenario="regional")
    qtbot.waitUntil(lambda: window.frames_applied > 0 and len(window.globe.swarm) > 0, timeout=60_000)
    assert window.software_gl, window.renderer  # Xvfb + Mesa here
    n = len(window.globe.swarm)
    assert n > SOFTWARE_GL_NODE_BUDGET  # the regional world is bigger than the budget
    assert window.globe.draw_stride > 1 and window.globe.nodes.count <= SOFTWARE_GL_NODE_BUDGET + 1
    assert f"drawing 1 in {window.globe.draw_stride}" in window._status_nodes.text()
    window.all_nodes_action.trigger()
    globe = window.globe
    assert globe.draw_stride == 1
    # Every node, except those of clusters whose LOD tier is FIELD_ONLY (a centroid marker stands for them).
    lod = globe.lod
    hidden = (lod.cluster_of_row >= 0) & (lod.tiers[np.maximum(lod.cluster_of_row, 0)] == LodTier.FIELD_ONLY)
    assert globe.nodes.count == len(globe.swarm) - int(hidden.sum())


def test_gradient_drift_arrows_toggle_with_g(make_window: Any, qtbot: Any) -> None:
    window = make_window(policy=NearestClusterDeploys())
    qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0, timeout=30_000)
    with qtbot.waitSignal(window.decisionLogged, timeout=30_000):
        window.confirm(window.decisions_dock.proposals[0])
    qtbot.waitUntil(lambda: window.snapshot is not None and len(window.snapshot.drift) > 0, timeout=30_000)
    window.drift_action.trigger()
    assert window.globe.drift_arrows.visible
    window.drift_action.trigger()
    assert not window.globe.drift_arrows.visible


def test_a_remote_grpc_source_shows_clusters_metrics_and_proposals(make_window: Any, qtbot: Any) -> None:
    """The same client-based insight serves a grpc:// source: the remote orchestrator runs the policy."""
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.orchestrator import auth

    remote = start_embedded("tutorial", 5, tick_hz=10.0, policy=NearestClusterDeploys())
    window = None
    try:
        token = remote.orchestrator.issue_refresh_token("remote-viewer", auth.VIEWER)
        port = remote.target.rsplit(":", 1)[1]
        window = make_window(f"grpc://127.0.0.1:{port}", token=token)
        qtbot.waitUntil(lambda: len(window.decisions_dock.proposals) > 0, timeout=30_000)
        with remote.orchestrator.host.lock:
            ids = set(remote.orchestrator.host.world.clusters["id"].tolist())
        rows = window.clusters_dock.model.records
        assert rows is not None and set(rows["id"].tolist()) == ids
        assert all(p.policy == "test-nearest-cluster" for p in window.decisions_dock.proposals)
        assert len(window.globe.proposal_overlay.proposals) == len(window.decisions_dock.proposals)
        assert window.metrics_dock.plot.samples > 0
        assert np.isfinite(window.metrics_dock.plot.latest("total entropy"))
    finally:
        if window is not None:
            window.shutdown()  # before the server goes, so the window's workers end on a live server
        remote.stop()
