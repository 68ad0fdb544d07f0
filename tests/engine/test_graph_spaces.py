"""The graph layout: vectorised placement, the exact joint mask on every entity, one encoder for a batch and
for a single world, and worlds of different sizes in one observation space."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.engine.batch.world_batch import WorldBatch
from scythe_desktop.engine.constraints import check_placement
from scythe_desktop.engine.rl import graph_layout as gl
from scythe_desktop.engine.rl.graph_sites import Placement, ico_sites, icosphere
from scythe_desktop.engine.rl.graph_spaces import GraphView
from scythe_desktop.engine.scenario import load_scenario
from scythe_desktop.engine.world import World

SCENARIOS = ("tutorial", "regional", "global")


def drive(world: World, ticks: int, seed: int) -> GraphView:
    """Play random unmasked actions (deploys first) so that observers, focus and a tight budget exist."""
    rng = np.random.default_rng(seed)
    view = GraphView(world.batch)
    for _ in range(ticks):
        view.refresh(np.zeros(1))
        allowed = np.flatnonzero(view.mask[0])
        deploys = allowed[(allowed >= gl.OFFSETS["deploy"]) & (allowed < gl.OFFSETS["relocate"])]
        pick = deploys if deploys.size and rng.random() < 0.6 else allowed
        action = view.action(int(rng.choice(pick)))
        result = world.step((action,) if action is not None else ())
        assert all(r.ok for r in result.action_results)
    view.refresh(np.zeros(1))
    return view


def existing_rows(view: GraphView, n_types: int) -> np.ndarray:
    """Indices whose rows exist in world 0 (a type, an observer, a shown cluster, a site)."""
    n_obs, n_sites, shown = int(view.batch.observers.n[0]), view.site_ok.shape[1], int(view.shown[0])
    exists = np.zeros(gl.N_ACTIONS, dtype=bool)
    blocks = {
        "deploy": (gl.MAX_TYPES, gl.MAX_SITES, n_types, n_sites),
        "relocate": (gl.MAX_OBSERVERS, gl.MAX_SITES, n_obs, n_sites),
        "focus": (gl.MAX_OBSERVERS, gl.MAX_CLUSTERS, n_obs, shown),
    }
    for name, (rows, cols, live_rows, live_cols) in blocks.items():
        grid = np.zeros((rows, cols), dtype=bool)
        grid[:live_rows, :live_cols] = True
        exists[gl.OFFSETS[name] : gl.OFFSETS[name] + grid.size] = grid.ravel()
    for name in ("sampling", "decommission"):
        exists[gl.OFFSETS[name] : gl.OFFSETS[name] + n_obs] = True
    return np.flatnonzero(exists)


def test_icosphere_and_sites() -> None:
    assert [len(icosphere(level)) for level in range(4)] == [12, 42, 162, 642]
    assert np.allclose(np.linalg.norm(icosphere(2), axis=1), 1.0)
    for name in SCENARIOS:
        sites, ok = ico_sites(load_scenario(name))
        assert 1 <= len(sites) <= 128 and ok.any(axis=0).all()


@pytest.mark.parametrize("name", SCENARIOS)
def test_vectorised_placement_is_the_scalar_rule(name: str) -> None:
    sc = load_scenario(name)
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-180, 180, 600), rng.uniform(-90, 90, 600)
    table = Placement(sc).table(lon, lat)
    for t in range(len(sc.observer_types)):
        expected = [check_placement(sc, float(a), float(b), t) is None for a, b in zip(lon, lat, strict=True)]
        assert table[t].tolist() == expected


@pytest.mark.parametrize("name", SCENARIOS)
def test_mask_is_exact_for_every_entity(name: str) -> None:
    world = World(name, 5, emit_nodes=False)
    view = drive(world, 12 if name != "global" else 8, seed=2)
    mask = view.mask[0]
    unmasked = np.flatnonzero(mask)
    kinds = {gl.block(int(i))[0] for i in unmasked}
    assert kinds >= {"noop", "relocate", "focus", "decommission"}  # deploys too unless the cap is reached
    for i in unmasked[1:]:
        action = view.action(int(i))
        assert world.validate(action) is None, (gl.block(int(i)), action)
    masked = np.setdiff1d(existing_rows(view, len(world.scenario.observer_types)), unmasked)
    assert masked.size > 0
    for i in np.random.default_rng(3).choice(masked, size=min(300, masked.size), replace=False):
        action = view.action(int(i))
        assert world.validate(action) is not None, (gl.block(int(i)), action)


def test_a_single_world_is_its_batch_row() -> None:
    sc = load_scenario("regional")
    batch = WorldBatch(sc, [3, 4, 5])
    many = GraphView(batch)
    for _ in range(3):
        batch.step()
    many.refresh(np.zeros(3))
    world = World(sc, 4, emit_nodes=False)
    for _ in range(3):
        world.step(())
    one = GraphView(world.batch)
    one.refresh(np.zeros(1))
    for key, value in one.obs.items():
        np.testing.assert_array_equal(value[0], many.obs[key][1], err_msg=key)
    np.testing.assert_array_equal(one.mask[0], many.mask[1])


def test_worlds_of_different_sizes_share_one_space() -> None:
    space = gl.observation_space()
    obs = [GraphView(WorldBatch(load_scenario(n), [0, 1])).obs for n in SCENARIOS]
    batch = {k: np.concatenate([o[k] for o in obs]) for k in obs[0]}
    for key, sub in space.spaces.items():
        assert batch[key].shape == (6, *sub.shape) and batch[key].dtype == np.float32
        assert sub.contains(batch[key][0]) and sub.contains(batch[key][-1]), key
    shown = batch["cluster_mask"].sum(axis=1)
    assert shown[0] < shown[2] < shown[4]  # tutorial < regional < global
    assert all(gl.fits(load_scenario(n)) for n in SCENARIOS)
