"""Scripted variants of the shipped tutorial scenario for tests: override ``key = value`` lines."""

from __future__ import annotations

import re

from scythe_desktop.engine.scenario import SCENARIO_DIR, Scenario, parse_scenario

TUTORIAL = (SCENARIO_DIR / "tutorial.toml").read_text(encoding="utf-8")

#: Every dynamic rate switched off: a world that changes only through observation.
STILL = {
    "p_quiet": 0.0,
    "p_activate": 0.0,
    "p_vanish": 0.0,
    "spawn_rate": 0.0,
    "p_asn_shift": 0.0,
    "p_cascade": 0.0,
    "p_resize": 0.0,
}


def scripted_text(**overrides: object) -> str:
    text = TUTORIAL
    for key, value in overrides.items():
        literal = str(value).lower() if isinstance(value, bool) else repr(value)
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {literal}", text, flags=re.MULTILINE)
        assert n == 1, f"tutorial.toml has no unique key {key!r}"
    return text


def scripted(**overrides: object) -> Scenario:
    """The tutorial scenario with the given keys replaced."""
    return parse_scenario(scripted_text(**overrides), f"scripted{sorted(overrides)}")
