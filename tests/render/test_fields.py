"""Volumetric fields and draped lon/lat grids render, toggle and switch."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gl


def _lit(img: np.ndarray) -> int:
    return int((img[..., :3].max(axis=-1) > 10).sum())


def test_volume_renders_a_float_field_without_rescaling_and_toggles(globe_scene):
    from scythe_desktop.render.fields import FieldBox, VolumeField

    field = np.zeros((32, 32, 32), np.float32)
    field[12:20, 12:20, 12:20] = 5.0  # a bright cube in the middle, far outside [0, 1]
    volume = VolumeField(globe_scene.root, cmap="grays")
    assert _lit(globe_scene.render_offscreen()) == 0  # hidden until a field is set
    volume.set_field(field, FieldBox(half_extent=1.0))
    assert volume.clim == (0.0, 5.0)
    img = globe_scene.render_offscreen()
    assert img[80, 100, :3].min() > 200  # the cube projects onto the centre, at full brightness
    assert 200 < _lit(img) < 0.5 * img.shape[0] * img.shape[1]
    assert img[5, 5, :3].max() < 10  # empty voxels stay dark
    volume.set_threshold(6.0)  # above every value: nothing left to show
    assert _lit(globe_scene.render_offscreen()) == 0
    volume.set_threshold(0.0)
    volume.visible = False
    assert _lit(globe_scene.render_offscreen()) == 0


def test_field_must_be_a_float32_cube():
    from scythe_desktop.render.fields import _check_field

    with pytest.raises(ValueError, match="float32"):
        _check_field(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="cube"):
        _check_field(np.zeros((4, 4, 5), np.float32))


def test_grids_drape_on_the_globe_and_switch(globe_scene):
    from scythe_desktop.render.fields import GridLayers
    from scythe_desktop.render.globe import Globe

    Globe(globe_scene.root)
    layers = GridLayers(globe_scene.root, opacity=1.0)
    globe_scene.fly_to(0, 0)
    plain = globe_scene.render_offscreen()

    lat = np.linspace(-90, 90, 90)[:, None]
    coverage = np.broadcast_to(np.cos(np.radians(lat)), (90, 180)).astype(np.float32).copy()
    layers.set_grid("coverage", coverage)
    layers.set_grid("uncertainty", np.ones((45, 90), np.float32) * 0.2, clim=(0.0, 1.0))
    assert layers.active is None
    layers.show("coverage")
    draped = globe_scene.render_offscreen()
    # The equator (value 1 -> the top of viridis, yellow) is at the centre of the view.
    r, g, b = draped[80, 100, :3].astype(int)
    assert r > 180 and g > 180 and b < 120
    assert np.abs(draped.astype(int) - plain.astype(int)).max(axis=-1).mean() > 20

    layers.show("uncertainty")
    assert layers.active == "uncertainty"
    assert not np.array_equal(globe_scene.render_offscreen(), draped)
    layers.show(None)
    np.testing.assert_array_equal(globe_scene.render_offscreen(), plain)
    with pytest.raises(ValueError, match="unknown grid kind"):
        layers.set_grid("rainfall", coverage)
    with pytest.raises(ValueError, match="no 'occlusion' grid"):
        layers.show("occlusion")


def test_a_grid_in_the_engine_layout_renders_north_up_and_west_left(globe_scene):
    """Row 0 is the north edge and column 0 is lon -180° (engine and wire layout): no flip anywhere."""
    from scythe_desktop.core.layout import lonlat_to_unit
    from scythe_desktop.render.fields import GridLayers

    layers = GridLayers(globe_scene.root, opacity=1.0)
    grid = np.zeros((18, 36), np.float32)  # 10° cells
    # The hot cell covers lat 40..50 N (row 4 from the north) and lon 30..20 W (column 15 from -180°).
    grid[4, 15] = 1.0
    layers.set_grid("uncertainty", grid, clim=(0.0, 1.0))
    layers.show("uncertainty")
    globe_scene.fly_to(0.0, 0.0)
    img = globe_scene.render_offscreen().astype(int)

    def brightness(lon: float, lat: float) -> int:
        x, y = globe_scene.world_to_canvas(layers.shell, lonlat_to_unit([lon], [lat]))[0]
        return int(img[round(y - 0.5), round(x - 0.5), :3].max())

    hot = brightness(-25.0, 45.0)
    assert hot > 150  # north-west of the view centre
    # Its mirror images under the flips this test guards against stay dark.
    for lon, lat in ((-25.0, -45.0), (25.0, 45.0), (25.0, -45.0)):
        assert brightness(lon, lat) < hot / 3, (lon, lat)
    # And on screen it is up and to the left of the centre (canvas y grows downward).
    x, y = globe_scene.world_to_canvas(layers.shell, lonlat_to_unit([-25.0], [45.0]))[0]
    assert x < 100 and y < 80
