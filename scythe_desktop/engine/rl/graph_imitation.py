"""Behaviour cloning for the graph policy: a teacher's decisions in the graph layout, on any scenarios.

:func:`collect` plays a teacher (``greedy-reward`` by default) on :class:`~scythe_desktop.engine.world.World`
s of each scenario and records the graph observation, the exact mask, the teacher's action as a graph index
and the discounted return of the seed reward, as :class:`~scythe_desktop.engine.rl.imitation.Demonstrations`,
so :func:`~scythe_desktop.engine.rl.imitation.pretrain` fits the graph policy unchanged. The teacher places
observers on its own candidate points, not on the graph sites: a deploy or relocation is mapped to the
nearest site the mask allows for it (:func:`express`); what has no row in the layout is played as waiting and
counted in ``unexpressed``. :func:`cross_entropy` measures the fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.actions import Action, Decommission, Deploy, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.episode import EpisodeMeter
from scythe_desktop.engine.rl.graph_spaces import GraphView
from scythe_desktop.engine.rl.imitation import Demonstrations, discounted
from scythe_desktop.engine.world import World


def _nearest_allowed(view: GraphView, start: int, lon: float, lat: float) -> int | None:
    """The offset of the allowed site nearest (lon, lat) in the site block starting at ``start``."""
    allowed = view.mask[0, start : start + gl.MAX_SITES][: view.site_lonlat.shape[1]]
    if not allowed.any():
        return None
    sites = view.site_lonlat[0]
    d = np.where(allowed, great_circle_km(lon, lat, sites[:, 0], sites[:, 1]), np.inf)
    return start + int(np.argmin(d))


def express(action: Action | None, view: GraphView, world: World) -> int | None:
    """The graph index closest to ``action`` that the mask allows (0 for None), or None if there is none."""
    if action is None:
        return 0
    sc = world.scenario
    if isinstance(action, Deploy):
        t = sc.observer_type_index(action.observer_type or sc.constraints.default_observer_type)
        return _nearest_allowed(view, gl.OFFSETS["deploy"] + t * gl.MAX_SITES, action.lon, action.lat)
    rows = np.flatnonzero(view.batch.observers.id[0, : view.batch.observers.n[0]] == action.observer_id)
    if rows.size == 0 or rows[0] >= gl.MAX_OBSERVERS:
        return None
    o = int(rows[0])
    index: int | None = None
    if isinstance(action, Relocate):
        index = _nearest_allowed(view, gl.OFFSETS["relocate"] + o * gl.MAX_SITES, action.lon, action.lat)
    elif isinstance(action, IncreaseSampling):
        index = gl.OFFSETS["sampling"] + o
    elif isinstance(action, Decommission):
        index = gl.OFFSETS["decommission"] + o
    elif isinstance(action, Focus):
        shown = view.batch.clusters.id[0, view.slots[0]][view.slot_ok[0]]
        q = np.flatnonzero(shown == action.cluster_id)
        index = gl.OFFSETS["focus"] + o * gl.MAX_CLUSTERS + int(q[0]) if q.size else None
    return index if index is not None and view.mask[0, index] else None


def collect(
    scenarios: Sequence[Any], seeds: Sequence[int], teacher: str = "greedy-reward", episode_ticks: int = 200,
    gamma: float = 0.99,
) -> Demonstrations:
    """One ``episode_ticks`` episode of ``teacher`` per (scenario, seed), in that order."""
    from scythe_desktop.engine.policies import make_policy

    rows: dict[str, list[NDArray[np.float32]]] = {}
    masks: list[NDArray[np.bool_]] = []
    actions: list[int] = []
    returns: list[NDArray[np.float32]] = []
    unexpressed = episodes = 0
    for scenario in scenarios:
        for seed in seeds:
            world = World(scenario, seed, emit_nodes=False)  # deciding, not drawing: no node emission
            policy = make_policy(teacher)
            policy.reset(world, seed)
            meter = EpisodeMeter(world)
            view = GraphView(world.batch)
            rewards = []
            for tick in range(episode_ticks):
                view.refresh(np.array([tick / episode_ticks]))
                decided = policy.decide(world, 1)
                index = express(decided[0] if decided else None, view, world)
                if index is None:
                    unexpressed, index = unexpressed + 1, 0
                for k, v in view.obs.items():
                    rows.setdefault(k, []).append(v[0])
                masks.append(view.mask[0].copy())
                actions.append(index)
                action = view.action(index)
                before = sum(meter.components.values())
                meter.step(world, [action] if action is not None else [])
                rewards.append(sum(meter.components.values()) - before)
            returns.append(discounted(rewards, gamma))
            episodes += 1
    return Demonstrations({k: np.stack(v) for k, v in rows.items()}, np.stack(masks),
                          np.asarray(actions, dtype=np.int64), np.concatenate(returns), unexpressed, episodes)


def cross_entropy(policy: Any, demos: Demonstrations, batch_size: int = 64) -> float:
    """Mean masked cross-entropy of ``policy`` on the teacher's actions (nats)."""
    import torch

    total = 0.0
    with torch.no_grad():
        for start in range(0, len(demos), batch_size):
            sl = slice(start, start + batch_size)
            obs: Any = {k: torch.as_tensor(v[sl]) for k, v in demos.obs.items()}
            _, log_prob, _ = policy.evaluate_actions(obs, torch.as_tensor(demos.actions[sl]),
                                                     action_masks=torch.as_tensor(demos.masks[sl]))
            total -= float(log_prob.sum())
    return total / max(len(demos), 1)


__all__ = ["collect", "cross_entropy", "express"]
