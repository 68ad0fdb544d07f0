"""The console's preferences, typed, over ``QSettings``: Automate limits, the overlay, view toggles, LOD.

:meth:`Preferences.load` reads what a previous session stored and falls back to the defaults, field group by
field group, for anything unreadable (the problems come back as text for the status bar);
:meth:`Preferences.save` writes every field. Window geometry and dock layout stay the window's own
(``window/geometry``, ``window/state``). Knows the settings keys; no widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Final

from PySide6.QtCore import QSettings

from scythe_desktop.console.model.automate import AutomateLimits
from scythe_desktop.render.lod import LodThresholds

OVERLAYS: Final = ("none", "uncertainty", "coverage", "occlusion")
#: LodThresholds fields stored in the settings as ``lod/<field>``.
LOD_KEYS: Final = tuple(f.name for f in fields(LodThresholds))


@dataclass
class Preferences:
    limits: AutomateLimits = field(default_factory=AutomateLimits)
    overlay: str = "uncertainty"
    volume: bool = False
    borders: bool = True
    draw_every_node: bool = False
    drift_arrows: bool = False
    lod: LodThresholds = field(default_factory=LodThresholds)
    evader_moves: bool = True

    @classmethod
    def load(cls, s: QSettings) -> tuple[Preferences, list[str]]:
        """The stored preferences, and what had to be ignored (one line each)."""
        prefs, problems = cls(), []
        d = prefs.limits
        try:
            prefs.limits = AutomateLimits(
                budget_per_hour=float(str(s.value("automate/budget_per_hour", d.budget_per_hour))),
                max_deploys_per_minute=int(str(s.value("automate/max_deploys_per_minute", d.max_deploys_per_minute))),
                min_confidence=float(str(s.value("automate/min_confidence", d.min_confidence))),
                allowed_regions=tuple(str(r) for r in _as_list(s.value("automate/allowed_regions", []))),
            )
        except (TypeError, ValueError) as exc:
            problems.append(f"stored Automate limits ignored ({exc}); using defaults")
        overlay = str(s.value("view/overlay", prefs.overlay))
        prefs.overlay = overlay if overlay in OVERLAYS else prefs.overlay
        prefs.volume = _as_bool(s.value("view/volume", prefs.volume))
        prefs.borders = _as_bool(s.value("view/borders", prefs.borders))
        prefs.draw_every_node = _as_bool(s.value("view/draw_every_node", prefs.draw_every_node))
        prefs.drift_arrows = _as_bool(s.value("view/drift_arrows", prefs.drift_arrows))
        prefs.evader_moves = _as_bool(s.value("view/evader_moves", prefs.evader_moves))
        try:
            prefs.lod = LodThresholds(**{k: int(str(s.value(f"lod/{k}", getattr(prefs.lod, k)))) for k in LOD_KEYS})
        except (TypeError, ValueError) as exc:
            problems.append(f"stored LOD thresholds ignored ({exc}); using defaults")
        return prefs, problems

    def save(self, s: QSettings) -> None:
        s.setValue("automate/budget_per_hour", self.limits.budget_per_hour)
        s.setValue("automate/max_deploys_per_minute", self.limits.max_deploys_per_minute)
        s.setValue("automate/min_confidence", self.limits.min_confidence)
        s.setValue("automate/allowed_regions", list(self.limits.allowed_regions))
        s.setValue("view/overlay", self.overlay)
        s.setValue("view/volume", self.volume)
        s.setValue("view/draw_every_node", self.draw_every_node)
        s.setValue("view/drift_arrows", self.drift_arrows)
        s.setValue("view/evader_moves", self.evader_moves)
        s.setValue("view/borders", self.borders)
        for k in LOD_KEYS:
            s.setValue(f"lod/{k}", getattr(self.lod, k))


def _as_list(value: object) -> list[object]:
    """QSettings returns a one-element list as a plain string on some backends."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _as_bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1")


__all__ = ["LOD_KEYS", "OVERLAYS", "Preferences"]
