"""The shipped basemap loads with numpy alone and holds plausible Natural Earth 1:110m outlines."""

from __future__ import annotations

import numpy as np
import pytest

from scythe_desktop.render.basemap import load_basemap, resources_dir
from scythe_desktop.render.geometry import polylines_to_segments


def test_shipped_basemap_has_the_world_s_countries():
    basemap = load_basemap()
    assert 150 <= basemap.country_names.size <= 260
    assert {"France", "Brazil", "Japan", "Australia"} <= set(basemap.country_names.tolist())
    assert 5_000 <= basemap.lonlat.shape[0] <= 50_000
    assert basemap.lonlat[:, 0].min() < -170 and basemap.lonlat[:, 0].max() > 170
    assert basemap.lonlat[:, 1].min() < -80 and basemap.lonlat[:, 1].max() > 80
    assert "public domain" in basemap.licence and "Natural Earth" in basemap.source


def test_france_outline_lies_around_paris():
    basemap = load_basemap()
    france = int(np.flatnonzero(basemap.country_names == "France")[0])
    lines = np.flatnonzero(basemap.country_of_line == france)
    points = np.concatenate([basemap.lonlat[basemap.offsets[k] : basemap.offsets[k + 1]] for k in lines])
    # Metropolitan France's ring contains Paris (2.35E, 48.86N) within its bounding box.
    boxes = [
        (p[:, 0].min(), p[:, 0].max(), p[:, 1].min(), p[:, 1].max())
        for p in (basemap.lonlat[basemap.offsets[k] : basemap.offsets[k + 1]] for k in lines)
    ]
    assert any(x0 < 2.35 < x1 and y0 < 48.86 < y1 for x0, x1, y0, y1 in boxes)
    assert points.shape[0] > 20


def test_segments_never_join_two_outlines():
    points = np.zeros((7, 2))
    segments = polylines_to_segments(points, np.array([0, 3, 7]))
    assert segments.tolist() == [[0, 1], [1, 2], [3, 4], [4, 5], [5, 6]]


def test_a_broken_basemap_file_is_rejected_naming_it(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, lonlat=np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"bad\.npz lacks offsets"):
        load_basemap(bad)
    with pytest.raises(ValueError, match="cannot read basemap"):
        load_basemap(tmp_path / "missing.npz")


def test_resources_are_found_next_to_the_package():
    assert (resources_dir() / "basemap" / "ne_110m_borders.npz").is_file()
