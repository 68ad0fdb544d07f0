"""The graph layout: the maxima, the observation's keys and the flat action index of the graph policy.

One layout for every world: arrays are padded to the maxima below, so worlds of any size (``tutorial``'s 5
clusters, ``global``'s 260) share one observation space, one action space and one network, and batches can
mix them. A scenario fits the layout (:func:`fits`) when it has at most :data:`MAX_TYPES` observer types, at
most :data:`MAX_OBSERVERS` instances and a live-cluster cap of at most :data:`MAX_CLUSTERS`; when ghosts
(vanished clusters the belief still tracks) push a world past :data:`MAX_CLUSTERS` rows, the lowest-entropy
ones are not shown.

Entities (rows; a ``*_mask`` key says which are real):

* ``clusters`` (:data:`MAX_CLUSTERS`, :data:`CLUSTER_FEATURES`): the tracked clusters by belief entropy
  (highest first, ties by id): state belief (4), entropy, state entropy, log count estimate and its spread,
  log node count, silence, agreement, volatility, confidence, coverage, detected now, ever detected, focused;
* ``observers`` (:data:`MAX_OBSERVERS`, :data:`OBSERVER_FEATURES`): in row (id) order: type one-hot, rate of
  the type's cap, rate of its base, load, cost and set-up fee of the budget, focused, age of its minimum
  billing period, radius;
* ``sites`` (:data:`MAX_SITES`, :data:`SITE_FEATURES`): see :mod:`~scythe_desktop.engine.rl.graph_sites`:
  placement validity per type, centroid/icosphere flag, coverage by the current observers, occlusion;
* ``types`` (:data:`MAX_TYPES`, :data:`TYPE_FEATURES`): exists, cost, set-up fee, radius, base of max rate,
  detection, minimum billing, deployable now (room and budget);
* ``globals`` (:data:`GLOBAL_FEATURES`): tick fraction, budget left, spend rate, observers of the cap, mean
  entropy, detected share, clusters shown, clusters of the maximum.

Edges (``<rel>_index``: target row per (source row, neighbour), -1 for none; ``<rel>_attr``: features):
``cc`` each cluster's :data:`K_CC` nearest clusters (great-circle); ``sc`` each site's :data:`K_SC` nearest
clusters within the largest type radius (distance, footprint per type); ``oc`` each observer's :data:`K_OC`
nearest clusters inside its footprint (distance, footprint, focused); ``os`` each observer's :data:`K_OS`
nearest sites (distance). The network uses every relation in both directions. Indices are stored as float32
(exact below 2^24) because SB3's Dict buffers are float.

The flat ``Discrete`` action index, in blocks (row numbers are this step's rows)::

    0                                        no-op
    deploy        type t × site s            Deploy(site s, type t)
    relocate      observer o × site s        Relocate(observer o, site s)
    sampling      observer o                 IncreaseSampling(observer o)   (the engine has no "down")
    focus         observer o × cluster c     Focus(observer o, cluster c)
    decommission  observer o                 Decommission(observer o)

The joint mask is exact: an index is True iff its row exists and ``World.validate`` accepts the action.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from gymnasium import spaces

from scythe_desktop.engine.rl.graph_sites import MAX_CENTROID_SITES, MAX_ICO_SITES
from scythe_desktop.engine.rl.spaces import FEATURE_BOUND, MAX_TYPES
from scythe_desktop.engine.scenario import Scenario

MAX_CLUSTERS: Final = 320
MAX_OBSERVERS: Final = 64
MAX_SITES: Final = MAX_CENTROID_SITES + MAX_ICO_SITES
K_CC: Final = 6
K_SC: Final = 8
K_OC: Final = 16
K_OS: Final = 4

CLUSTER_FEATURES: Final = 18
OBSERVER_FEATURES: Final = MAX_TYPES + 8
SITE_FEATURES: Final = MAX_TYPES + 4
TYPE_FEATURES: Final = 8
GLOBAL_FEATURES: Final = 8
#: relation -> (source entity, target entity, neighbours per source, attribute width)
RELATIONS: Final = {
    "cc": ("clusters", "clusters", K_CC, 1),
    "sc": ("sites", "clusters", K_SC, 1 + MAX_TYPES),
    "oc": ("observers", "clusters", K_OC, 3),
    "os": ("observers", "sites", K_OS, 1),
}

BLOCKS: Final = {
    "noop": 1,
    "deploy": MAX_TYPES * MAX_SITES,
    "relocate": MAX_OBSERVERS * MAX_SITES,
    "sampling": MAX_OBSERVERS,
    "focus": MAX_OBSERVERS * MAX_CLUSTERS,
    "decommission": MAX_OBSERVERS,
}
OFFSETS: Final = {name: int(sum(list(BLOCKS.values())[:i])) for i, name in enumerate(BLOCKS)}
N_ACTIONS: Final = int(sum(BLOCKS.values()))


def fits(scenario: Scenario) -> bool:
    """Whether ``scenario`` fits the maxima (see the module docstring)."""
    return (
        len(scenario.observer_types) <= MAX_TYPES
        and scenario.constraints.max_instances <= MAX_OBSERVERS
        and scenario.clusters.max_count <= MAX_CLUSTERS
    )


def block(index: int) -> tuple[str, int]:
    """The block name of ``index`` and the offset inside it."""
    if not 0 <= index < N_ACTIONS:
        raise ValueError(f"action index must be in [0, {N_ACTIONS}), got {index}")
    name = "noop"
    for block_name, start in OFFSETS.items():
        if index >= start:
            name = block_name
    return name, index - OFFSETS[name]


def _box(*shape: int, low: float = -FEATURE_BOUND, high: float = FEATURE_BOUND) -> spaces.Box:
    return spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)


def observation_space() -> spaces.Dict:
    """The Dict observation of one world (the keys of the module docstring)."""
    entities = {"clusters": (MAX_CLUSTERS, CLUSTER_FEATURES), "observers": (MAX_OBSERVERS, OBSERVER_FEATURES),
                "sites": (MAX_SITES, SITE_FEATURES)}
    out: dict[str, spaces.Space] = {}
    for name, (rows, width) in entities.items():
        out[name] = _box(rows, width)
        out[f"{name[:-1]}_mask"] = _box(rows, low=0.0, high=1.0)
    out["types"] = _box(MAX_TYPES, TYPE_FEATURES)
    out["globals"] = _box(GLOBAL_FEATURES)
    for rel, (src, _, k, width) in RELATIONS.items():
        rows = entities[src][0]
        out[f"{rel}_index"] = _box(rows, k, low=-1.0, high=float(max(MAX_CLUSTERS, MAX_SITES)))
        out[f"{rel}_attr"] = _box(rows, k, width)
    return spaces.Dict(out)


def action_space() -> spaces.Discrete:
    return spaces.Discrete(N_ACTIONS)


__all__ = [
    "BLOCKS", "CLUSTER_FEATURES", "GLOBAL_FEATURES", "K_CC", "K_OC", "K_OS", "K_SC", "MAX_CLUSTERS",
    "MAX_OBSERVERS", "MAX_SITES", "MAX_TYPES", "N_ACTIONS", "OBSERVER_FEATURES", "OFFSETS", "RELATIONS",
    "SITE_FEATURES", "TYPE_FEATURES", "action_space", "block", "fits", "observation_space",
]
