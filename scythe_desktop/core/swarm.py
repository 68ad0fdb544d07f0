"""A node swarm that stays one dense (N, 6) buffer while delta frames add, move and remove nodes.

Node ids and rows:

* A keyframe resets ids: the node in row ``r`` gets id ``r``, and the next new id is ``N``.
* Between keyframes an id never changes and is never reused. ``ADD`` rows must carry the next ids in
  order (``next_id``, ``next_id + 1``, …) and append rows at the end of the buffer.
* ``REMOVE`` keeps the buffer dense by moving the last rows into the holes (swap-remove), so a renderer
  always draws rows ``[0, N)``; only the moved rows change.

Within one delta frame the order is: UPDATE and THREAT (on nodes that existed before the frame, each
node at most once per op), then REMOVE, then ADD. :meth:`NodeSwarm.apply_delta` is vectorised and costs
O(changed nodes), not O(N); it returns the rows it touched so an uploader can update just those.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scythe_desktop.core.frames import FrameError, validate_deltas, validate_nodes
from scythe_desktop.core.layout import (
    COL_INTENSITY,
    COL_SIZE,
    COL_THREAT,
    COL_X,
    NODE_COLUMNS,
    NODE_DTYPE,
    DeltaOp,
    check_node_buffer,
)

_ABSENT = -1


class NodeSwarm:
    """Owns a growable node buffer plus the id ↔ row maps that delta frames need."""

    def __init__(self, nodes: NDArray[np.float32] | None = None) -> None:
        self._buf = np.zeros((0, NODE_COLUMNS), dtype=NODE_DTYPE)
        self._n = 0
        self._id_of_row = np.zeros(0, dtype=np.int64)
        self._row_of_id = np.zeros(0, dtype=np.int64)  # capacity-grown; valid up to next_id
        self._next_id = 0
        self.load_keyframe(nodes if nodes is not None else np.zeros((0, NODE_COLUMNS), NODE_DTYPE))

    # ------------------------------------------------------------------------------------------ views

    @property
    def nodes(self) -> NDArray[np.float32]:
        """The live rows ``[0, N)``: a view, valid until the next call that changes the size."""
        return self._buf[: self._n]

    @property
    def ids(self) -> NDArray[np.int64]:
        """The stable id of each row."""
        return self._id_of_row[: self._n]

    @property
    def next_id(self) -> int:
        return self._next_id

    def __len__(self) -> int:
        return self._n

    def rows_of(self, ids: NDArray[np.integer]) -> NDArray[np.int64]:
        """Rows of the given ids; raises :class:`FrameError` naming the first unknown id."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.zeros(0, dtype=np.int64)
        known = (ids >= 0) & (ids < self._next_id)
        rows = np.full(ids.shape, _ABSENT, dtype=np.int64)
        rows[known] = self._row_of_id[ids[known]]
        if (rows == _ABSENT).any():
            raise FrameError(f"unknown node id {int(ids[np.flatnonzero(rows == _ABSENT)[0]])}")
        return rows

    # --------------------------------------------------------------------------------------- mutation

    def load_keyframe(self, nodes: NDArray[np.float32]) -> None:
        """Replace the swarm by a copy of ``nodes``; ids become rows."""
        check_node_buffer(nodes)
        n = nodes.shape[0]
        self._buf = np.array(nodes, dtype=NODE_DTYPE, copy=True, order="C")
        self._n = n
        self._id_of_row = np.arange(n, dtype=np.int64)
        self._row_of_id = np.arange(n, dtype=np.int64)
        self._next_id = n

    def apply_delta(self, deltas: np.ndarray) -> NDArray[np.int64]:
        """Apply one delta frame atomically and return the sorted rows whose contents changed.

        On a :class:`FrameError` the swarm is left exactly as it was.
        """
        validate_deltas(deltas)
        if deltas.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        ops = deltas["op"]
        ids = deltas["node"].astype(np.int64)
        update = ops == DeltaOp.UPDATE
        threat = ops == DeltaOp.THREAT
        remove = ops == DeltaOp.REMOVE
        add = ops == DeltaOp.ADD

        upd_rows = self._rows_once(ids[update], "UPDATE")
        thr_rows = self._rows_once(ids[threat], "THREAT")
        rem_rows = self._rows_once(ids[remove], "REMOVE")
        add_ids = ids[add]
        expected = np.arange(self.next_id, self.next_id + add_ids.size, dtype=np.int64)
        if add_ids.size and not np.array_equal(add_ids, expected):
            i = int(np.flatnonzero(add_ids != expected)[0])
            raise FrameError(f"ADD must use the next id {int(expected[i])}, got node id {int(add_ids[i])}")
        zero_tail = np.zeros(1, dtype=np.float32)
        if remove.any() and (self._values(deltas[remove]) != zero_tail).any():
            raise FrameError("REMOVE deltas must carry zero values")
        thr_vals = self._values(deltas[threat])
        if thr_vals.size and (thr_vals[:, 2:] != 0).any():
            raise FrameError("THREAT deltas carry threat in dx and size in dy; dz and dintensity must be 0")

        # Compute every changed row first and validate it, so a bad frame changes nothing.
        upd_new = self._buf[upd_rows, COL_X : COL_INTENSITY + 1] + self._values(deltas[update])
        add_vals = self._values(deltas[add])
        staged = np.zeros((upd_rows.size + add_vals.shape[0], NODE_COLUMNS), dtype=NODE_DTYPE)
        staged[: upd_rows.size] = self._buf[upd_rows]
        staged[: upd_rows.size, COL_X : COL_INTENSITY + 1] = upd_new
        staged[upd_rows.size :, COL_X : COL_INTENSITY + 1] = add_vals
        thr_staged = self._buf[thr_rows].copy()
        thr_staged[:, COL_THREAT] = thr_vals[:, 0]
        thr_staged[:, COL_SIZE] = thr_vals[:, 1]
        try:
            validate_nodes(staged)
            validate_nodes(thr_staged)
        except FrameError as exc:
            raise FrameError(f"delta would make an invalid node: {exc}") from None

        self._buf[upd_rows, COL_X : COL_INTENSITY + 1] = upd_new
        self._buf[thr_rows, COL_THREAT] = thr_vals[:, 0]
        self._buf[thr_rows, COL_SIZE] = thr_vals[:, 1]
        moved_into = self._swap_remove(rem_rows)
        appended = self._append(staged[upd_rows.size :])
        # Rows past the new end are gone, not changed.
        changed = np.concatenate([upd_rows, thr_rows, moved_into, appended])
        changed = changed[changed < self._n]
        return changed if _strictly_increasing(changed) else np.unique(changed)

    # --------------------------------------------------------------------------------------- internals

    @staticmethod
    def _values(deltas: np.ndarray) -> NDArray[np.float32]:
        return np.stack([deltas["dx"], deltas["dy"], deltas["dz"], deltas["dintensity"]], axis=1)

    def _rows_once(self, ids: NDArray[np.int64], op: str) -> NDArray[np.int64]:
        rows = self.rows_of(ids)
        if not _strictly_increasing(ids):  # senders usually sort ids, which proves them unique for free
            ordered = np.sort(ids)
            repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
            if repeated.size:
                raise FrameError(f"node id {int(ordered[repeated[0]])} appears twice as {op} in one delta")
        return rows

    def _swap_remove(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """Remove rows, filling holes below the new end with the surviving tail rows."""
        if rows.size == 0:
            return rows
        new_n = self._n - rows.size
        holes = np.sort(rows[rows < new_n])
        fillers = np.setdiff1d(np.arange(new_n, self._n), rows, assume_unique=True)
        self._row_of_id[self._id_of_row[rows]] = _ABSENT
        self._buf[holes] = self._buf[fillers]
        moved_ids = self._id_of_row[fillers]
        self._id_of_row[holes] = moved_ids
        self._row_of_id[moved_ids] = holes
        self._n = new_n
        return holes

    def _append(self, rows: NDArray[np.float32]) -> NDArray[np.int64]:
        k = rows.shape[0]
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        start, end = self._n, self._n + k
        if end > self._buf.shape[0]:
            capacity = max(end, 2 * self._buf.shape[0], 1024)
            grown = np.zeros((capacity, NODE_COLUMNS), dtype=NODE_DTYPE)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
            ids = np.zeros(capacity, dtype=np.int64)
            ids[: self._n] = self._id_of_row[: self._n]
            self._id_of_row = ids
        first_id, last_id = self._next_id, self._next_id + k
        if last_id > self._row_of_id.shape[0]:
            grown_ids = np.full(max(last_id, 2 * self._row_of_id.shape[0], 1024), _ABSENT, dtype=np.int64)
            grown_ids[:first_id] = self._row_of_id[:first_id]
            self._row_of_id = grown_ids
        self._buf[start:end] = rows
        self._id_of_row[start:end] = np.arange(first_id, last_id, dtype=np.int64)
        self._row_of_id[first_id:last_id] = np.arange(start, end, dtype=np.int64)
        self._next_id = last_id
        self._n = end
        return np.arange(start, end, dtype=np.int64)


def _strictly_increasing(values: NDArray[np.int64]) -> bool:
    return values.size < 2 or bool((values[1:] > values[:-1]).all())


def changed_runs(rows: NDArray[np.int64]) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` runs of sorted unique rows, for ranged GPU uploads."""
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = rows[np.concatenate([[0], breaks])]
    stops = rows[np.concatenate([breaks - 1, [rows.size - 1]])] + 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


__all__ = ["NodeSwarm", "changed_runs"]
