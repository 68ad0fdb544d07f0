"""Item 14: a saved world remembers its scenario's fingerprint; a restart on an edited scenario is refused with
a message saying how to go on (layout and comment edits are not changes)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scythe_desktop.engine.scenario import SCENARIO_DIR, load_scenario
from scythe_desktop.orchestrator.hub import FrameHub
from scythe_desktop.orchestrator.store import StateStore
from scythe_desktop.orchestrator.world_host import StateMismatch, WorldHost

TUTORIAL = (SCENARIO_DIR / "tutorial.toml").read_text()


def _save_world(scenario_path: Path, state: Path) -> None:
    store = StateStore(state)
    host = WorldHost(load_scenario(scenario_path), 4, FrameHub(), store=store)
    host.step()
    host.checkpoint()
    store.close()


def _restore(scenario_path: Path, state: Path) -> WorldHost:
    store = StateStore(state)
    try:
        return WorldHost(load_scenario(scenario_path), 4, FrameHub(), store=store)
    finally:
        store.close()


def test_an_edited_cost_is_refused_and_a_comment_is_not(tmp_path: Path) -> None:
    scenario, state = tmp_path / "tutorial.toml", tmp_path / "orchestrator.sqlite"
    scenario.write_text(TUTORIAL)
    _save_world(scenario, state)
    scenario.write_text("# a note\n\n" + TUTORIAL)
    assert _restore(scenario, state).tick == 1
    scenario.write_text(TUTORIAL.replace("cost_per_hour = ", "cost_per_hour = 1", 1))
    with pytest.raises(StateMismatch) as info:
        _restore(scenario, state)
    message = str(info.value)
    assert "has changed" in message and "put the scenario back" in message and "another --state" in message


def test_state_saved_before_fingerprints_is_adopted(tmp_path: Path) -> None:
    scenario, state = tmp_path / "tutorial.toml", tmp_path / "orchestrator.sqlite"
    scenario.write_text(TUTORIAL)
    _save_world(scenario, state)
    store = StateStore(state)
    store._db.execute("DELETE FROM meta WHERE key = 'scenario_fingerprint'")  # as an older version left it
    store.close()
    host = _restore(scenario, state)
    assert host.checkpoint_meta()["scenario_fingerprint"] == load_scenario(scenario).fingerprint()


def _serve(scenario: Path, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scythe_desktop", "serve", "--scenario", str(scenario), "--port", "0",
         "--state", str(state), "--policy", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_serve_refuses_to_start_on_an_edited_scenario(tmp_path: Path) -> None:
    scenario, state = tmp_path / "tutorial.toml", tmp_path / "state"
    scenario.write_text(TUTORIAL)
    first = _serve(scenario, state)
    assert first.stdout is not None and first.stdout.readline().startswith("serving")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    scenario.write_text(TUTORIAL.replace("max_instances = ", "max_instances = 1", 1))
    second = _serve(scenario, state)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2, err
    assert "has changed since the world" in err and "Traceback" not in err
