"""scythe compare: two hand-made recordings with known differences, and a real branch against its parent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scythe_desktop.cli import main
from scythe_desktop.engine.actions import Decommission, Deploy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.recording.compare import SERIES, compare, load_series, table
from scythe_desktop.recording.reader import RecordingError
from scythe_desktop.recording.writer import Recorder, decision_message

NS = 1_000_000_000
METRICS = [metric for _, metric in SERIES]


def _proposal(action: Deploy | Decommission) -> Proposal:
    return Proposal(action, "t", 1.0, 2.0, 0.5, "why", "hand")


def _write(path: Path, values: dict[str, list[float]], decisions: list[tuple[int, Deploy | Decommission, str]]) -> Path:
    """A recording with one metrics message per tick (5 Hz) and the given decisions."""
    with Recorder(path, metadata={"source": "test", "tick_hz": "5"}) as rec:
        for i in range(len(values[METRICS[0]])):
            for tick, action, outcome in decisions:
                if tick == i:
                    rec.write_decision(decision_message(_proposal(action), who="test", outcome=outcome, tick=tick),
                                       tick * NS // 5)
            rec.write_metrics(i + 1, {m: values[m][i] for m in METRICS}, (i + 1) * NS // 5)
    return path


def test_compare_finds_the_divergence_the_deltas_and_the_differing_decisions(tmp_path: Path) -> None:
    n = 50
    base = {m: list(np.arange(n, dtype=float) * (k + 1)) for k, m in enumerate(METRICS)}
    other = {m: list(v) for m, v in base.items()}
    for i in range(20, n):  # from tick 21 on, B has 3 more bits and costs 1 $ less
        other["information_gain_total"][i] += 3.0
        other["cost_total"][i] -= 1.0
    deploy, retire = Deploy(1.0, 2.0, "probe"), Decommission(4)
    a = _write(tmp_path / "a.mcap", base, [(5, deploy, "auto-applied"), (20, retire, "auto-applied")])
    b = _write(tmp_path / "b.mcap", other, [(5, deploy, "auto-applied"), (20, retire, "rejected")])
    c = compare(load_series(a), load_series(b))
    assert c.divergence_tick == 21
    np.testing.assert_array_equal(c.delta("information_gain_total"), [0.0] * 20 + [3.0] * 30)
    np.testing.assert_array_equal(c.delta("cost_total"), [0.0] * 20 + [-1.0] * 30)
    assert not c.delta("seed_reward_total").any()
    assert [(d.tick, d.a, d.b) for d in c.decision_differences] == [(20, ("decommission t",), ())]
    text = table(c)
    assert "diverge at 4.2s (tick 21)" in text and "decisions that differ: 1" in text
    assert "+3.0" in text and "-1.0" in text


def test_identical_recordings_never_diverge(tmp_path: Path) -> None:
    values = {m: [float(i) for i in range(10)] for m in METRICS}
    a, b = _write(tmp_path / "a.mcap", values, []), _write(tmp_path / "b.mcap", values, [])
    c = compare(load_series(a), load_series(b))
    assert c.divergence_tick is None and not c.decision_differences
    assert "never diverge over 10 common ticks" in table(c)


def test_a_recording_without_the_running_totals_is_named(tmp_path: Path) -> None:
    path = tmp_path / "live.mcap"
    with Recorder(path, metadata={"source": "live"}) as rec:
        rec.write_metrics(1, {"entropy_total": 3.0}, NS)
    with pytest.raises(RecordingError, match=r"live.mcap: its metrics lack information_gain_total"):
        load_series(path)


def test_scythe_compare_prints_json_and_draws_the_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = {m: [float(i) for i in range(10)] for m in METRICS}
    bumped = {m: [v + (5.0 if i >= 4 else 0.0) for i, v in enumerate(vs)] for m, vs in values.items()}
    a, b = _write(tmp_path / "a.mcap", values, []), _write(tmp_path / "b.mcap", bumped, [])
    png = tmp_path / "cmp.png"
    assert main(["compare", str(a), str(b), "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["divergence_tick"] == 5 and out["final"]["seed_reward_total"] == {"a": 9.0, "b": 14.0}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", str(a), str(tmp_path / "missing.mcap")]) == 2
    assert "cannot open" in capsys.readouterr().err
