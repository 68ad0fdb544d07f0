"""Fixtures for GL tests: a small offscreen GlobeScene on the Xvfb display that pytest-xvfb starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def globe_scene() -> Iterator[object]:
    from scythe_desktop.render.scene import GlobeScene

    scene = GlobeScene(size=(200, 160), bgcolor="black")
    yield scene
    scene.close()
