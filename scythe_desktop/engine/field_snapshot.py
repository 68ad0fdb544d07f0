"""A frozen copy of what a world's fields are computed from, so they can be computed without holding the world.

:meth:`FieldSnapshot.of` copies the cluster and observer rows (a few arrays of at most a few thousand rows),
with the observers' loads refreshed first, and — only for the volume — the node buffer and its cluster
column. The copy takes microseconds to milliseconds; the grids and the volume computed from it take up to
seconds, and a caller that holds a lock around the world (the orchestrator) holds it only for the copy. The
fields come from the same :class:`~scythe_desktop.engine.world_fields.WorldFields` code, so a snapshot's
grid equals the world's grid at the tick it was taken. Knows nothing of locks or the network.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.engine.world_fields import WorldFields

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World
    from scythe_desktop.engine.world_rows import ClusterRows, ObserverRows


def _copied(rows: Any) -> Any:
    """The same rows dataclass with every array copied (the world's rows are views that the next tick changes)."""
    values = {f.name: getattr(rows, f.name) for f in dataclasses.fields(rows)}
    return type(rows)(**{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()})


class FieldSnapshot(WorldFields):
    """Fields of a world as it was when :meth:`of` ran; see the module docstring."""

    def __init__(self, world: World, *, with_nodes: bool) -> None:
        world._refresh_sensing()  # the coverage grid reads the observers' loads
        self.scenario = world.scenario
        self._model = world._model
        self.tick = world.tick
        self._cluster_rows: ClusterRows = _copied(world._clusters())
        self._observer_rows: ObserverRows = _copied(world._observers())
        self._node_buffer = np.array(world.nodes, copy=True) if with_nodes else np.zeros((0, 6), np.float32)
        self._node_clusters = world.node_cluster() if with_nodes else np.zeros(0, np.int32)  # already a copy
        self._slots = world._slot_of().copy()

    @classmethod
    def of(cls, world: World, *, with_nodes: bool = False) -> FieldSnapshot:
        return cls(world, with_nodes=with_nodes)

    def _clusters(self) -> ClusterRows:
        return self._cluster_rows

    def _observers(self) -> ObserverRows:
        return self._observer_rows

    def _slot_of(self) -> NDArray[np.int64]:
        return self._slots

    @property
    def nodes(self) -> NDArray[np.float32]:
        return self._node_buffer

    def node_cluster(self) -> NDArray[np.int32]:
        return self._node_clusters

    def _refresh_sensing(self) -> None:
        pass  # refreshed before the copy


__all__ = ["FieldSnapshot"]
