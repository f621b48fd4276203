"""Coordinate systems, cross-checked against prcoords (an independent implementation)."""

import numpy as np
import prcoords
import pytest

from stationmap import coords
from stationmap.geodesy import geodesic_m
from stationmap.testing import random_points_in_china

N = 3000


@pytest.fixture(scope="module")
def points():
    return random_points_in_china(N, seed=42)


def _prcoords(function, lon, lat):
    out = np.array([function(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


def test_forward_gcj02_matches_prcoords(points):
    lon, lat = points
    ours = coords.wgs84_to_gcj02(lon, lat)
    theirs = _prcoords(prcoords.wgs_gcj, lon, lat)
    assert np.abs(ours[0] - theirs[0]).max() < 1e-12
    assert np.abs(ours[1] - theirs[1]).max() < 1e-12


def test_forward_bd09_matches_prcoords(points):
    lon, lat = points
    ours = coords.wgs84_to_bd09(lon, lat)
    theirs = _prcoords(prcoords.wgs_bd, lon, lat)
    assert np.abs(ours[0] - theirs[0]).max() < 1e-12
    assert np.abs(ours[1] - theirs[1]).max() < 1e-12


@pytest.mark.parametrize("system, independent_forward", [
    ("gcj02", prcoords.wgs_gcj), ("bd09", prcoords.wgs_bd)])
def test_inverse_is_exact_under_the_independent_forward(points, system, independent_forward):
    """Pushing our WGS-84 answer through prcoords' forward formula lands on the input."""
    lon, lat = points
    shifted = coords.convert(lon, lat, "wgs84", system)
    back = coords.to_wgs84(*shifted, system)
    again = _prcoords(independent_forward, *back)
    error_m = geodesic_m(again[0], again[1], shifted[0], shifted[1])
    assert error_m.max() < 0.001
    round_trip_m = geodesic_m(back[0], back[1], lon, lat)
    assert round_trip_m.max() < 0.01


@pytest.mark.parametrize("system, bored", [
    ("gcj02", prcoords.gcj_wgs_bored), ("bd09", prcoords.bd_wgs_bored)])
def test_inverse_agrees_with_prcoords_iterative_inverse(points, system, bored):
    lon, lat = points
    shifted = coords.convert(lon, lat, "wgs84", system)
    ours = coords.to_wgs84(*shifted, system)
    theirs = _prcoords(bored, *shifted)
    # prcoords stops iterating at its own tolerance (a few centimetres for BD-09).
    assert geodesic_m(ours[0], ours[1], theirs[0], theirs[1]).max() < 0.05


def test_one_step_inverse_would_be_metres_off(points):
    """Why the iteration exists: the textbook one-step inverse misses by up to metres."""
    lon, lat = points
    shifted = coords.wgs84_to_gcj02(lon, lat)
    one_step = _prcoords(prcoords.gcj_wgs, *shifted)
    assert geodesic_m(one_step[0], one_step[1], lon, lat).max() > 1.0


def test_shanghai_offset_is_about_500_m():
    lon, lat = 121.4998, 31.2397
    gcj = coords.wgs84_to_gcj02(lon, lat)
    bd = coords.wgs84_to_bd09(lon, lat)
    assert 450 < geodesic_m(lon, lat, *gcj) < 550
    assert 900 < geodesic_m(lon, lat, *bd) < 1300


@pytest.mark.parametrize("lon, lat", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (139.7, 35.7)])
def test_points_outside_china_pass_unchanged(lon, lat):
    for source in coords.COORDSYS:
        for target in coords.COORDSYS:
            out = coords.convert(lon, lat, source, target)
            assert (float(out[0]), float(out[1])) == (lon, lat)


def test_vectorised_and_scalar_agree():
    lon = np.array([121.4998, 116.397, 2.35])
    lat = np.array([31.2397, 39.909, 48.85])
    many = coords.wgs84_to_gcj02(lon, lat)
    for i in range(3):
        one = coords.wgs84_to_gcj02(lon[i], lat[i])
        assert one[0].shape == ()
        assert float(one[0]) == many[0][i] and float(one[1]) == many[1][i]


def test_same_system_is_identity_and_does_not_alias_input():
    lon = np.array([121.5])
    out, _ = coords.convert(lon, np.array([31.2]), "gcj02", "gcj02")
    out[0] = 0
    assert lon[0] == 121.5


def test_unknown_system_is_refused():
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        coords.convert(121.5, 31.2, "wgs84", "mars")


def test_plain_float_path_equals_the_array_path(points):
    lon, lat = points
    many = coords.wgs84_to_gcj02(lon, lat)
    for i in range(0, N, 7):
        one = coords.wgs84_to_gcj02(float(lon[i]), float(lat[i]))
        assert type(one[0]) is float
        assert one == (many[0][i], many[1][i])
