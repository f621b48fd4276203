"""Geodesic metres: the fast chord formula against Karney's algorithm (pyproj)."""

import numpy as np

from stationmap import geodesy
from stationmap.testing import random_points_in_china


def _pairs(n, max_m, seed=3):
    rng = np.random.default_rng(seed)
    lon, lat = random_points_in_china(n, seed)
    azimuth = rng.uniform(0, 360, n)
    distance = 10 ** rng.uniform(-1, np.log10(max_m), n)
    lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, azimuth, distance)
    return lon, lat, lon2, lat2, distance


def test_known_value_one_degree_of_latitude_at_the_equator():
    assert abs(float(geodesy.geodesic_m(0, 0, 0, 1)) - 110574.388558) < 1e-5


def test_chord_formula_matches_karney_to_a_micrometre_up_to_100_km():
    lon, lat, lon2, lat2, distance = _pairs(50_000, 100_000)
    fast = geodesy.geodesic_from_chord(lon, lat, geodesy.ecef(lon, lat), lon2, lat2, geodesy.ecef(lon2, lat2))
    assert np.abs(fast - distance).max() < 1e-6


def test_long_lines_fall_back_to_karney():
    lon, lat, lon2, lat2, distance = _pairs(2_000, 3_000_000)
    fast = geodesy.geodesic_from_chord(lon, lat, geodesy.ecef(lon, lat), lon2, lat2, geodesy.ecef(lon2, lat2))
    assert np.abs(fast - distance).max() < 1e-6


def test_chord_never_exceeds_geodesic():
    lon, lat, lon2, lat2, distance = _pairs(50_000, 2_000_000)
    chord = np.linalg.norm(geodesy.ecef(lon, lat) - geodesy.ecef(lon2, lat2), axis=1)
    assert (chord <= distance + geodesy.CHORD_SLACK_M).all()


def test_zero_distance():
    xyz = geodesy.ecef(121.5, 31.2)
    assert float(geodesy.geodesic_from_chord(121.5, 31.2, xyz, 121.5, 31.2, xyz)) == 0.0


def test_azimuth():
    assert abs(float(geodesy.azimuth_deg(121.5, 31.2, 121.5, 31.3))) < 1e-9
    assert abs(float(geodesy.azimuth_deg(121.5, 31.2, 121.4, 31.2)) - 270) < 0.1


def test_scalar_formula_matches_karney_and_the_vectorised_one():
    lon, lat, lon2, lat2, distance = _pairs(3_000, 400_000, seed=9)
    for i in range(len(lon)):
        one = geodesy.geodesic_from_chord_point(lon[i], lat[i], geodesy.ecef_point(lon[i], lat[i]),
                                                lon2[i], lat2[i], geodesy.ecef_point(lon2[i], lat2[i]))
        assert abs(one - distance[i]) < 1e-6
    assert geodesy.geodesic_from_chord_point(121.5, 31.2, geodesy.ecef_point(121.5, 31.2),
                                             121.5, 31.2, geodesy.ecef_point(121.5, 31.2)) == 0.0
    np.testing.assert_allclose(geodesy.ecef_point(121.5, 31.2), geodesy.ecef(121.5, 31.2), rtol=0, atol=1e-8)


def test_near_point_matches_karney_to_a_micrometre_on_both_sides_of_its_10_km_switch():
    lon, lat, lon2, lat2, distance = _pairs(20_000, 400_000, seed=12)
    worst = 0.0
    for i in range(len(lon)):
        near = geodesy.NearPoint(float(lon[i]), float(lat[i]), geodesy.ecef_point(lon[i], lat[i]))
        worst = max(worst, abs(near.distance(lon2[i], lat2[i], geodesy.ecef_point(lon2[i], lat2[i])) - distance[i]))
    assert worst < 1e-6
    here = geodesy.NearPoint(121.5, 31.2, geodesy.ecef_point(121.5, 31.2))
    assert here.distance(121.5, 31.2, geodesy.ecef_point(121.5, 31.2)) == 0.0


def test_near_point_bearing_matches_karney_azimuth():
    lon, lat, lon2, lat2, _ = _pairs(5_000, 40_000, seed=13)
    for i in range(len(lon)):
        near = geodesy.NearPoint(float(lon[i]), float(lat[i]), geodesy.ecef_point(lon[i], lat[i]))
        fast = near.bearing(lon2[i], lat2[i], geodesy.ecef_point(lon2[i], lat2[i]))
        expected = float(geodesy.azimuth_deg(lon[i], lat[i], lon2[i], lat2[i]))
        assert abs((fast - expected + 180) % 360 - 180) < 1e-5     # rounding in the answer: 0.1


def test_lines_across_the_antimeridian_match_karney_in_both_formulas():
    """The curvature is taken halfway along the shorter way round, not at the mean longitude
    (which for 179.9° and -179.9° is 0°, the far side of the Earth)."""
    rng = np.random.default_rng(4)
    n = 2_000
    lon, lat = rng.uniform(179.0, 180.0, n), rng.uniform(-80, 80, n)
    lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, rng.uniform(45, 135, n), rng.uniform(10_000, 99_000, n))
    assert (lon2 < 0).sum() > n // 4                      # many of them cross it
    distance = geodesy.geodesic_m(lon, lat, lon2, lat2)
    fast = geodesy.geodesic_from_chord(lon, lat, geodesy.ecef(lon, lat), lon2, lat2, geodesy.ecef(lon2, lat2))
    assert np.abs(fast - distance).max() < 1e-6
    for i in range(0, n, 10):
        one = geodesy.geodesic_from_chord_point(lon[i], lat[i], geodesy.ecef_point(lon[i], lat[i]),
                                                lon2[i], lat2[i], geodesy.ecef_point(lon2[i], lat2[i]))
        assert abs(one - distance[i]) < 1e-6
