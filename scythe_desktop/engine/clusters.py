"""Clusters: their states, the public cluster table's layout, the per-state levels and the scenario's
dynamics rates arranged for lookups. The dynamics themselves run batched in
:mod:`scythe_desktop.engine.batch.dynamics`.

A cluster's ``id`` is stable and never reused. ``state`` is the ground truth: a vanished cluster becomes
``GHOST`` (it has no nodes any more but is still tracked because the belief remembers it) and is dropped
once its ghost confidence decays below the scenario's threshold. This module knows nothing of observers,
node buffers or fields.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.belief import N_STATES
from scythe_desktop.engine.scenario import Scenario


class ClusterState(IntEnum):
    ACTIVE = 0
    QUIET = 1
    ACTIVATING = 2
    GHOST = 3


# Plain ints for the hot path (IntEnum attribute access costs microseconds).
ACTIVE, QUIET, ACTIVATING, GHOST = (int(s) for s in ClusterState)


#: The public cluster table (one record per tracked cluster); ``belief`` is P(active, quiet, activating,
#: gone), ``confidence`` decays for ghosts, ``believed_count`` is the belief's median node count.
CLUSTER_DTYPE: Final = np.dtype(
    [
        ("id", "<i8"),
        ("lon", "<f8"),
        ("lat", "<f8"),
        ("node_count", "<i8"),
        ("silence_pressure", "<f8"),
        ("coherence", "<f8"),
        ("entropy", "<f8"),
        ("asn", "<i8"),
        ("state", "<i4"),
        ("agreement", "<f8"),
        ("ambiguity", "<f8"),
        ("volatility", "<f8"),
        ("coverage_deficit", "<f8"),
        ("detected", "?"),
        ("confidence", "<f8"),
        ("belief", "<f8", (N_STATES,)),
        ("believed_count", "<f8"),
        ("spread_km", "<f8"),
        ("threat", "<f8"),
    ]
)

#: Per-state levels used by nodes and fields: intensity, threat, coherence target, silence target.
STATE_INTENSITY: Final = np.array([0.8, 0.15, 0.55, 0.0])
STATE_THREAT: Final = np.array([1.0, 0.3, 1.6, 0.0])
STATE_COHERENCE: Final = np.array([0.85, 0.35, 0.6, 0.0])
STATE_SILENCE: Final = np.array([0.05, 1.0, 0.3, 1.0])

EVENT_KINDS: Final = (
    "quiet",
    "activating",
    "active",
    "cascade",
    "vanished",
    "shifted",
    "resized",
    "spawned",
    "dropped",
    # The evader's own moves (adversarial worlds; engine.batch.evader.MOVE_EVENTS).
    "evader_quiet",
    "evader_activate",
    "evader_shift",
    "evader_decoy",
)


class DynamicsTables:
    """A scenario's dynamics rates arranged for table lookups by state (built once per world)."""

    def __init__(self, scenario: Scenario) -> None:
        d = scenario.dynamics
        # Rows, indexed by state in columns: P(change) (active->quiet, quiet->activating), P(vanish),
        # P(ASN shift), P(resize), the silence pull (rate × target) and the confidence factor per tick.
        self.by_state = np.array(
            [
                [d.p_quiet, d.p_activate, 0.0, 0.0],
                [0.0, d.p_vanish, 0.0, 0.0],
                [d.p_asn_shift, d.p_asn_shift, d.p_asn_shift, 0.0],
                [d.p_resize, d.p_resize, d.p_resize, 0.0],
                STATE_SILENCE * d.silence_rate,
                [1.0, 1.0, 1.0, d.ghost_decay],
            ]
        )
        self.keep = 1.0 - d.silence_rate
        # Inverse CDF of the Poisson number of spawns per tick, drawn from one uniform.
        k = np.arange(12)
        pmf = np.exp(-d.spawn_rate) * d.spawn_rate**k / np.cumprod(np.concatenate([[1.0], k[1:]]))
        self.spawn_cdf = np.cumsum(pmf).tolist()
        regions = [scenario.region(n) for n in scenario.clusters.regions]
        w = np.array([r.weight for r in regions])
        w = w if w.sum() > 0 else np.ones_like(w)
        self.region_cdf = np.cumsum(w) / w.sum()
        self.region_lon0 = np.array([r.lon_min for r in regions])
        self.region_span = np.array([r.lon_span for r in regions])
        self.region_sin_lat = np.sin(np.radians(np.array([[r.lat_min for r in regions], [r.lat_max for r in regions]])))
        self.region_occlusion = np.array([r.occlusion for r in regions])


def coherence(state: NDArray[np.int64], silence: NDArray[np.float64]) -> NDArray[np.float64]:
    """How coordinated a cluster's nodes are, in [0, 1]: high when active, falling with silence."""
    return np.where(state == GHOST, 0.0, STATE_COHERENCE[state] * (1.0 - 0.5 * silence))


__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "CLUSTER_DTYPE",
    "EVENT_KINDS",
    "GHOST",
    "QUIET",
    "STATE_INTENSITY",
    "STATE_THREAT",
    "ClusterState",
    "DynamicsTables",
    "coherence",
]
