"""Fixtures for console tests: a real embedded orchestrator, a real window under pytest-xvfb's X server.

``make_window`` works like napari's ``make_napari_viewer``: it builds main windows, closes every one at
teardown and then fails the test if any ``QThread`` is still running or a worker thread did not end.
Settings go to a per-test INI file, never to the user's.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal
from scythe_desktop.orchestrator.advisor import PolicySpec

#: Small, fast world for window tests.
SCENARIO = "tutorial"


class NearestClusterDeploys(Policy):
    """A real (if simple) policy: propose a deploy at each of the most uncertain clusters, best first.

    ``low_confidence_first`` puts a deliberately low-confidence proposal at the top so tests can check that
    Automate mode skips it.
    """

    name = "test-nearest-cluster"

    def __init__(self, cost_per_hour: float = 2.0, low_confidence_first: bool = False) -> None:
        self.cost = cost_per_hour
        self.low_confidence_first = low_confidence_first

    def propose(self, world: Any, limit: int = 5) -> list[Proposal]:
        table = world.clusters
        order = table["entropy"].argsort()[::-1][:limit]
        out = []
        for rank, row in enumerate(table[order]):
            lon, lat = float(row["lon"]), float(row["lat"])
            confidence = 0.2 if self.low_confidence_first and rank == 0 else 0.9
            out.append(Proposal(Deploy(lon, lat), f"probe at lon {lon:.1f}, lat {lat:.1f}",
                                float(row["entropy"]), self.cost, confidence,
                                f"cluster {int(row['id'])} is the most uncertain", self.name))
        return out


def running_qthreads() -> list[str]:
    from PySide6.QtCore import QThread

    gc.collect()
    return [t.objectName() or repr(t) for t in gc.get_objects() if issubclass(type(t), QThread) and t.isRunning()]


@pytest.fixture
def view(qapp: object) -> Iterator[Any]:
    """A :class:`~scythe_desktop.console.adapters.globe_view.GlobeView` on a small (240x180) GL scene, closed
    afterwards."""
    from scythe_desktop.render.backend import use_render_backend

    use_render_backend()
    from scythe_desktop.console.adapters.globe_view import GlobeView
    from scythe_desktop.render.scene import GlobeScene

    scene = GlobeScene(size=(240, 180))
    yield GlobeView(scene)
    scene.close()


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "scythe-test.ini"


@pytest.fixture
def make_window(qtbot: Any, settings_path: Path) -> Iterator[Callable[..., Any]]:
    from PySide6.QtCore import QSettings

    from scythe_desktop.render.backend import use_render_backend

    use_render_backend()
    from scythe_desktop.console.main_window import MainWindow
    from scythe_desktop.console.sources import SourceSpec, open_source, parse_source

    windows: list[Any] = []

    def make(source: str = "embedded", *, policy: PolicySpec = None, start: bool = True,
             embedded_options: dict[str, Any] | None = None, token: str | None = None, scenario: str = SCENARIO,
             canvas_size: tuple[int, int] = (480, 360)) -> Any:
        spec: SourceSpec = parse_source(source)
        connection = open_source(spec, scenario=scenario, seed=3, policy=policy, token=token,
                                 embedded_options={"tick_hz": 10.0, **(embedded_options or {})})
        settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        window = MainWindow(connection, settings, canvas_size=canvas_size)
        windows.append(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        if start:
            window.start()
        return window

    yield make
    for window in windows:
        window.close()
        window.shutdown()
        window.deleteLater()
    leftover = running_qthreads()
    if leftover:
        pytest.fail(f"test left QThreads running: {leftover}")
