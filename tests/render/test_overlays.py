"""Observers, proposal ghosts and gradient arrows render where their view-models say."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.core.layout import lonlat_to_unit
from scythe_desktop.render.geometry import great_circle_km, small_circle
from scythe_desktop.render.overlays import GradientField, ObserverView, ProposalView, load_color


def test_small_circle_lies_at_the_requested_ground_distance():
    ring = small_circle(10.0, 50.0, 800.0, samples=16)
    lon = np.degrees(np.arctan2(ring[:, 1], ring[:, 0]))
    lat = np.degrees(np.arcsin(ring[:, 2]))
    distances = [great_circle_km(10.0, 50.0, a, b) for a, b in zip(lon, lat, strict=True)]
    assert np.allclose(distances, 800.0, rtol=1e-6)
    assert np.allclose(ring[0], ring[-1])


def test_view_models_reject_bad_values_naming_the_item():
    with pytest.raises(ValueError, match=r"observer 'o1': load must be in \[0, 1\], got 1.5"):
        ObserverView("o1", 0.0, 0.0, 100.0, load=1.5)
    with pytest.raises(ValueError, match=r"proposal target 'p1'"):
        ProposalView("p1", 0.0, 0.0, 100.0, target_lon=0.0, target_lat=95.0, confidence=0.5, gain=1.0)
    with pytest.raises(ValueError, match="1-D with one shape"):
        GradientField(np.zeros(3), np.zeros(3), np.zeros(2), np.zeros(3))


def test_load_colour_goes_from_green_to_red():
    low, high = load_color(np.array([0.0, 1.0]))
    assert low[1] > low[0] and high[0] > high[1]


@pytest.mark.gl
def test_observers_show_load_colour_and_footprint(globe_scene):
    from scythe_desktop.render.overlays import ObserverOverlay

    overlay = ObserverOverlay(globe_scene.root, show_labels=False)
    overlay.set_observers([ObserverView("o1", 0.0, 0.0, 1500.0, load=1.0)])
    globe_scene.fly_to(0.0, 0.0)
    img = globe_scene.render_offscreen().astype(int)
    r, g = img[80, 100, :2]
    assert r > 200 and g < 110  # saturated load: red marker at the observer
    ring = globe_scene.world_to_canvas(overlay.footprints, small_circle(0.0, 0.0, 1500.0, samples=8)[:-1])
    ring_hits = [
        img[round(y - 0.5) - 1 : round(y - 0.5) + 2, round(x - 0.5) - 1 : round(x - 0.5) + 2, 1].max() for x, y in ring
    ]
    assert min(ring_hits) > 150  # the green footprint passes through every sampled ring point
    overlay.set_observers([])
    assert globe_scene.render_offscreen()[..., :3].max() == 0


@pytest.mark.gl
def test_proposals_draw_ghosts_and_cones_toward_the_target(globe_scene):
    from scythe_desktop.render.overlays import GradientArrows, ProposalOverlay

    overlay = ProposalOverlay(globe_scene.root)
    proposal = ProposalView("p1", -20.0, 0.0, 300.0, target_lon=20.0, target_lat=0.0, confidence=0.1, gain=0.4)
    overlay.set_proposals([proposal])
    globe_scene.fly_to(0.0, 0.0)
    img = globe_scene.render_offscreen().astype(int)
    ghost = globe_scene.world_to_canvas(overlay.ghosts, lonlat_to_unit([-20.0], [0.0]))[0]
    assert img[round(ghost[1] - 0.5), round(ghost[0] - 0.5), :3].max() > 40
    # The cone covers the midpoint of its axis (raised ghost to target), faintly (translucent).
    axis_mid = (lonlat_to_unit(-20.0, 0.0, overlay.cone_height) + lonlat_to_unit(20.0, 0.0)) / 2
    mid = globe_scene.world_to_canvas(overlay.cones, axis_mid[None, :])[0]
    assert 5 < img[round(mid[1] - 0.5), round(mid[0] - 0.5), :3].max() < 200
    assert overlay.spread_km(0.9) < overlay.spread_km(0.1)

    arrows = GradientArrows(globe_scene.root)
    arrows.set_gradient(GradientField(np.array([0.0]), np.array([30.0]), np.array([10.0]), np.array([0.0])))
    assert arrows.visible


@pytest.mark.gl
def test_the_globe_still_renders_in_the_frames_after_proposals_are_drawn(globe_scene):
    """The cones do not write depth; that must not leak into the next frame's depth clear (the globe vanished)."""
    from scythe_desktop.render.globe import OCEAN_RGBA, Globe
    from scythe_desktop.render.overlays import ProposalOverlay

    Globe(globe_scene.root)
    overlay = ProposalOverlay(globe_scene.root)
    globe_scene.fly_to(0.0, 0.0)
    ocean = np.array(OCEAN_RGBA[:3]) * 255

    def ocean_share() -> float:
        img = globe_scene.render_offscreen()[..., :3].astype(float)
        return float((np.abs(img - ocean).sum(axis=-1) < 30).mean())

    assert ocean_share() > 0.05  # the globe is drawn at all
    overlay.set_proposals(
        [ProposalView("p1", -20.0, 0.0, 300.0, target_lon=20.0, target_lat=0.0, confidence=0.5, gain=0.3)]
    )
    first = globe_scene.render_offscreen()
    assert (np.abs(first[..., :3].astype(float) - ocean).sum(axis=-1) < 30).mean() > 0.05
    for _ in range(2):  # the next frames look exactly like the first one with proposals
        np.testing.assert_array_equal(globe_scene.render_offscreen(), first)
