"""Great-circle geometry: metric properties, poles, the antimeridian, agreement of two formulas."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.engine.geo import (
    EARTH_RADIUS_KM,
    chord_to_km,
    destination,
    great_circle_km,
    unit_vectors,
    wrap_lon,
)

lons = st.floats(-180.0, 180.0, allow_nan=False)
lats = st.floats(-90.0, 90.0, allow_nan=False)
HALF_CIRCUMFERENCE = math.pi * EARTH_RADIUS_KM


@settings(max_examples=200, deadline=None)
@given(lons, lats, lons, lats)
def test_distance_is_symmetric_bounded_and_matches_the_dot_product_formula(a, b, c, d) -> None:
    ab = float(great_circle_km(a, b, c, d))
    assert ab == float(great_circle_km(c, d, a, b))
    assert 0.0 <= ab <= HALF_CIRCUMFERENCE + 1e-6
    dot = float(unit_vectors(a, b) @ unit_vectors(c, d))
    # arccos is ill-conditioned near 0 and pi; away from there both formulas agree to metres.
    if 1.0 < ab < HALF_CIRCUMFERENCE - 1.0:
        assert abs(float(chord_to_km(np.array(dot))) - ab) < 1e-3


@settings(max_examples=200, deadline=None)
@given(lons, lats, lons, lats, lons, lats)
def test_triangle_inequality(a, b, c, d, e, f) -> None:
    # Near the antipode haversine's arcsin(sqrt(h)) has h ≈ 1, where it keeps only ~sqrt(eps) of relative
    # precision: ≈ 1e-4 km of 20,015 (hypothesis found 1.0e-4). 1 mm-level slack was tighter than the formula.
    assert great_circle_km(a, b, e, f) <= great_circle_km(a, b, c, d) + great_circle_km(c, d, e, f) + 1e-3


@settings(max_examples=100, deadline=None)
@given(lons, lats)
def test_distance_to_itself_is_zero_and_to_the_antipode_is_half_the_circumference(lon, lat) -> None:
    assert float(great_circle_km(lon, lat, lon, lat)) == 0.0
    anti_lon = float(wrap_lon(lon + 180.0))
    assert abs(float(great_circle_km(lon, lat, anti_lon, -lat)) - HALF_CIRCUMFERENCE) < 1e-3


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 1.0), lats)
def test_antimeridian_neighbours_are_close(eps, lat) -> None:
    # 179.9..180 east and -180..-179.9 west are the same few kilometres apart, not 40,000 km.
    d = float(great_circle_km(180.0 - eps, lat, -180.0 + eps, lat))
    assert d <= 2 * eps * 111.2 * math.cos(math.radians(lat)) + 1e-6
    assert float(great_circle_km(180.0, lat, -180.0, lat)) < 1e-6


@settings(max_examples=100, deadline=None)
@given(lons, lons)
def test_all_longitudes_meet_at_the_poles(lon1, lon2) -> None:
    assert float(great_circle_km(lon1, 90.0, lon2, 90.0)) < 1e-6
    assert float(great_circle_km(lon1, -90.0, lon2, -90.0)) < 1e-6
    assert abs(float(great_circle_km(lon1, 90.0, lon2, -90.0)) - HALF_CIRCUMFERENCE) < 1e-6


@settings(max_examples=150, deadline=None)
@given(lons, st.floats(-89.0, 89.0), st.floats(0.0, 360.0), st.floats(0.0, 5000.0))
def test_destination_lies_at_the_requested_distance(lon, lat, bearing, dist) -> None:
    lon2, lat2 = destination(lon, lat, bearing, dist)
    assert -180.0 <= float(lon2) < 180.0 and -90.0 <= float(lat2) <= 90.0
    assert abs(float(great_circle_km(lon, lat, lon2, lat2)) - dist) < 1e-3


def test_lon_boxes_across_the_antimeridian() -> None:
    from scythe_desktop.engine.scenario import Region

    def box(lo: float, hi: float) -> Region:
        return Region("r", lo, hi, -10.0, 10.0, "", 0.0, 1.0)

    lon = np.array([170.0, 179.9, -180.0, -170.0, 0.0, 180.0])
    lat = np.zeros_like(lon)
    assert box(160.0, -160.0).contains(lon, lat).tolist() == [True, True, True, True, False, True]
    assert box(-10.0, 10.0).contains(lon, lat).tolist() == [False, False, False, False, True, False]
    assert box(170.0, 180.0).contains(lon, lat).tolist() == [True, True, True, False, False, True]  # 180 is -180
    # One test for a point and for arrays: the scalar path answers as the array path.
    crossing = box(160.0, -160.0)
    for x in lon:
        assert bool(crossing.contains(float(x), 0.0)) == bool(crossing.contains(np.array([x]), 0.0)[0])
