"""A per-node, pure-Python model of :class:`~scythe_desktop.core.swarm.NodeSwarm`.

It spells out the delta semantics one node at a time, so it serves as the oracle of the property
tests. A test helper: it never ships in the package or the binary.
"""

from __future__ import annotations

import numpy as np

from scythe_desktop.core.frames import FrameError
from scythe_desktop.core.layout import COL_INTENSITY, COL_SIZE, COL_THREAT, DeltaOp


class ReferenceSwarm:
    def __init__(self, nodes: np.ndarray) -> None:
        self.rows: list[list[float]] = nodes.tolist()
        self.ids: list[int] = list(range(len(self.rows)))
        self.row_of: dict[int, int] = {i: i for i in self.ids}
        self.next_id = len(self.rows)

    def nodes(self) -> np.ndarray:
        return np.asarray(self.rows, dtype=np.float32).reshape(-1, 6)

    def apply_delta(self, deltas: np.ndarray) -> None:
        records = deltas.tolist()  # (node, op, dx, dy, dz, dintensity) per row
        removed: list[int] = []
        for node, op, dx, dy, dz, di in records:
            if op == DeltaOp.UPDATE or op == DeltaOp.THREAT:
                if node not in self.row_of:
                    raise FrameError(f"unknown node id {node}")
                row = self.rows[self.row_of[node]]
                if op == DeltaOp.UPDATE:
                    # float32 arithmetic, as the vectorised path does it
                    for col, d in enumerate((dx, dy, dz, di)):
                        row[col] = float(np.float32(row[col]) + np.float32(d))
                    if not 0.0 <= row[COL_INTENSITY] <= 1.0:
                        raise FrameError(f"intensity out of range at node {node}")
                else:
                    row[COL_THREAT], row[COL_SIZE] = dx, dy
            elif op == DeltaOp.REMOVE:
                if node not in self.row_of:
                    raise FrameError(f"unknown node id {node}")
                removed.append(self.row_of[node])
        self._remove(removed)
        for node, op, dx, dy, dz, di in records:
            if op == DeltaOp.ADD:
                if node != self.next_id:
                    raise FrameError(f"ADD must use the next id {self.next_id}, got node id {node}")
                self.row_of[node] = len(self.rows)
                self.rows.append([dx, dy, dz, di, 0.0, 0.0])
                self.ids.append(node)
                self.next_id += 1

    def _remove(self, rows: list[int]) -> None:
        """Surviving rows at the end fill the holes below the new end, lowest hole first."""
        if not rows:
            return
        gone = set(rows)
        new_n = len(self.rows) - len(rows)
        holes = sorted(r for r in rows if r < new_n)
        fillers = [r for r in range(new_n, len(self.rows)) if r not in gone]
        for r in rows:
            del self.row_of[self.ids[r]]
        for hole, filler in zip(holes, fillers, strict=True):
            self.rows[hole] = self.rows[filler]
            self.ids[hole] = self.ids[filler]
            self.row_of[self.ids[hole]] = hole
        del self.rows[new_n:]
        del self.ids[new_n:]
