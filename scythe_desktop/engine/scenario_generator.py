"""Random but valid scenarios: ``generate_toml(seed, family)`` writes scenario TOML that the normal loader
accepts and on which a policy can play.

A family is a named :class:`GeneratorParams` (the distribution a world is drawn from); ``mixed`` is the broad
default. Everything random comes from one numpy ``Generator`` seeded from (seed, family), so the same seed,
family and parameters give byte-identical text. The drawing lives in :mod:`.scenario_draw`, the playability
repair (observers can go somewhere they see clusters, within the budget) in :mod:`.scenario_playable`.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from scythe_desktop.engine.scenario import Scenario, parse_scenario

#: Every parameter's allowed range, inclusive (``GeneratorParams`` refuses anything outside it).
PARAM_RANGES: Final[dict[str, tuple[float, float]]] = {
    "clusters_min": (5, 200),
    "clusters_max": (5, 200),
    "observer_types_min": (1, 4),
    "observer_types_max": (1, 4),
    "budget_observers_min": (1.0, 200.0),
    "budget_observers_max": (1.0, 200.0),
    "dynamics_scale_min": (0.05, 20.0),
    "dynamics_scale_max": (0.05, 20.0),
    "activation_ticks_min": (1, 100),
    "activation_ticks_max": (1, 100),
    "regions_min": (1, 16),
    "regions_max": (1, 16),
    "forbidden_probability": (0.0, 1.0),
    "latency_zone_probability": (0.0, 1.0),
    "overlap_probability": (0.0, 1.0),
    "antimeridian_probability": (0.0, 1.0),
    "polar_probability": (0.0, 1.0),
    "allowed_regions_probability": (0.0, 1.0),
    "initial_observers_probability": (0.0, 1.0),
}


@dataclass(frozen=True)
class GeneratorParams:
    """The distribution a generated scenario is drawn from. ``*_min``/``*_max`` pairs bound a uniform (counts)
    or log-uniform (budget, dynamics scale) draw; ``*_probability`` fields are chances per world or per
    region. Ranges are in :data:`PARAM_RANGES`; a value outside one is a ValueError naming the field."""

    #: Clusters at the start (``count``; ``max_count`` is drawn above it), 5..200, log-uniform.
    clusters_min: int = 5
    clusters_max: int = 200
    #: Observer types, 1..4 (the RL layout's limit), drawn from distinct archetypes.
    observer_types_min: int = 1
    observer_types_max: int = 4
    #: Budget per hour as the number of the cheapest type it runs (after one set-up fee), 1..200; 1-3 is tight.
    budget_observers_min: float = 1.0
    budget_observers_max: float = 40.0
    #: Factor on the base per-tick dynamics rates (quiet, activate, vanish, spawn, shift, cascade, resize).
    dynamics_scale_min: float = 0.3
    dynamics_scale_max: float = 3.0
    #: Ticks an activation takes (activation speed: fewer is faster), 1..100.
    activation_ticks_min: int = 2
    activation_ticks_max: int = 12
    #: Regions clusters live in, 1..16 (forbidden, corridor regions come on top). They gather in a theatre: on
    #: the antimeridian or a pole (below), else local, continental or global (40/40/20 %).
    regions_min: int = 1
    regions_max: int = 8
    #: Chance that a world has forbidden regions (one to three; holes in cluster regions or boxes elsewhere).
    forbidden_probability: float = 0.4
    #: Chance that a world has a tight latency zone (some regions refuse high-latency types there).
    latency_zone_probability: float = 0.5
    #: Chance, per region after the first, that it overlaps an earlier one.
    overlap_probability: float = 0.3
    #: Chance that the theatre sits on the antimeridian (its first region straddles it, others flank it).
    antimeridian_probability: float = 0.15
    #: Chance (when not on the antimeridian) that the theatre is polar (its first region reaches the pole).
    polar_probability: float = 0.15
    #: Chance that observers are confined to listed allowed regions (else anywhere not forbidden).
    allowed_regions_probability: float = 0.5
    #: Chance that the world starts with one to three observers already deployed.
    initial_observers_probability: float = 0.3

    def __post_init__(self) -> None:
        self.validated()

    def validated(self) -> GeneratorParams:
        """Self, after checking every range and every min <= max; ValueError naming the first bad field."""
        for name, (lo, hi) in PARAM_RANGES.items():
            value = getattr(self, name)
            integral = isinstance(lo, int)
            kind = int if integral else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
                what = "an integer" if integral else "a number"
                raise ValueError(f"{name}: must be {what} in {lo:g}..{hi:g}, got {value!r}")
        for name in PARAM_RANGES:
            if name.endswith("_min"):
                top = name[: -len("_min")] + "_max"
                if getattr(self, name) > getattr(self, top):
                    raise ValueError(f"{name}: must be <= {top} ({getattr(self, top)!r}), got {getattr(self, name)!r}")
        return self

    def changed_from(self, other: GeneratorParams) -> dict[str, float]:
        """The fields whose value differs from ``other``'s."""
        return {f: getattr(self, f) for f in PARAM_RANGES if getattr(self, f) != getattr(other, f)}


