"""Decision makers behind one interface (:class:`~scythe_desktop.engine.policies.base.Policy`).

One policy per module: ``random``, ``static-grid``, ``greedy`` (adaptive CELF), ``greedy-reward`` (cost-benefit
greedy on the marginal seed reward), ``gradient-drift``, ``optimal`` (MILP on the world frozen at reset),
``rollout`` (candidates played out on copies), ``ppo`` (the trained network), ``brain`` (the network as the
prior of a lookahead) and ``graph`` (the graph network, for worlds of any size). This is the one policy
registry: :func:`make_policy` builds one by name; :func:`load_policy` also understands ``auto`` (the brain
on the shipped network, else the network alone, else greedy) and ``none`` (no policy), and
:func:`check_policy_name` refuses an unknown name without loading anything. Modules are imported only when
asked for, so the baselines never load torch.
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
    "greedy-reward": "scythe_desktop.engine.policies.greedy_reward:GreedyRewardPolicy",
    "gradient-drift": "scythe_desktop.engine.policies.gradient_drift:GradientDriftPolicy",
    "optimal": "scythe_desktop.engine.policies.optimal:OptimalPolicy",
    "rollout": "scythe_desktop.engine.policies.rollout:RolloutPolicy",
    "ppo": "scythe_desktop.engine.policies.ppo:PPOPolicy",
    "brain": "scythe_desktop.engine.policies.brain:BrainPolicy",
    "graph": "scythe_desktop.engine.policies.graph:GraphPolicy",
}


#: Policies tried for ``auto``, best first.
AUTO_ORDER: Final = ("brain", "ppo", "greedy")
#: The name that means "no policy" (an orchestrator that proposes nothing, a simulation with no decisions).
NO_POLICY: Final = "none"


def make_policy(name: str, **kwargs: Any) -> Policy:
    """A new policy by its CLI name (see :data:`POLICIES`); keyword arguments go to its constructor."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; expected one of {sorted(POLICIES)}")
    module, cls = POLICIES[name].split(":")
    policy: Policy = getattr(importlib.import_module(module), cls)(**kwargs)
    return policy


def policy_names() -> list[str]:
    """Every name :func:`load_policy` accepts."""
    return sorted({"auto", NO_POLICY, *POLICIES})


def check_policy_name(name: str) -> None:
    """Refuse an unknown policy name (ValueError naming the known ones) without loading anything."""
    if name not in ("auto", NO_POLICY) and name not in POLICIES:
        raise ValueError(f"--policy must be 'auto', 'none' or one of {sorted(POLICIES)}, got {name!r}")


def load_policy(name: str) -> Policy | None:
    """The policy called ``name``: ``none`` is None, ``auto`` the first of :data:`AUTO_ORDER` that loads."""
    check_policy_name(name)
    if name == NO_POLICY:
        return None
    if name == "auto":
        failures = []
        for candidate in AUTO_ORDER:
            try:
                return make_policy(candidate)
            except (OSError, ValueError, RuntimeError, ImportError) as exc:  # e.g. shipped weights missing
                failures.append(f"{candidate}: {exc}")
        raise ValueError("no policy could be loaded for --policy auto (" + "; ".join(failures) + ")")
    return make_policy(name)


__all__ = ["AUTO_ORDER", "NO_POLICY", "POLICIES", "Policy", "check_policy_name", "load_policy", "make_policy",
           "policy_names"]
