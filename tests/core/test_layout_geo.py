"""lon/lat <-> unit-sphere conversions of core.layout, including the poles and the antimeridian."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.core.layout import lonlat_to_unit, unit_to_lonlat

lons = st.floats(-180.0, 180.0, allow_nan=False)
lats = st.floats(-90.0, 90.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(lons, lats, st.floats(0.0, 0.5))
def test_round_trip_returns_the_same_point(lon, lat, alt) -> None:
    xyz = lonlat_to_unit(lon, lat, alt)
    assert abs(float(np.linalg.norm(xyz)) - (1.0 + alt)) < 1e-12
    lon2, lat2, alt2 = unit_to_lonlat(xyz)
    assert -180.0 <= float(lon2) < 180.0
    assert abs(float(lat2) - lat) < 1e-9 and abs(float(alt2) - alt) < 1e-12
    # Longitude is defined up to a full turn and is meaningless at the poles: compare positions.
    assert np.allclose(lonlat_to_unit(lon2, lat2, alt2), xyz, atol=1e-12)
    if abs(lat) < 89.999:
        diff = (float(lon2) - lon + 180.0) % 360.0 - 180.0
        assert abs(diff) < 1e-9


@settings(max_examples=100, deadline=None)
@given(lons)
def test_poles_map_to_the_axis_whatever_the_longitude(lon) -> None:
    assert np.allclose(lonlat_to_unit(lon, 90.0), [0.0, 0.0, 1.0], atol=1e-15)
    assert np.allclose(lonlat_to_unit(lon, -90.0), [0.0, 0.0, -1.0], atol=1e-15)
    assert float(unit_to_lonlat(lonlat_to_unit(lon, 90.0))[1]) == 90.0


def test_antimeridian_is_one_place_and_reads_back_as_minus_180() -> None:
    east, west = lonlat_to_unit(180.0, 10.0), lonlat_to_unit(-180.0, 10.0)
    assert np.allclose(east, west, atol=1e-15)
    lon, _, _ = unit_to_lonlat(east)
    assert abs(float(lon) + 180.0) < 1e-9  # [-180, 180): the antimeridian reads as -180


def test_vectorised_shapes() -> None:
    lon = np.linspace(-180, 179, 12).reshape(3, 4)
    lat = np.linspace(-90, 90, 12).reshape(3, 4)
    xyz = lonlat_to_unit(lon, lat)
    assert xyz.shape == (3, 4, 3)
    lon2, lat2, _ = unit_to_lonlat(xyz)
    assert lon2.shape == (3, 4) and np.allclose(lat2, lat)
