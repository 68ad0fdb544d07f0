"""A world's whole state as bytes, and back: scenario text, its batch slot (cluster and observer rows, ids,
tick, the spend ledger), the node store and the node-motion generator.

Keyed randomness has no state besides seed and tick, so a restored world continues bit-identically; the
sensing caches are rebuilt from the rows (each row's numbers come from the same arithmetic either way).
The format is a ``numpy.savez`` archive without pickles. Knows nothing of the network or policies.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Final, TypeVar

import numpy as np

from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.nodes import NodeStore
from scythe_desktop.engine.scenario import parse_scenario

if TYPE_CHECKING:
    from scythe_desktop.engine.world import World

FORMAT: Final = "scythe-world-v2"
_SCALARS: Final = ("tick", "next_cluster_id", "next_observer_id", "new_keys", "stealth", "caught_total",
                   "evaded_total")
_LEDGER: Final = ("tick_charges", "spend")
#: Added after the format was fixed: a world saved before them keeps their fresh values (padding, a full
#: stealth budget), which are inert for the worlds that had none of them.
_ADDED: Final = frozenset({"c_decoy", "c_seen_activating", "b_stealth", "b_caught_total", "b_evaded_total"})
W = TypeVar("W", bound="World")


def _expected_keys(batch: WorldBatch) -> list[str]:
    keys = [f"c_{k}" for k in batch.clusters.columns()] + [f"o_{k}" for k in batch.observers.columns()]
    return keys + [f"b_{k}" for k in _SCALARS] + [f"l_{k}" for k in _LEDGER]


def world_to_bytes(world: World) -> bytes:
    batch = world._batch
    meta = {
        "format": FORMAT,
        "seed": world.seed,
        "emit_nodes": world.emit_nodes,
        "source": world.scenario.source,
        "scenario": world.scenario.text,
        "store_tick": world._store_tick,
        "rng": world._rng_nodes.bit_generator.state,
        # Who plays the evader may differ from the scenario text's (``scythe simulate --evader``).
        "evader": None if world.scenario.adversary is None else world.scenario.adversary.evader,
    }
    arrays: dict[str, np.ndarray] = {f"c_{k}": v[0] for k, v in batch.clusters.columns().items()}
    arrays.update({f"o_{k}": v[0] for k, v in batch.observers.columns().items()})
    arrays.update({f"b_{k}": getattr(batch, k)[0] for k in _SCALARS})
    arrays.update({f"l_{k}": getattr(batch.billing, k)[0] for k in _LEDGER})
    if world._store is not None:
        arrays.update({f"n_{k}": v for k, v in world._store.state().items()})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def world_from_bytes(cls: type[W], data: bytes) -> W:
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(bytes(z["meta"]).decode())
    except Exception as exc:  # any malformed input is reported the same way
        raise ValueError(f"not a saved world: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"not a saved world: format {meta.get('format')!r}, expected {FORMAT!r}")
    w = cls.__new__(cls)
    w.scenario = parse_scenario(meta["scenario"], meta["source"])
    if w.scenario.adversary is not None and meta.get("evader"):
        w.scenario = replace(w.scenario, adversary=replace(w.scenario.adversary, evader=str(meta["evader"])))
    w.seed, w.emit_nodes = int(meta["seed"]), bool(meta["emit_nodes"])
    batch = WorldBatch(w.scenario, [w.seed], collect_events=True, initial_observers=False)
    missing = sorted(set(_expected_keys(batch)) - set(z.files) - _ADDED)
    if missing:
        raise ValueError(f"not a saved world: no {', '.join(missing)}")
    for prefix, slab in (("c_", batch.clusters.columns()), ("o_", batch.observers.columns())):
        for k, col in slab.items():
            if prefix + k in z.files:
                col[0] = z[prefix + k]
    for k in _SCALARS:
        if "b_" + k in z.files:
            getattr(batch, k)[0] = z["b_" + k]
    for k in _LEDGER:
        getattr(batch.billing, k)[0] = z["l_" + k]
    batch.sensing.mark_worlds(np.array([0]))
    batch.sensing.count_dirty[0] = True
    w._batch = batch
    w._init_derived()
    g = np.random.Generator(np.random.PCG64())
    g.bit_generator.state = meta["rng"]
    w._rng_nodes = g
    w._store_tick = int(meta["store_tick"])
    w._store = (
        NodeStore.from_state({k[2:]: z[k] for k in z.files if k.startswith("n_")}) if "n_nodes" in z.files else None
    )
    return w


__all__ = ["FORMAT", "world_from_bytes", "world_to_bytes"]
