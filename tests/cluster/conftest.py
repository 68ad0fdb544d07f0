"""A real two-node Ray cluster on loopback (``ray start --head`` and ``ray start --address``, one CPU each,
temp directories under the test's tmp path), stopped by the PIDs it started."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scythe_desktop.cluster.local import LocalCluster

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


@pytest.fixture(scope="session")
def token(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One auth token for every cluster of the session: a process keeps the first token it used."""
    return tmp_path_factory.mktemp("token") / "auth_token"


@contextlib.contextmanager
def running(root: Path, token: Path) -> Iterator[LocalCluster]:
    """The cluster, with its token in this process's environment (so drivers and CLI children join it)."""
    saved = dict(os.environ)
    with LocalCluster(root, workers=1, token=token) as c:
        os.environ.update(c.env)
        try:
            yield c
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, token: Path) -> Iterator[LocalCluster]:
    """Shared by a module's tests that leave every node alive."""
    with running(tmp_path_factory.mktemp("r"), token) as c:
        yield c


@pytest.fixture
def doomed_cluster(tmp_path_factory: pytest.TempPathFactory, token: Path) -> Iterator[LocalCluster]:
    """A cluster of its own for a test that kills a node (a short path: Ray's sockets live under it)."""
    with running(tmp_path_factory.mktemp("r"), token) as c:
        yield c


@pytest.fixture
def joined() -> Iterator[None]:
    """Leaves this process off any cluster after the test (one process joins one cluster at a time)."""
    yield
    from scythe_desktop.cluster.connect import disconnect

    disconnect()
