"""``static-grid``: evenly spaced observers of the default type, placed once and never moved.

The placement is farthest-point sampling over the valid deploy cells of the RL layout (start near the
field's centre, then always the cell farthest from those chosen), as many as the instance cap and the budget
allow. One deploy per tick until the grid is complete, then nothing. Known weakness: blind to where the
clusters are and to everything that happens afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.policies.base import Policy
from scythe_desktop.engine.proposals import Proposal, make_proposal
from scythe_desktop.engine.rl.spaces import ActionCodec, EnvConfig

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World


def spread_cells(codec: ActionCodec, type_index: int, count: int) -> NDArray[np.intp]:
    """``count`` valid cells for ``type_index``, spread by farthest-point sampling (deterministic)."""
    valid = np.flatnonzero(codec.placement_ok[type_index])
    if valid.size == 0 or count <= 0:
        return np.zeros(0, dtype=np.intp)
    pts = codec.cells[valid]
    centre = pts.mean(axis=0)
    chosen = [int(np.argmin(great_circle_km(centre[0], centre[1], pts[:, 0], pts[:, 1])))]
    dist = great_circle_km(pts[chosen[0], 0], pts[chosen[0], 1], pts[:, 0], pts[:, 1])
    while len(chosen) < min(count, valid.size):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, great_circle_km(pts[nxt, 0], pts[nxt, 1], pts[:, 0], pts[:, 1]))
    return valid[chosen]


class StaticGridPolicy(Policy):
    name: ClassVar[str] = "static-grid"

    def __init__(self, config: EnvConfig | None = None) -> None:
        self.config = config or EnvConfig()
        self._targets: list[tuple[float, float]] = []
        self._scenario: object = None

    def reset(self, world: World, seed: int | None = None) -> None:
        sc = world.scenario
        codec = ActionCodec(sc, self.config)
        t = sc.observer_type_index(sc.constraints.default_observer_type)
        # The budget guard counts a deploy's set-up fee on top of the running rate.
        spare = sc.constraints.budget_per_hour - world.budget_used_per_hour - sc.observer_types[t].setup_fee
        count = min(sc.constraints.max_instances - len(world.observers), max(int(spare // codec.type_cost[t]), 0))
        self._targets = [tuple(codec.cells[c]) for c in spread_cells(codec, t, count)]
        self._scenario = sc

    def propose(self, world: World, limit: int = 5) -> list[Proposal]:
        if self._scenario is not world.scenario:
            self.reset(world)
        kind = world.scenario.constraints.default_observer_type
        out = []
        for lon, lat in self._targets:
            o = world.observers
            if len(o) and great_circle_km(lon, lat, o["lon"], o["lat"]).min() < 1.0:
                continue  # already placed
            action = Deploy(float(lon), float(lat), kind)
            if world.validate(action) is None:
                out.append(make_proposal(world, action, world.expected_information_gain(action), 1.0, self.name))
            if len(out) >= limit:
                break
        return out
