"""``gradient-drift``: field gradient navigation — observers drift up the gradient of the uncertainty field.

The seed's "field gradient navigation": start from the static grid (:mod:`.static_grid`), then each tick move
one observer (round robin) ``step_km`` along ∇ of ``world.uncertainty_grid``'s field at its position, toward
maximum ambiguity, if the guardrails allow the new position. Cheap and local; known weakness: it climbs to
the nearest hill of uncertainty and piles observers onto the same peak, and it never weighs cost.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from scythe_desktop.engine.actions import Relocate
from scythe_desktop.engine.policies.static_grid import StaticGridPolicy
from scythe_desktop.engine.proposals import Proposal, make_proposal

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World

KM_PER_DEGREE = 111.195


class GradientDriftPolicy(StaticGridPolicy):
    name: ClassVar[str] = "gradient-drift"

    def __init__(self, step_km: float = 150.0, min_gradient: float = 1e-6) -> None:
        super().__init__()
        self.step_km = step_km
        self.min_gradient = min_gradient
        self._turn = 0

    def reset(self, world: World, seed: int | None = None) -> None:
        super().reset(world, seed)
        self._turn = 0

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        out = super().propose(world, limit)  # finish placing the grid first
        observers = world.observers
        n = len(observers)
        for k in range(n):
            if len(out) >= limit:
                break
            row = (self._turn + k) % n
            lon, lat = float(observers["lon"][row]), float(observers["lat"][row])
            g_lon, g_lat = world.uncertainty_gradient(lon, lat)
            # per-degree gradient -> direction in km on the ground
            cos_lat = max(math.cos(math.radians(lat)), 1e-3)
            east, north = g_lon / cos_lat, g_lat
            norm = math.hypot(east, north)
            if norm < self.min_gradient:
                continue
            new_lat = max(-89.0, min(89.0, lat + self.step_km * north / norm / KM_PER_DEGREE))
            new_lon = (lon + self.step_km * east / norm / (KM_PER_DEGREE * cos_lat) + 180.0) % 360.0 - 180.0
            action = Relocate(int(observers["id"][row]), new_lon, new_lat)
            if world.validate(action) is None:
                gain = world.expected_information_gain(action)
                out.append(make_proposal(world, action, gain, min(1.0, norm), self.name))
        self._turn += 1
        return out
