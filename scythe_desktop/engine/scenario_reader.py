"""The typed TOML reader behind :func:`scythe_desktop.engine.scenario.parse_scenario`: every accessor checks a
value and raises :class:`ScenarioError` naming the file, the dotted key and the expectation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file, the key and the expectation."""

    def __init__(self, source: str, key: str, expectation: str) -> None:
        super().__init__(f"{source}: [{key}] {expectation}")
        self.source = source
        self.key = key
        self.expectation = expectation

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str, str]]:
        # Crosses process pools (evaluate --jobs, bench generalize) with its three parts intact.
        return (ScenarioError, (self.source, self.key, self.expectation))


class Reader:
    """Typed access to a TOML table that reports file + dotted key + expectation on every mistake."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.source = source
        self.table = table
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, expectation: str) -> ScenarioError:
        return ScenarioError(self.source, self.key(name), expectation)

    def sub(self, name: str) -> Reader:
        value = self.table.get(name)
        if not isinstance(value, Mapping):
            raise self.fail(name, f"expected a table, got {describe(value)}")
        return Reader(self.source, value, f"{self.key(name)}.")

    def tables(self, name: str, *, min_items: int = 0) -> list[Reader]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(name, f"expected an array of tables ([[{name}]]), got {describe(value)}")
        if len(value) < min_items:
            raise self.fail(name, f"expected at least {min_items} entries, got {len(value)}")
        return [Reader(self.source, v, f"{self.key(name)}[{i}].") for i, v in enumerate(value)]

    def string(self, name: str, default: str | None = None) -> str:
        value = self.table.get(name, default)
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"expected a non-empty string, got {describe(value)}")
        return value

    def number(self, name: str, default: float | None = None, *, lo: float = -math.inf, hi: float = math.inf) -> float:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(name, f"expected a finite number, got {describe(value)}")
        if not lo <= value <= hi:
            raise self.fail(name, f"expected a number in [{lo:g}, {hi:g}], got {value!r}")
        return float(value)

    def integer(self, name: str, default: int | None = None, *, lo: int = 0, hi: int = 2**31 - 1) -> int:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected an integer, got {describe(value)}")
        if not lo <= value <= hi:
            raise self.fail(name, f"expected an integer in [{lo}, {hi}], got {value!r}")
        return value

    def probability(self, name: str, default: float | None = None) -> float:
        return self.number(name, default, lo=0.0, hi=1.0)

    def pair(self, name: str, *, lo: float, hi: float) -> tuple[float, float]:
        value = self.table.get(name)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.fail(name, f"expected [min, max] (two numbers), got {describe(value)}")
        a, b = float(value[0]), float(value[1])
        if not (lo <= a <= hi and lo <= b <= hi):
            raise self.fail(name, f"expected both values in [{lo:g}, {hi:g}], got {value!r}")
        return a, b

    def strings(self, name: str, default: list[str] | None = None) -> tuple[str, ...]:
        value = self.table.get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, f"expected an array of strings, got {describe(value)}")
        return tuple(value)

    def integers(self, name: str) -> tuple[int, ...]:
        value = self.table.get(name)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        ):
            raise self.fail(name, f"expected a non-empty array of non-negative integers, got {describe(value)}")
        return tuple(value)


def describe(value: object) -> str:
    if value is None:
        return "nothing (the key is missing)"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def names_known(r: Reader, key: str, names: tuple[str, ...], known: list[str], what: str) -> None:
    for n in names:
        if n not in known:
            raise r.fail(key, f"expected names of {what} {known}, got unknown {n!r}")


__all__ = ["Reader", "ScenarioError", "describe", "names_known"]
