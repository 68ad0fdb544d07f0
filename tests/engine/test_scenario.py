"""Scenario files: the shipped ones load, and a bad one names its file, key and the expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from scythe_desktop.engine.scenario import ScenarioError, load_scenario, parse_scenario, shipped_scenarios
from scythe_desktop.engine.world import World
from tests.engine.scripted import TUTORIAL, scripted_text


def test_three_shipped_scenarios_load_with_their_sizes() -> None:
    assert {"tutorial", "regional", "global"} <= set(shipped_scenarios())
    tutorial = load_scenario("tutorial")
    regional = load_scenario("regional")
    assert tutorial.clusters.count == 5
    assert regional.clusters.count == 50
    assert load_scenario("global").clusters.count == 200
    assert tutorial.constraints.default_observer_type == "probe"
    assert tutorial.tick_hours == pytest.approx(1 / 60)


def test_regional_world_has_about_twenty_thousand_nodes() -> None:
    total = int(World("regional", seed=0, emit_nodes=False).clusters["node_count"].sum())
    assert 12_000 <= total <= 35_000


def test_global_world_has_at_least_a_million_nodes_in_clusters_of_very_different_sizes() -> None:
    counts = World("global", seed=0, emit_nodes=False).clusters["node_count"]
    assert counts.sum() >= 1_000_000
    # Heavy-tailed sizes: the largest cluster has tens of times the nodes of the smallest.
    assert counts.max() > 5_000 and counts.max() > 20 * counts.min()


def test_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(TUTORIAL, encoding="utf-8")
    assert load_scenario(path).name == "tutorial"


@pytest.mark.parametrize(
    ("text", "key", "expectation"),
    [
        (scripted_text(p_quiet=1.5), "dynamics.p_quiet", "[0, 1]"),
        (scripted_text(count="five"), "clusters.count", "integer"),
        (
            TUTORIAL.replace('name = "probe"\ncoverage_radius_km = 900.0\n', 'name = "probe"\n'),
            "observer_types[0].coverage_radius_km",
            "finite number",
        ),
        (
            TUTORIAL.replace('forbidden_regions = ["arctic"]', 'forbidden_regions = ["atlantis"]'),
            "constraints.forbidden_regions",
            "unknown 'atlantis'",
        ),
        (TUTORIAL.replace("[belief]", "[beliefs]"), "belief", "expected a table"),
        (TUTORIAL.replace("lat = [66.0, 85.0]", "lat = [85.0, 66.0]"), "regions[3].lat", "min < max"),
        (TUTORIAL + "\n[oops\n", "<syntax>", "valid TOML"),
    ],
)
def test_bad_scenario_error_names_file_key_and_expectation(text: str, key: str, expectation: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "bad.toml")
    err = info.value
    assert err.source == "bad.toml"
    assert err.key == key
    assert expectation in err.expectation
    assert "bad.toml" in str(err) and key in str(err)


def test_bad_scenario_file_on_disk_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(scripted_text(budget_per_hour=-3.0), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.toml: \[constraints\.budget_per_hour\]"):
        load_scenario(path)


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="tutorial"):
        load_scenario("no-such-scenario")
