"""Benchmarks run by ``scythe bench NAME``; each prints one JSON object of ratios against a baseline
measured in the same run, with ``<key>_target`` beside every key that has a goal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def with_targets(figures: Mapping[str, Any], targets: Mapping[str, Any]) -> dict[str, Any]:
    """The figures in order, floats rounded to 4 places, each ``<key>_target`` right after its key."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        out[key] = round(value, 4) if isinstance(value, float) else value
        if key in targets:
            out[f"{key}_target"] = targets[key]
    return out
