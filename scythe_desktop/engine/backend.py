"""Which array library computes the engine's torch-optional parts: the volume fields and the policy network.

The desktop build has torch; the field-laptop build ships without it. Both parts have a ``torch`` and a
``numpy`` implementation that agree within the tolerances their modules state, and take ``backend="auto"``
by default: torch when it is installed (so a desktop keeps today's numbers), numpy otherwise. Whether torch
is installed is asked of the import system (:func:`importlib.util.find_spec`) without importing it, which
costs seconds; a ``sys.modules["torch"] = None`` entry (how the tests hide torch) counts as absent.
"""

from __future__ import annotations

import importlib.util
from typing import Final, Literal

Backend = Literal["torch", "numpy"]
#: What a ``backend=`` argument accepts.
BACKENDS: Final = ("auto", "torch", "numpy")
#: What running a saved SB3 network on torch imports: without either, ``auto`` is numpy for a network.
TORCH_STACK: Final = ("torch", "sb3_contrib")


class BackendUnavailable(ImportError, ValueError):
    """A backend (or a policy that has only the torch one) asked for where torch is not installed. An
    ImportError, which is what it is, and a ValueError, so that the CLIs, which refuse a bad ``--policy`` in
    one line by catching ValueError, refuse this the same way instead of printing a traceback."""


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a module hidden as None is not)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a hidden parent package, or a half-initialised module
        return False


def torch_available() -> bool:
    """Whether torch is installed (see the module docstring)."""
    return available("torch")


def resolve_backend(backend: str, needs: tuple[str, ...] = ("torch",)) -> Backend:
    """``backend`` made concrete: ``auto`` is torch when every module of ``needs`` is installed, else numpy.
    Asking for ``torch`` where one of them is missing is :class:`BackendUnavailable` naming it, not a crash
    later on."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    missing = [m for m in needs if not available(m)]
    if backend == "auto":
        return "numpy" if missing else "torch"
    if backend == "torch" and missing:
        raise BackendUnavailable(f"backend 'torch' needs {', '.join(missing)}, which this installation does not have; "
                          "use backend 'numpy' (or 'auto')")
    return "torch" if backend == "torch" else "numpy"


__all__ = ["BACKENDS", "Backend", "BackendUnavailable", "available", "resolve_backend", "torch_available"]
