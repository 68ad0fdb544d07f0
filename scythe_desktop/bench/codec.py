"""``scythe bench codec``: the binary frame codec against JSON, a plain memcpy and a per-node Python loop.

All figures come from one run on one machine: each is a ratio of a baseline time to our time, so the
numbers travel between machines even though the absolute times do not.
"""

from __future__ import annotations

import json

import numpy as np

from scythe_desktop.bench.swarms import best_of as _best_of
from scythe_desktop.bench.swarms import random_swarm
from scythe_desktop.core.frames import decode, encode_delta, encode_keyframe
from scythe_desktop.core.layout import DeltaOp, empty_deltas
from scythe_desktop.core.swarm import NodeSwarm


class PythonLoopSwarm:
    """The baseline: UPDATE deltas applied one node at a time in Python, in float32 as the vectorised path."""

    def __init__(self, nodes: np.ndarray) -> None:
        self.rows: list[list[float]] = nodes.tolist()

    def apply_updates(self, deltas: np.ndarray) -> None:
        for node, _op, dx, dy, dz, di in deltas.tolist():
            row = self.rows[node]
            row[0:4] = [float(np.float32(v) + np.float32(d)) for v, d in zip(row[0:4], (dx, dy, dz, di), strict=True)]


def _churn_delta(nodes: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    n = nodes.shape[0]
    k = int(n * fraction)
    deltas = empty_deltas(k)
    deltas["node"] = np.sort(rng.choice(n, size=k, replace=False))
    deltas["op"] = DeltaOp.UPDATE
    deltas["dx"] = rng.normal(0, 1e-4, k)
    deltas["dy"] = rng.normal(0, 1e-4, k)
    deltas["dz"] = rng.normal(0, 1e-4, k)
    return deltas


def run(quick: bool = False) -> dict[str, object]:
    n = 10_000 if quick else 100_000
    repeats = 3 if quick else 20
    rng = np.random.default_rng(7)
    nodes = random_swarm(n, seed=7)
    frame = encode_keyframe(nodes, seq=1)
    payload = nodes.copy()

    as_json = json.dumps(nodes.tolist())
    t_json = _best_of(lambda: np.asarray(json.loads(as_json), dtype=np.float32), max(1, repeats // 5))
    t_decode = _best_of(lambda: decode(frame), repeats)
    t_memcpy = _best_of(lambda: np.copy(payload), repeats)

    deltas = _churn_delta(nodes, 0.05, rng)
    delta_frame = encode_delta(deltas, seq=2)

    # UPDATE deltas can be applied again and again, so each side keeps one swarm for all repeats.
    swarm = NodeSwarm(nodes)
    python_loop = PythonLoopSwarm(nodes)
    t_apply = _best_of(lambda: swarm.apply_delta(deltas), repeats)
    t_python = _best_of(lambda: python_loop.apply_updates(deltas), max(1, repeats // 5))

    return {
        "nodes": n,
        "keyframe_bytes": len(frame),
        "decode_ms": round(t_decode * 1e3, 4),
        "json_ms": round(t_json * 1e3, 2),
        "memcpy_ms": round(t_memcpy * 1e3, 4),
        "decode_vs_json": round(t_json / t_decode, 1),
        "decode_vs_json_target": 100,
        "decode_vs_memcpy": round(t_memcpy / t_decode, 3),
        "decode_vs_memcpy_target": 0.5,
        "delta_bytes": len(delta_frame),
        "delta_bytes_ratio": round(len(delta_frame) / len(frame), 4),
        "delta_bytes_ratio_target": 0.10,
        "apply_delta_ms": round(t_apply * 1e3, 3),
        "apply_delta_python_ms": round(t_python * 1e3, 2),
        "apply_delta_vs_python": round(t_python / t_apply, 1),
        "quick": quick,
    }
