"""Behaviour guard for performance work on the engine and the RL env: hashes of fixed-seed trajectories.

Prints (or checks) two SHA-256 digests:

* ``world`` — 1,000 ``regional`` ticks (seed 3, 20 observers spread as in ``scythe bench engine``, a scripted
  operator that relocates, raises sampling, focuses and decommissions) hashing every tick's cluster table,
  observer table, ``info`` scalars and event ids; plus 400 ``tutorial`` ticks with node emission, hashing nodes
  and delta frames too;
* ``env`` — 300 ``ObserverEnv("regional")`` steps (seed 7) under a fixed action sequence (a seeded generator
  picks among the valid indices of each step's mask), hashing every observation array, the mask, the reward,
  every reward component and the other ``info`` entries.

Usage: ``python scripts/perf_guard.py --write FILE`` records the digests; ``--check FILE`` recomputes them and
exits 1 on any difference. The digests are not committed: the trajectories go through numpy's exp/log/sin,
whose last-bit results depend on the CPU's SIMD paths and numpy's version, so a reference is only meaningful
on the machine that recorded it (record before a change, check after it, same venv).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from scythe_desktop.bench.engine import deploy_spread
from scythe_desktop.engine.actions import Decommission, Focus, IncreaseSampling, Relocate
from scythe_desktop.engine.env import ObserverEnv
from scythe_desktop.engine.world import World


def _update_scalars(h: Any, mapping: dict) -> None:
    for key in sorted(mapping):
        value = mapping[key]
        h.update(key.encode())
        if isinstance(value, dict):
            _update_scalars(h, value)
        elif isinstance(value, np.ndarray):
            h.update(value.tobytes())
        else:
            h.update(repr(value).encode())


def world_digest() -> str:
    h = hashlib.sha256()
    world = World("regional", seed=3, emit_nodes=False)
    deploy_spread(world, 20)
    for t in range(1000):
        actions: list = []
        obs = world.observers
        if t % 97 == 5 and len(obs):
            actions.append(Relocate(int(obs["id"][t % len(obs)]), 10.0 + t % 13, 45.0 - t % 7))
        if t % 131 == 9 and len(obs):
            actions.append(IncreaseSampling(int(obs["id"][-1])))
        if t % 53 == 1 and len(obs) and len(world.clusters):
            actions.append(Focus(int(obs["id"][0]), int(world.clusters["id"][t % len(world.clusters)])))
        if t == 600 and len(obs):
            actions.append(Decommission(int(obs["id"][2])))
        res = world.step(actions)
        h.update(world.clusters.tobytes())
        h.update(world.observers.tobytes())
        h.update(repr([(r.ok, r.reason, r.observer_id, r.cost_per_hour) for r in res.action_results]).encode())
        h.update(np.float64(res.entropy_total).tobytes())
        _update_scalars(h, dict(res.info))
        _update_scalars(h, {k: np.asarray(v) for k, v in res.events.items()})
    eager = World("tutorial", seed=4, emit_nodes=True)
    deploy_spread(eager, 3)
    for _ in range(400):
        res = eager.step()
        h.update(res.nodes.tobytes())
        h.update(res.delta.tobytes())
        h.update(eager.clusters.tobytes())
    return h.hexdigest()


def env_digest() -> str:
    h = hashlib.sha256()
    env = ObserverEnv("regional", episode_ticks=200)
    obs, info = env.reset(seed=7)
    rng = np.random.default_rng(7)
    for _ in range(300):
        for key in sorted(obs):
            h.update(key.encode())
            h.update(str(obs[key].dtype).encode())
            h.update(obs[key].tobytes())
        mask = env.action_masks()
        h.update(mask.tobytes())
        valid = np.flatnonzero(mask)
        obs, reward, terminated, truncated, info = env.step(int(valid[rng.integers(valid.size)]))
        h.update(np.float64(reward).tobytes())
        h.update(repr((terminated, truncated)).encode())
        _update_scalars(h, {k: v for k, v in info.items() if k != "action"})
        h.update(repr(info["action"]).encode())
        if truncated:
            obs, info = env.reset()
            _update_scalars(h, info)
    return h.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    digests = {"world": world_digest(), "env": env_digest()}
    print(json.dumps(digests))
    if args.write:
        args.write.write_text(json.dumps(digests) + "\n")
        return 0
    ref = json.loads(args.check.read_text())
    bad = [k for k in digests if digests[k] != ref.get(k)]
    for k in bad:
        print(f"MISMATCH {k}: {digests[k]} != reference {ref.get(k)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
