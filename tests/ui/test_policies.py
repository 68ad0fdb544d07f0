"""Choosing the console's policy by name."""

from __future__ import annotations

import pytest

from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.ui.policies import load_console_policy


def test_none_means_no_proposals() -> None:
    assert load_console_policy("none") is None


def test_a_named_baseline_is_built_from_the_engine_registry() -> None:
    policy = load_console_policy("greedy")
    assert isinstance(policy, Policy) and policy.name


def test_an_unknown_policy_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="greedy"):
        load_console_policy("clairvoyant")


def test_the_policy_name_is_checked_without_loading_it() -> None:
    from scythe_desktop.ui.policies import check_policy_name

    check_policy_name("ppo")
    check_policy_name("auto")
    with pytest.raises(ValueError, match="clairvoyant"):
        check_policy_name("clairvoyant")
