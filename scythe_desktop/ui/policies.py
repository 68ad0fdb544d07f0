"""Which policy proposes actions in the console (embedded source only; see :mod:`scythe_desktop.ui.insight`).

``--policy auto`` takes the shipped PPO policy (``resources/policies``) and falls back to the engine's
``greedy`` baseline when the network cannot be loaded (a build without the weights, say); ``--policy NAME``
builds that policy from the engine's registry; ``--policy none`` runs without proposals. An unknown name is
refused with the list of known ones. This module only chooses; policies live in ``scythe_desktop.engine``.
"""

from __future__ import annotations

from scythe_desktop.engine.policies import POLICIES, make_policy
from scythe_desktop.engine.policies.base import Policy

#: Policies tried for ``auto``, best first.
AUTO_ORDER = ("ppo", "greedy")


def check_policy_name(name: str) -> None:
    """Refuse an unknown ``--policy`` value (ValueError naming the known ones) without loading anything."""
    if name not in ("auto", "none") and name not in POLICIES:
        raise ValueError(f"--policy must be 'auto', 'none' or one of {sorted(POLICIES)}, got {name!r}")


def load_console_policy(name: str) -> Policy | None:
    if name == "none":
        return None
    if name == "auto":
        failures = []
        for candidate in AUTO_ORDER:
            try:
                return make_policy(candidate)
            except (OSError, ValueError, RuntimeError) as exc:  # e.g. the shipped weights are missing
                failures.append(f"{candidate}: {exc}")
        raise ValueError("no policy could be loaded for --policy auto (" + "; ".join(failures) + ")")
    check_policy_name(name)
    return make_policy(name)


__all__ = ["AUTO_ORDER", "check_policy_name", "load_console_policy"]
