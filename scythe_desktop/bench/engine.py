"""``scythe bench engine``: simulator throughput, the volumetric field against a naive splat + blur, and a
full tick of the million-node world.

Keys (each goal also has ``<key>_target``):

* ``steps_per_s`` — ticks per second of ``regional`` with 20 observers and no node emission or fields
  (the RL path), best of five 1,000-tick runs, counted in this process's CPU time: the simulator is
  single-threaded, so that is the time on one core, and it does not charge us for other processes on a
  shared machine. ``steps_per_s_wall`` is the same by the wall clock (lower whenever cores are shared);
* ``field_1m_128_ms`` — ``World.volume(128)`` (gaussian) on the ``global`` scenario's ≥ 1M nodes, torch CPU,
  median of several runs, with the better of 1 thread and torch's default thread count (both are reported
  in ``field_ms_by_torch_threads``; ``torch_threads`` says which one the figure used), by the wall clock;
  ``field_1m_128_cpu_ms_one_thread`` is the one-thread figure in process CPU time (what one free core
  would take);
* ``field_vs_naive`` — the same field by ``np.add.at`` + ``scipy.ndimage.gaussian_filter`` ÷ ours;
* ``tick_1m_ms`` — one ``global`` tick with node emission, including the delta frame;
* the batched engine's keys (:mod:`scythe_desktop.bench.batch`): ``batch_env_steps_per_s`` (``batch_size``),
  ``batch_vs_gym_env``, ``train_steps_per_s``, ``train_vs_subproc``, ``batch_slot_max_abs_diff``,
  ``setup_fee_duty_cycle_ratio``, and ``world_ticks_per_s`` (the same single-world figure as ``steps_per_s``).

``--quick`` shrinks every case (``tutorial``/``regional`` instead of ``global``, small grids) so the keys
can be checked in a test within seconds; its figures are not meaningful.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from scythe_desktop.engine import fields
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.world import World

STEPS_PER_S_TARGET = 10_000.0
FIELD_MS_TARGET = 50.0
FIELD_VS_NAIVE_TARGET = 5.0
TICK_1M_MS_TARGET = 250.0


def _times(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def deploy_spread(world: World, count: int, seed: int = 0) -> int:
    """Deploy up to ``count`` default observers at random allowed sites near clusters; returns how many."""
    rng = np.random.default_rng(seed)
    table = world.clusters
    placed = 0
    for _ in range(50 * count):
        if placed == count:
            break
        c = table[rng.integers(0, table.shape[0])]
        lon = float(np.clip(c["lon"] + rng.normal(0.0, 3.0), -180.0, 180.0))
        lat = float(np.clip(c["lat"] + rng.normal(0.0, 2.0), -90.0, 90.0))
        if world.apply(Deploy(lon, lat)).ok:
            placed += 1
    return placed


def _steps_per_s(scenario: str, observers: int, ticks: int, repeats: int) -> tuple[float, float, int]:
    """(ticks per CPU second, ticks per wall second, observers placed), best of ``repeats`` runs."""
    world = World(scenario, seed=0, emit_nodes=False)
    placed = deploy_spread(world, observers)
    for _ in range(200):
        world.step()
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(ticks):
            world.step()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return ticks / best_cpu, ticks / best_wall, placed


def _naive_field(nodes: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    grid = np.zeros(size**3, dtype=np.float64)
    idx = ((nodes[:, :3] + fields.EXTENT) * (size / (2 * fields.EXTENT))).astype(np.int64)
    np.clip(idx, 0, size - 1, out=idx)
    np.add.at(grid, (idx[:, 2] * size + idx[:, 1]) * size + idx[:, 0], weight)
    sigma = fields.VOLUME_SIGMA * size / (2 * fields.EXTENT)
    return gaussian_filter(grid.reshape(size, size, size), sigma, mode="constant", truncate=3.0)


def run(quick: bool = False) -> dict[str, object]:
    steps_scenario = "tutorial" if quick else "regional"
    field_scenario = "regional" if quick else "global"
    size = 32 if quick else 128
    steps_per_s, steps_per_s_wall, placed = _steps_per_s(steps_scenario, 20, 100 if quick else 1000, 2 if quick else 5)

    world = World(field_scenario, seed=0, emit_nodes=True)
    deploy_spread(world, 32)
    world.step()
    nodes = np.array(world.nodes)
    # torch's default is one thread per core; on a loaded machine a second thread that is not scheduled
    # stalls every parallel region, so measure each thread count and report the best, saying which.
    default_threads = torch.get_num_threads()
    by_threads: dict[int, float] = {}
    cpu_one_thread = []
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        world.volume(size)  # warm-up (kernels, allocations)
        walls = []
        for _ in range(3 if quick else 7):
            c0, w0 = time.process_time(), time.perf_counter()
            world.volume(size)
            walls.append(time.perf_counter() - w0)
            if threads == 1:
                cpu_one_thread.append(time.process_time() - c0)
        by_threads[threads] = 1e3 * sorted(walls)[len(walls) // 2]
    threads_used = min(by_threads, key=by_threads.__getitem__)
    field_ms = by_threads[threads_used]
    torch.set_num_threads(default_threads)
    weight = world.node_uncertainty()
    naive_ms = 1e3 * min(_times(lambda: _naive_field(nodes, weight, size), 1 if quick else 2))
    # Both compute the same field: check it, so the ratio compares like with like.
    ref = _naive_field(nodes, weight, size)
    agree = float(np.abs(world.volume(size) - ref).max() / max(float(ref.max()), 1e-12))

    ticks = sorted(_times(world.step, 3 if quick else 10))
    tick_ms = 1e3 * ticks[len(ticks) // 2]
    from scythe_desktop.bench import batch

    batched = batch.run(quick)
    return {
        **batched,
        "world_ticks_per_s": round(steps_per_s, 1),
        "world_ticks_per_s_target": batch.WORLD_TICKS_TARGET,
        "steps_per_s": round(steps_per_s, 1),
        "steps_per_s_target": STEPS_PER_S_TARGET,
        "steps_per_s_wall": round(steps_per_s_wall, 1),
        "steps_scenario": steps_scenario,
        "steps_observers": placed,
        "field_1m_128_ms": round(field_ms, 2),
        "field_1m_128_ms_target": FIELD_MS_TARGET,
        "field_naive_ms": round(naive_ms, 2),
        "field_vs_naive": round(naive_ms / field_ms, 2),
        "field_vs_naive_target": FIELD_VS_NAIVE_TARGET,
        "field_max_rel_diff": agree,
        "field_nodes": int(nodes.shape[0]),
        "field_size": size,
        "torch_threads": threads_used,
        "field_ms_by_torch_threads": {str(k): round(v, 2) for k, v in by_threads.items()},
        "field_1m_128_cpu_ms_one_thread": round(1e3 * sorted(cpu_one_thread)[len(cpu_one_thread) // 2], 2),
        "tick_1m_ms": round(tick_ms, 2),
        "tick_1m_ms_target": TICK_1M_MS_TARGET,
        "tick_nodes": int(world.nodes.shape[0]),
        "tick_scenario": field_scenario,
        "quick": quick,
    }
