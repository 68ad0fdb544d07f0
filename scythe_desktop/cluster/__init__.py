"""Scale-out on a Ray cluster (the optional ``cluster`` extra): sweeps with Ray Tune, evaluations fanned out as
Ray tasks, single training runs submitted to the cluster.

Nothing outside this package and the CLI commands that use it (``scythe sweep``, ``scythe evaluate --ray``,
``scythe train --ray``, ``scythe bench cluster``) imports Ray: the console, the orchestrator and the bundle
never do (an import contract and a test hold that). Every entry point calls :func:`require_ray` first, so a
machine without the extra gets one line saying what to install.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Final

#: The pinned Ray of the ``cluster`` extra (pyproject.toml).
RAY_VERSION: Final = "2.60.0"
INSTALL_HINT: Final = f"Ray is not installed: pip install -e '.[cluster]' (ray[default,tune]=={RAY_VERSION})"


class ClusterError(RuntimeError):
    """A cluster command cannot run: the message says why, in one line."""


def ray_available() -> bool:
    try:
        return importlib.util.find_spec("ray") is not None
    except ValueError:  # a ray module without a spec: blocked or broken, not usable
        return False


def require_ray() -> ModuleType:
    """The ``ray`` module, or a :class:`ClusterError` with the install line."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


__all__ = ["INSTALL_HINT", "RAY_VERSION", "ClusterError", "ray_available", "require_ray"]
