"""Encode and forward milliseconds per decision of the graph policy (a world as a batch of one), on
``regional`` and ``global``: ``python scripts/graph_timing.py``. A measurement, not a test."""

from __future__ import annotations

import time

import numpy as np
import torch

from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.graph_net import GraphNet
from scythe_desktop.engine.rl.graph_spaces import GraphView
from scythe_desktop.engine.world import World


def main(decisions: int = 20) -> None:
    torch.manual_seed(0)
    net = GraphNet().eval()
    for name in ("regional", "global"):
        world = World(name, 0, emit_nodes=False)
        view = GraphView(world.batch)
        encode = forward = 0.0
        for tick in range(decisions):
            t0 = time.perf_counter()
            view.refresh(np.array([tick / 200]))
            t1 = time.perf_counter()
            with torch.no_grad():
                logits, _ = net({k: torch.as_tensor(v) for k, v in view.obs.items()})
            t2 = time.perf_counter()
            encode, forward = encode + t1 - t0, forward + t2 - t1
            index = int(torch.where(torch.as_tensor(view.mask[0]), logits[0], -1e9).argmax())
            action = view.action(index)
            world.step((action,) if action is not None else ())
        print(f"{name}: encode {1000 * encode / decisions:.1f} ms, forward {1000 * forward / decisions:.1f} ms "
              f"per decision ({gl.N_ACTIONS} actions, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
