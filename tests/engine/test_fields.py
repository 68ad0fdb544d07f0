"""Fields are finite, non-negative, correctly shaped and peak where they should; the numpy backend of the
volumes gives torch's numbers (to fields.BACKEND_RTOL), also in an interpreter without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# --- the numpy backend (engine.fields_numpy) against torch: BACKEND_RTOL × the volume's maximum ---------------

def _within_tolerance(torch_vol: np.ndarray, numpy_vol: np.ndarray) -> float:
    """The difference as a fraction of the torch volume's maximum, after checking layout and dtype."""
    assert numpy_vol.shape == torch_vol.shape and numpy_vol.dtype == torch_vol.dtype == np.float32
    assert numpy_vol.flags.c_contiguous and (numpy_vol >= 0).all()
    rel = float(np.abs(numpy_vol - torch_vol).max() / max(float(torch_vol.max()), 1e-30))
    assert rel <= fields.BACKEND_RTOL, rel
    return rel


def _swarm(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes near the globe's surface, a dense clump among them, and a few outside the cube (clamped)."""
    rng = np.random.default_rng(seed)
    xyz = rng.normal(size=(n, 3))
    xyz *= rng.uniform(0.9, 1.05, (n, 1)) / np.linalg.norm(xyz, axis=1, keepdims=True)
    xyz[: n // 4] = rng.normal([0.4, -0.5, 0.7], 0.03, (n // 4, 3))
    xyz[-5:] = rng.uniform(-1.5, 1.5, (5, 3))
    return xyz.astype(np.float32), rng.exponential(1.0, n).astype(np.float32)


@pytest.mark.parametrize("size", [16, 32, 48])
@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_volumes_match_torch_on_random_swarms(size: int, seed: int) -> None:
    xyz, w = _swarm(seed, 20_000)
    _within_tolerance(fields.volume_gaussian(xyz, w, size, "torch"), fields.volume_gaussian(xyz, w, size, "numpy"))
    occlusion = np.random.default_rng(seed).random((45, 90)).astype(np.float32)
    _within_tolerance(fields.volume_rf(xyz, w, size, occlusion, "torch"),
                      fields.volume_rf(xyz, w, size, occlusion, "numpy"))


@pytest.fixture(scope="module")
def regional() -> World:
    w = World("regional", 4)
    for _ in range(3):
        w.step()
    return w


@pytest.mark.parametrize("model", ["gaussian", "rf"])
@pytest.mark.parametrize("size", [32, 64, 96])  # the console's volume, World.volume's default, the field desk's cap
def test_numpy_world_volumes_match_torch(regional: World, model: str, size: int) -> None:
    _within_tolerance(regional.volume(size, model, backend="torch"), regional.volume(size, model, backend="numpy"))


def test_numpy_splat_is_torchs_to_the_bit_and_its_blur_matches_scipy() -> None:
    from scythe_desktop.engine import fields_numpy

    xyz, w = _swarm(2, 50_000)
    assert np.array_equal(fields_numpy.splat(xyz, w, 24), fields.splat(xyz, w, 24).numpy())
    grid = fields_numpy.splat(xyz, w, 24).astype(np.float64)
    ref = gaussian_filter(grid, 1.3, mode="constant", truncate=3.0)
    assert np.allclose(fields_numpy.blur3d(fields_numpy.splat(xyz, w, 24), 1.3), ref, atol=1e-4 * ref.max())
    with pytest.raises(ValueError, match="at most 256"):
        fields_numpy.splat(xyz, w, 300)


def test_a_backend_is_checked() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        fields.volume_gaussian(np.zeros((1, 3), np.float32), np.ones(1, np.float32), 8, backend="cuda")


def test_volumes_without_torch_are_torchs(regional: World, tmp_path: Path) -> None:
    """A fresh interpreter that cannot import torch computes both volumes (auto: numpy) of the same world."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from scythe_desktop.engine.world import World\n"
        "w = World('regional', 4)\n"
        "for _ in range(3): w.step()\n"
        f"np.savez({str(tmp_path / 'numpy.npz')!r}, gaussian=w.volume(32), rf=w.volume(32, 'rf'))\n"
        "print(sorted(m for m in ('torch', 'stable_baselines3') if sys.modules.get(m) is not None))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[]"]
    with np.load(tmp_path / "numpy.npz") as without:
        for model in ("gaussian", "rf"):
            _within_tolerance(regional.volume(32, model, backend="torch"), without[model])