_MIXED = GeneratorParams()

#: The named distributions. ``mixed`` is the broad default; the others stress one thing each.
FAMILIES: Final[dict[str, GeneratorParams]] = {
    "mixed": _MIXED,
    "dense": dataclasses.replace(
        _MIXED, clusters_min=120, clusters_max=200, regions_min=1, regions_max=4, overlap_probability=0.6,
        budget_observers_min=8.0, budget_observers_max=60.0,
    ),
    "sparse": dataclasses.replace(
        _MIXED, clusters_min=5, clusters_max=20, regions_min=4, regions_max=12, overlap_probability=0.1,
        budget_observers_min=2.0, budget_observers_max=10.0,
    ),
    "polar": dataclasses.replace(_MIXED, antimeridian_probability=0.0, polar_probability=0.9, regions_max=4),
    "antimeridian": dataclasses.replace(_MIXED, antimeridian_probability=0.9, regions_max=5),
    "tight-budget": dataclasses.replace(_MIXED, budget_observers_min=1.0, budget_observers_max=3.0),
    "fast-activation": dataclasses.replace(
        _MIXED, activation_ticks_min=1, activation_ticks_max=2, dynamics_scale_min=2.0, dynamics_scale_max=6.0,
    ),
}

DEFAULT_FAMILY: Final = "mixed"


def family_params(family: str) -> GeneratorParams:
    """The parameters of a named family; ValueError listing the known ones for any other name."""
    if family not in FAMILIES:
        raise ValueError(f"family: unknown family {family!r}; expected one of {sorted(FAMILIES)}")
    return FAMILIES[family]


def with_overrides(params: GeneratorParams, assignments: Iterable[str]) -> GeneratorParams:
    """``params`` with ``NAME=VALUE`` assignments applied (the CLI's ``--param``); ValueError naming the bad one."""
    changes: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in PARAM_RANGES:
            raise ValueError(f"{name or item!r}: unknown parameter (NAME=VALUE); expected one of {list(PARAM_RANGES)}")
        lo, hi = PARAM_RANGES[name]
        try:
            changes[name] = int(text) if isinstance(lo, int) else float(text)
        except ValueError:
            what = "an integer" if isinstance(lo, int) else "a number"
            raise ValueError(f"{name}: must be {what} in {lo:g}..{hi:g}, got {text.strip()!r}") from None
    return dataclasses.replace(params, **changes)


def _rng(seed: int, family: str) -> np.random.Generator:
    # zlib.crc32, not hash(): Python salts string hashes per process.
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(family.encode())])))


def generate_toml(seed: int, family: str = DEFAULT_FAMILY, params: GeneratorParams | None = None) -> str:
    """Scenario TOML drawn from ``params`` (default: the family's), deterministic in (seed, family, params)."""
    from scythe_desktop.engine.scenario_draw import draw_tree, render_toml
    from scythe_desktop.engine.scenario_playable import add_initial_observers, make_playable

    base = family_params(family)
    p = (base if params is None else params).validated()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    changed = p.changed_from(base)
    # Custom parameters get their own name, so two different worlds never share one.
    suffix = f"-custom-{zlib.crc32(repr(sorted(changed.items())).encode()):08x}" if changed else ""
    rng = _rng(seed, family)
    tree = draw_tree(rng, p, name=f"gen-{family}-{seed}{suffix}")
    repairs = make_playable(tree)
    add_initial_observers(tree, rng, p.initial_observers_probability)
    custom = " ".join(f"--param {k}={v!r}" for k, v in changed.items())
    command = f"scythe scenario generate --seed {seed} --family {family}" + (f" {custom}" if custom else "")
    repaired = f" Made playable on the policies' sites: {'; '.join(repairs)}." if repairs else ""
    tree["scenario"]["description"] = f"Generated by `{command}`: {tree['scenario']['description']}{repaired}"
    header = [f"Generated scenario; regenerate it with: {command}"] + [
        f"  {name} = {getattr(p, name)!r}" for name in PARAM_RANGES
    ]
    return render_toml(tree, header)


def generate_scenario(seed: int, family: str = DEFAULT_FAMILY, params: GeneratorParams | None = None) -> Scenario:
    """:func:`generate_toml` parsed through the normal loader."""
    text = generate_toml(seed, family, params)
    return parse_scenario(text, f"<generated {family} seed {seed}>")


__all__ = [
    "DEFAULT_FAMILY",
    "FAMILIES",
    "PARAM_RANGES",
    "GeneratorParams",
    "family_params",
    "generate_scenario",
    "generate_toml",
    "with_overrides",
]
