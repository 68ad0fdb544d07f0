"""Fields are finite, non-negative, correctly shaped and peak where they should."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from scythe_desktop.engine import fields
from scythe_desktop.engine.actions import Deploy
from scythe_desktop.engine.geo import great_circle_km
from scythe_desktop.engine.world import World
from tests.engine.scripted import STILL, scripted


@pytest.fixture(scope="module")
def world() -> World:
    w = World(scripted(**STILL), seed=9)
    assert w.apply(Deploy(-75.0, 40.0)).ok
    for _ in range(5):
        w.step()
    return w


def _argmax_lonlat(grid: np.ndarray) -> tuple[float, float]:
    lon, lat = fields.cell_centres(*grid.shape)
    i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return float(lon[j]), float(lat[i])


def test_cell_centres_run_north_to_south_and_west_to_east() -> None:
    lon, lat = fields.cell_centres(4, 8)
    assert lon[0] == -157.5 and lon[-1] == 157.5
    assert lat[0] == 67.5 and lat[-1] == -67.5
    with pytest.raises(ValueError, match="at least 1 x 1"):
        fields.cell_centres(0, 8)


@pytest.mark.parametrize("name", ["coverage_grid", "occlusion_grid", "uncertainty_grid"])
def test_grids_are_finite_non_negative_float32(world: World, name: str) -> None:
    grid = getattr(world, name)(90, 180)
    assert grid.shape == (90, 180) and grid.dtype == np.float32
    assert np.isfinite(grid).all() and (grid >= 0).all()
    if name != "uncertainty_grid":
        assert (grid <= 1.0).all()


def test_coverage_peaks_at_the_observer(world: World) -> None:
    lon, lat = _argmax_lonlat(world.coverage_grid(180, 360))
    assert great_circle_km(lon, lat, -75.0, 40.0) < 150.0
    assert world.coverage_grid(180, 360)[10, 10] < 1e-6  # far away: nothing


def test_uncertainty_peaks_at_a_cluster_and_is_at_least_each_clusters_own_weight(world: World) -> None:
    table = world.clusters
    lon, lat = _argmax_lonlat(world.uncertainty_grid(180, 360))
    assert great_circle_km(lon, lat, table["lon"], table["lat"]).min() < 400.0
    # Bumps only add: at each centre the field holds at least that cluster's entropy × confidence.
    from scythe_desktop.engine.geo import unit_vectors

    at_centres = world._uncertainty_at(unit_vectors(table["lon"], table["lat"]).reshape(-1, 3))
    assert (at_centres >= table["entropy"] * table["confidence"] * (1 - 1e-9)).all()


def test_uncertainty_gradient_points_toward_the_cluster(world: World) -> None:
    c = world.clusters[int(np.argmax(world.clusters["entropy"]))]
    dlon, dlat = world.uncertainty_gradient(float(c["lon"]) - 4.0, float(c["lat"]) - 3.0)
    assert dlon > 0 and dlat > 0
    dlon, dlat = world.uncertainty_gradient(float(c["lon"]) + 4.0, float(c["lat"]) + 3.0)
    assert dlon < 0 and dlat < 0


def test_occlusion_reflects_the_occluded_region(world: World) -> None:
    grid = world.occlusion_grid(180, 360)
    lon, lat = fields.cell_centres(180, 360)
    j = int(np.argmin(abs(lon - 0.0)))
    arctic = grid[int(np.argmin(abs(lat - 75.0))), j]
    ocean = grid[int(np.argmin(abs(lat - 25.0))), int(np.argmin(abs(lon + 30.0)))]
    assert arctic >= 0.5 > ocean


@pytest.mark.parametrize("model", ["gaussian", "rf"])
def test_volume_is_finite_non_negative_and_peaks_on_the_swarm(world: World, model: str) -> None:
    size = 32
    vol = world.volume(size, model=model)
    assert vol.shape == (size, size, size) and vol.dtype == np.float32
    assert np.isfinite(vol).all() and (vol >= 0).all() and vol.max() > 0
    k, j, i = np.unravel_index(int(np.argmax(vol)), vol.shape)
    centre = (np.array([i, j, k]) + 0.5) * (2 * fields.EXTENT / size) - fields.EXTENT
    nodes = np.array(world.nodes)
    # The peak voxel lies within a few voxels of the swarm, not in empty space.
    nearest = np.min(np.linalg.norm(nodes[:, :3] - centre, axis=1))
    assert nearest < 3 * (2 * fields.EXTENT / size)


def test_volume_rejects_bad_arguments(world: World) -> None:
    with pytest.raises(ValueError, match="model must be"):
        world.volume(16, model="sonar")
    with pytest.raises(ValueError, match="size must be"):
        world.volume(1)


def test_torch_separable_blur_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.6, 0.6, (5000, 3)).astype(np.float32)
    w = rng.random(5000).astype(np.float32)
    size, sigma = 24, 1.3
    ours = fields.blur3d(fields.splat(pts, w, size), sigma).numpy()
    grid = np.zeros(size**3, dtype=np.float64)
    idx = np.clip(((pts + fields.EXTENT) * (size / (2 * fields.EXTENT))).astype(np.int64), 0, size - 1)
    np.add.at(grid, (idx[:, 2] * size + idx[:, 1]) * size + idx[:, 0], w)
    ref = gaussian_filter(grid.reshape(size, size, size), sigma, mode="constant", truncate=3.0)
    assert np.allclose(ours, ref, atol=1e-4 * ref.max())
    assert np.isclose(ours.sum(), w.sum(), rtol=1e-4)  # mass is kept away from the edges
