"""Parse the durations the recording commands take on the command line (``90s``, ``30m``, ``1h``, ``2.5h``, ``45``)."""

from __future__ import annotations

import argparse
import math
from typing import Final

_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number with an optional unit s, m or h; ValueError naming the text otherwise."""
    raw = text.strip().lower()
    scale = _UNITS.get(raw[-1:], None)
    number = raw[:-1] if scale is not None else raw
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise ValueError(f"duration {text!r} is not a number with an optional unit s, m or h (e.g. 90s, 30m, 1h)") \
            from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"duration {text!r} must be a positive, finite time")
    return seconds


def duration_arg(text: str) -> float:
    """:func:`parse_duration` for ``argparse`` (``type=duration_arg``)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
