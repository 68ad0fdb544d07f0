"""Which policy proposes actions in the console (embedded source only; see :mod:`scythe_desktop.ui.insight`).

``--policy auto`` takes the shipped PPO policy from ``resources/policies`` when the engine can load it,
else the engine's strongest baseline; ``--policy NAME`` asks the engine's policy registry for that one;
``--policy none`` runs without proposals. Unknown names are refused with the list of known ones. This
module only chooses; the policies themselves live in ``scythe_desktop.engine``.
"""

from __future__ import annotations

import importlib
from typing import Any

from scythe_desktop.ui.insight import ProposingPolicy

#: Module that provides ``make_policy(name)`` and ``POLICY_NAMES`` (the engine's policy registry).
REGISTRY_MODULE = "scythe_desktop.engine.policies.registry"
#: Preferred policies for ``auto``, best first.
AUTO_ORDER = ("ppo", "celf", "greedy")


def _registry() -> Any | None:
    try:
        return importlib.import_module(REGISTRY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != REGISTRY_MODULE:
            raise
        return None


def load_console_policy(name: str) -> ProposingPolicy | None:
    if name == "none":
        return None
    registry = _registry()
    if name == "auto":
        if registry is None:
            return None
        for candidate in AUTO_ORDER:
            if candidate in registry.POLICY_NAMES:
                try:
                    policy: ProposingPolicy = registry.make_policy(candidate)
                except (OSError, ValueError):  # e.g. the shipped PPO weights are missing: next best
                    continue
                return policy
        return None
    known = sorted(registry.POLICY_NAMES) if registry is not None else []
    if name not in known:
        raise ValueError(f"--policy must be 'auto', 'none' or one of {known}, got {name!r}")
    assert registry is not None
    chosen: ProposingPolicy = registry.make_policy(name)
    return chosen


__all__ = ["AUTO_ORDER", "load_console_policy"]
