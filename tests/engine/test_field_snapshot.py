"""A field snapshot computes exactly the world's fields at the tick it was taken, and later ticks do not touch it."""

from __future__ import annotations

import numpy as np

from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.field_snapshot import FieldSnapshot
from scythe_desktop.engine.world import World


def test_a_snapshot_equals_the_world_and_stays_put() -> None:
    world = World("tutorial", 3)
    world.apply(Deploy(-70.0, 40.0))
    for _ in range(4):
        world.step()
    snap = FieldSnapshot.of(world, with_nodes=True)
    grids = {name: getattr(world, f"{name}_grid")(45, 90) for name in ("coverage", "occlusion", "uncertainty")}
    volume = world.volume(16)
    for _ in range(5):
        world.step()
    world.apply(Deploy(5.0, 48.0))
    for name, expected in grids.items():
        np.testing.assert_array_equal(getattr(snap, f"{name}_grid")(45, 90), expected, err_msg=name)
    np.testing.assert_array_equal(snap.volume(16), volume)
    assert snap.tick == 4


def test_blocked_gaussian_bumps_match_the_full_sum_within_the_cutoff() -> None:
    from scythe_desktop.engine import fields

    rng = np.random.default_rng(1)
    pts = fields.grid_unit_vectors(100, 200)  # 20,000 × 300 pairs: three blocks
    centres = rng.normal(size=(300, 3))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sigma, amp = rng.uniform(100, 900, 300), rng.uniform(0, 1, 300)
    d = fields.EARTH_RADIUS_KM * np.arccos(np.clip(pts @ centres.T, -1.0, 1.0))
    np.testing.assert_allclose(fields.gaussian_bumps(pts, centres, sigma, amp),
                               np.exp(-0.5 * (d / sigma) ** 2) @ amp, rtol=1e-12, atol=300 * np.exp(-32.0))
