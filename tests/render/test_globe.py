"""The globe renders: ocean sphere, borders and graticule, with the far side hidden by depth."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import make_node_buffer

pytestmark = pytest.mark.gl


def _colour_fraction(img: np.ndarray, rgba: tuple[float, ...], tol: int = 4) -> float:
    target = np.round(np.asarray(rgba[:3]) * 255)
    return float((np.abs(img[..., :3].astype(int) - target).max(axis=-1) <= tol).mean())


def test_globe_renders_ocean_borders_and_graticule(globe_scene):
    from scythe_desktop.render.globe import BORDER_RGBA, GRATICULE_RGBA, OCEAN_RGBA, Globe

    globe = Globe(globe_scene.root)
    globe_scene.reset_view()
    img = globe_scene.render_offscreen()
    ocean = _colour_fraction(img, OCEAN_RGBA)
    borders = _colour_fraction(img, BORDER_RGBA)
    graticule = _colour_fraction(img, GRATICULE_RGBA)
    # The sphere fills about pi/4 * (2 / 2.6)^2 of the height-square; the background shows around it.
    assert 0.2 < ocean < 0.7
    assert borders > 0.005 and graticule > 0.002
    assert _colour_fraction(img, (0, 0, 0, 1)) > 0.2  # background (the fixture's black)

    globe.show_borders = False
    globe.show_graticule = False
    bare = globe_scene.render_offscreen()
    assert _colour_fraction(bare, BORDER_RGBA) < borders / 5
    assert _colour_fraction(bare, OCEAN_RGBA) > ocean


def test_nodes_on_the_far_side_are_hidden_by_the_globe(globe_scene):
    from scythe_desktop.render.globe import Globe
    from scythe_desktop.render.nodes import Nodes

    Globe(globe_scene.root)
    near_and_far = make_node_buffer([0, 180], [0, 0], intensity=1.0, threat=2.0)
    Nodes(near_and_far, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    img = globe_scene.render_offscreen()
    red = (img[..., 0] > 200) & (img[..., 1] < 80)
    assert red[80, 100]  # the near node at the centre
    assert red.sum() < 40  # and only it: the far node sits behind the sphere, on the same line of sight


def test_fly_to_centres_the_target_and_zooms(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    target = make_node_buffer([-74.0], [40.7], intensity=1.0)
    visual = Nodes(target, parent=globe_scene.root)
    globe_scene.fly_to(-74.0, 40.7, extent=0.3)
    assert np.allclose(globe_scene.world_to_canvas(visual, target[:, :3])[0], (100, 80), atol=0.5)
    cam_distance = np.linalg.norm(np.asarray(globe_scene.camera.center))
    assert 0.8 < cam_distance < 1.0  # orbiting close to the surface, camera outside the sphere
    with pytest.raises(ValueError, match="lat"):
        globe_scene.fly_to(0.0, 91.0)


def test_canvas_pixel_maps_back_to_lon_lat(globe_scene):
    globe_scene.fly_to(-74.0, 40.7, extent=1.0)
    lon, lat = globe_scene.canvas_to_lonlat(100, 80)
    assert abs(lon + 74.0) < 0.5 and abs(lat - 40.7) < 0.5
    globe_scene.fly_to(0.0, 0.0, extent=2.6)
    assert globe_scene.canvas_to_lonlat(2, 2) is None  # the corner is off the globe


def test_pick_node_finds_the_clicked_node_but_not_one_behind_the_globe(globe_scene):
    from scythe_desktop.render.nodes import Nodes

    nodes = make_node_buffer([0, 10, 180], [0, 5, 0], intensity=1.0)
    visual = Nodes(nodes, parent=globe_scene.root)
    globe_scene.fly_to(0, 0)
    x, y = globe_scene.world_to_canvas(visual, nodes[1:2, :3])[0]
    assert globe_scene.pick_node(visual, x + 2, y - 1) == 1
    # Node 2 is on the far side, exactly behind node 0; clicking the centre picks node 0.
    assert globe_scene.pick_node(visual, 100, 80) == 0
    visual.set_visible_range(2, 3)
    assert globe_scene.pick_node(visual, 100, 80) is None
    assert globe_scene.pick_node(visual, 5, 5) is None
