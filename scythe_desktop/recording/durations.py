"""Parse the durations and times the recording commands take on the command line (``90s``, ``30m``, ``1h``,
``2.5h``, ``45``, ``10m42s``, ``1h2m3.5s``) and print them back the same way."""

from __future__ import annotations

import argparse
import math
import re
from typing import Final

_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}
_COMPOUND: Final = re.compile(r"(?:(\d+(?:\.\d*)?|\.\d+)h)?(?:(\d+(?:\.\d*)?|\.\d+)m)?(?:(\d+(?:\.\d*)?|\.\d+)s)?")


def _seconds(text: str) -> float:
    raw = text.strip().lower()
    try:
        seconds = float(raw)
    except ValueError:
        match = _COMPOUND.fullmatch(raw)
        if not raw or match is None:
            raise ValueError(f"duration {text!r} is not a number with an optional unit s, m or h (e.g. 90s, 30m, 1h, "
                             "10m42s)") from None
        seconds = sum(float(v) * _UNITS[u] for v, u in zip(match.groups(), "hms", strict=True) if v is not None)
    if not math.isfinite(seconds):
        raise ValueError(f"duration {text!r} must be a finite time")
    return seconds


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (> 0); ValueError naming the text otherwise."""
    seconds = _seconds(text)
    if not seconds > 0:
        raise ValueError(f"duration {text!r} must be a positive, finite time")
    return seconds


def parse_time(text: str) -> float:
    """A moment in a recording: seconds from its start (>= 0) in the same notation."""
    seconds = _seconds(text)
    if seconds < 0:
        raise ValueError(f"time {text!r} must not be negative")
    return seconds


def format_duration(seconds: float) -> str:
    """``642`` -> ``10m42s``, ``3600`` -> ``1h0m0s``, ``12.5`` -> ``12.5s``: what :func:`parse_duration` reads."""
    hours, rest = divmod(max(0.0, seconds), 3600.0)
    minutes, secs = divmod(rest, 60.0)
    s = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{s}"
    return f"{int(minutes)}m{s}" if minutes else s


def duration_arg(text: str) -> float:
    """:func:`parse_duration` for ``argparse`` (``type=duration_arg``)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def time_arg(text: str) -> float:
    """:func:`parse_time` for ``argparse``."""
    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
