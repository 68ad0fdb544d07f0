"""Decision makers behind one interface (:class:`~scythe_desktop.engine.policies.base.Policy`).

One policy per module: ``random``, ``static-grid``, ``greedy`` (adaptive CELF), ``gradient-drift``,
``optimal`` (MILP on the world frozen at reset) and ``ppo`` (the trained network). :func:`make_policy` builds
one by name; modules are imported only when asked for, so the baselines never load torch.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from scythe_desktop.engine.policies.base import Policy

#: name -> "module:Class"
POLICIES: Final[dict[str, str]] = {
    "random": "scythe_desktop.engine.policies.random_policy:RandomPolicy",
    "static-grid": "scythe_desktop.engine.policies.static_grid:StaticGridPolicy",
    "greedy": "scythe_desktop.engine.policies.greedy:GreedyPolicy",
    "gradient-drift": "scythe_desktop.engine.policies.gradient_drift:GradientDriftPolicy",
    "optimal": "scythe_desktop.engine.policies.optimal:OptimalPolicy",
    "ppo": "scythe_desktop.engine.policies.ppo:PPOPolicy",
}


def make_policy(name: str, **kwargs: Any) -> Policy:
    """A new policy by its CLI name (see :data:`POLICIES`); keyword arguments go to its constructor."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; expected one of {sorted(POLICIES)}")
    module, cls = POLICIES[name].split(":")
    policy: Policy = getattr(importlib.import_module(module), cls)(**kwargs)
    return policy


__all__ = ["POLICIES", "Policy", "make_policy"]
