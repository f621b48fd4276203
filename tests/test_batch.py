"""The batch nearest (stationmap.batch: the tree's candidates ranked and proved in one compiled
pass) against brute force: dense and sparse registers, ties, k up to 30 and beyond the
candidates a first round fetches, filters, points with nothing in reach, lines past 100 km."""

import math

import numpy as np
import pandas as pd
import pytest

from stationmap import batch, geodesy
from stationmap.index import Filters, StationIndex
from stationmap.stations import from_frame
from stationmap.testing import brute_force_nearest, random_points_in_china

MIXED = Filters.build(types=["driver_home", "new_employment_hub"], amenities=["microwave"],
                      open_at="2026-11-23T12:00")


def _batch_equals_brute_force(index, lon, lat, k, radius_m, filters):
    positions, distances = index.nearest_batch(lon, lat, k=k, radius_m=radius_m, filters=filters)
    assert positions.shape == distances.shape == (len(lon), k)
    for i in range(len(lon)):
        expected, metres = brute_force_nearest(index, lon[i], lat[i], k=k, radius_m=radius_m, filters=filters)
        assert positions[i, :len(expected)].tolist() == expected.tolist(), (i, k, radius_m)
        np.testing.assert_allclose(distances[i, :len(expected)], metres, rtol=0, atol=1e-6)
        assert (positions[i, len(expected):] == -1).all() and np.isnan(distances[i, len(expected):]).all()
    return positions


def _near_and_far(index, rng, count, spread_deg=0.01):
    """Points near stations (normal jitter) and, one in five, anywhere in China."""
    pick = rng.integers(0, len(index), count)
    lon = index.lon[pick] + rng.normal(0, spread_deg, count)
    lat = index.lat[pick] + rng.normal(0, spread_deg, count)
    anywhere_lon, anywhere_lat = random_points_in_china(count, seed=int(rng.integers(1 << 30)))
    far = np.arange(count) % 5 == 0
    return np.where(far, anywhere_lon, lon), np.where(far, anywhere_lat, lat)


@pytest.mark.parametrize("k", [1, 5, 12, 30])
@pytest.mark.parametrize("radius_m", [None, 300.0, 2_000.0])
def test_batch_answers_in_a_dense_city_equal_brute_force_for_k_up_to_30(shanghai, k, radius_m):
    rng = np.random.default_rng(k * 7 + int(radius_m or 0))
    lon, lat = _near_and_far(shanghai, rng, 120)
    for filters in (Filters(), Filters(include_closed=True), MIXED):
        _batch_equals_brute_force(shanghai, lon, lat, k, radius_m, filters)


@pytest.mark.parametrize("k, radius_m", [(1, None), (5, 2_000.0), (30, None), (30, 150_000.0), (8, 20_000.0)])
def test_batch_answers_over_china_equal_brute_force_with_filters_and_points_in_empty_country(china, k, radius_m):
    """20,000 stations over all of China: at 2 km most random points have nothing in reach
    (their rows stay -1/NaN); with no radius the candidates run to hundreds of kilometres, past
    the chord formula's 100 km, where the batch measures by Karney's algorithm."""
    rng = np.random.default_rng(k + int(radius_m or 1))
    lon, lat = _near_and_far(china, rng, 60, spread_deg=0.05)
    for filters in (Filters(), MIXED):
        positions = _batch_equals_brute_force(china, lon, lat, k, radius_m, filters)
        if radius_m == 2_000.0:
            assert (positions[:, 0] == -1).any()             # the empty-country case was exercised


def test_a_crowd_tied_at_one_address_is_ranked_by_row_for_every_k():
    """60 stations at one address (all tied at every distance from it) among 300 scattered,
    a fifth closed: k from 1 to 70 makes the first round's candidates (k + 1) too few, so the
    tree is asked again for the points left unproved, and ties must still go to the earlier row."""
    rng = np.random.default_rng(5)
    lon = np.concatenate([121.5 + rng.normal(0, 0.02, 150), np.full(60, 121.5), 121.5 + rng.normal(0, 0.02, 150)])
    lat = np.concatenate([31.2 + rng.normal(0, 0.02, 150), np.full(60, 31.2), 31.2 + rng.normal(0, 0.02, 150)])
    n = len(lon)
    frame = pd.DataFrame({"id": [f"S{i}" for i in range(n)], "name": [f"站{i}" for i in range(n)], "lon": lon,
                          "lat": lat, "status": rng.choice(["open", "closed"], n, p=[0.8, 0.2])})
    index = StationIndex(from_frame(frame))
    qlon = np.concatenate([[121.5, 121.5004, 121.49], 121.5 + rng.normal(0, 0.01, 40)])
    qlat = np.concatenate([[31.2, 31.2003, 31.21], 31.2 + rng.normal(0, 0.01, 40)])
    for k in (1, 5, 13, 30, 70):
        for radius_m in (None, 50.0, 3_000.0):
            for filters in (Filters(), Filters(include_closed=True)):
                positions = _batch_equals_brute_force(index, qlon, qlat, k, radius_m, filters)
    assert positions[0, :30].tolist() == sorted(positions[0, :30].tolist())      # the address: rows in order


def test_more_neighbours_than_stations_and_an_empty_batch():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "name": ["甲", "乙", "丙"], "lon": [116.40, 116.41, 116.42],
                          "lat": [39.9, 39.9, 39.9], "status": ["open", "closed", "open"]})
    index = StationIndex(from_frame(frame))
    _batch_equals_brute_force(index, np.array([116.405, 120.0]), np.array([39.9, 30.0]), 7, None,
                              Filters(include_closed=True))
    positions, distances = index.nearest_batch([], [], k=3)
    assert positions.shape == distances.shape == (0, 3)


def test_the_compiled_formulas_are_geodesy_s_own():
    """The batch compiles geodesy's plain-float functions: the same metres as the single query's
    (whose NearPoint inlines near_arc's arithmetic for speed)."""
    rng = np.random.default_rng(9)
    for i in range(300):
        spread = (0.3, 0.03)[i % 2]                         # lines of tens of km, and of a few
        lon1, lat1 = float(rng.uniform(-180, 180)), float(rng.uniform(-89, 89))
        lon2, lat2 = lon1 + float(rng.normal(0, spread)), lat1 + float(rng.normal(0, spread))
        a, b = geodesy.ecef_point(lon1, lat1), geodesy.ecef_point(lon2, lat2)
        dx, dy, dz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
        chord2 = dx * dx + dy * dy + dz * dz
        frame = geodesy.point_frame(lon1, lat1)
        assert batch._point_frame(lon1, lat1) == pytest.approx(frame, rel=1e-15)
        assert batch._near_arc(frame, dx, dy, dz, chord2) == pytest.approx(
            geodesy.near_arc(frame, dx, dy, dz, chord2), rel=1e-14)
        if chord2 <= geodesy.NEAR_CHORD_M ** 2:           # the single query's inlined copy
            assert geodesy.NearPoint(lon1, lat1, a).distance(lon2, lat2, b) == \
                geodesy.near_arc(frame, dx, dy, dz, chord2)
        assert batch._midpoint_arc(lon1, lat1, lon2, lat2, dx, dy, dz, math.sqrt(chord2)) == pytest.approx(
            geodesy.midpoint_arc(lon1, lat1, lon2, lat2, dx, dy, dz, math.sqrt(chord2)), rel=1e-14)


def test_the_radius_is_a_hard_limit_to_the_millimetre():
    """Stations placed by Karney's algorithm 1 mm inside and 5 µm outside 2 km of each point, in
    every direction: the batch keeps the inside ones and never the outside ones. (At 2 km the
    arc exceeds the chord by 8 µm, so the outside ones pass the tree's chord bound and only the
    geodesic keeps them out.)"""
    rng = np.random.default_rng(11)
    centres_lon, centres_lat = rng.uniform(75, 130, 30), rng.uniform(20, 50, 30)
    azimuths = rng.uniform(0, 360, 30)
    inside_lon, inside_lat, _ = geodesy.GEOD.fwd(centres_lon, centres_lat, azimuths, np.full(30, 2_000.0 - 1e-3))
    outside_lon, outside_lat, _ = geodesy.GEOD.fwd(centres_lon, centres_lat, azimuths + 90, np.full(30, 2_000.0 + 5e-6))
    lon, lat = np.concatenate([outside_lon, inside_lon]), np.concatenate([outside_lat, inside_lat])
    frame = pd.DataFrame({"id": [f"R{i}" for i in range(60)], "name": [f"站{i}" for i in range(60)], "lon": lon,
                          "lat": lat, "status": "open"})
    index = StationIndex(from_frame(frame))
    positions = _batch_equals_brute_force(index, centres_lon, centres_lat, 3, 2_000.0, Filters())
    assert positions[:, 0].tolist() == list(range(30, 60)) and (positions[:, 1] == -1).all()
