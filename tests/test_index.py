"""The nearest engine: exact against brute force anywhere in China, filters, boxes, routes."""

import numpy as np
import pandas as pd
import pytest
import shapely

from stationmap import coords, geodesy
from stationmap.errors import InputError
from stationmap.index import Filters, StationIndex
from stationmap.stations import from_frame
from stationmap.testing import brute_force_nearest, random_points_in_china

CITIES = {"Kashgar": (75.99, 39.47), "Lhasa": (91.13, 29.65), "Chengdu": (104.07, 30.67),
          "Shanghai": (121.47, 31.23), "Harbin": (126.63, 45.75), "Sanya": (109.51, 18.25),
          "Mohe": (122.54, 52.97)}
MIXED = Filters.build(types=["driver_home", "new_employment_hub"], amenities=["microwave"],
                      open_at="2026-11-23T12:00")


def _same(found, expected):
    positions, distances = expected
    assert found.positions.tolist() == positions.tolist()
    np.testing.assert_allclose(found.distance_m, distances, rtol=0, atol=1e-6)


@pytest.mark.parametrize("city", CITIES)
@pytest.mark.parametrize("k, radius_m, filters", [(1, None, Filters()), (5, None, Filters()),
                                                  (10, 150_000, Filters()), (5, None, MIXED)])
def test_matches_brute_force_across_china(china, city, k, radius_m, filters):
    lon, lat = CITIES[city]
    _same(china.nearest(lon, lat, k=k, radius_m=radius_m, filters=filters),
          brute_force_nearest(china, lon, lat, k=k, radius_m=radius_m, filters=filters))


def test_matches_brute_force_at_random_points(china):
    lon, lat = random_points_in_china(200, seed=11)
    for x, y in zip(lon, lat, strict=True):
        _same(china.nearest(x, y, k=5), brute_force_nearest(china, x, y, k=5))


def test_geodesic_not_degrees_decides_at_high_latitude():
    """At Harbin a degree of longitude is 78 km, of latitude 111 km: planar lon/lat picks wrong."""
    east = (126.63 + 0.010, 45.75)   # 0.010° east  ≈ 778 m
    north = (126.63, 45.75 + 0.008)  # 0.008° north ≈ 889 m, nearer in degrees
    index = StationIndex(from_frame(pd.DataFrame(
        {"id": ["north", "east"], "name": ["北", "东"], "lon": [north[0], east[0]], "lat": [north[1], east[1]]})))
    found = index.nearest(126.63, 45.75, k=2)
    assert index.ids[found.positions].tolist() == ["east", "north"]
    assert abs(found.distance_m[0] - float(geodesy.geodesic_m(126.63, 45.75, *east))) < 1e-6


def test_standing_on_a_station_finds_it_at_zero_metres(china):
    found = china.nearest(china.lon[123], china.lat[123], k=1, filters=Filters(include_closed=True))
    assert found.positions.tolist() == [123] and found.distance_m[0] == 0.0


def test_radius_is_a_hard_limit(china):
    lon, lat = CITIES["Chengdu"]
    found = china.nearest(lon, lat, k=50, radius_m=60_000)
    assert (found.distance_m <= 60_000).all()
    _same(found, brute_force_nearest(china, lon, lat, k=50, radius_m=60_000))
    assert len(china.nearest(lon, lat, k=5, radius_m=1)) == 0


def test_closed_stations_only_on_request(china):
    lon, lat = CITIES["Shanghai"]
    status = china.stations["status"].to_numpy()
    default = china.nearest(lon, lat, k=30)
    assert (status[default.positions] == "open").all()
    everything = china.nearest(lon, lat, k=30, filters=Filters(include_closed=True))
    _same(everything, brute_force_nearest(china, lon, lat, k=30, filters=Filters(include_closed=True)))


def test_open_at_never_returns_unknown_hours(china):
    when = Filters.build(open_at="2026-11-23T02:00")
    found = china.nearest(*CITIES["Chengdu"], k=20, filters=when)
    hours = china.stations["opening_hours"].to_numpy()[found.positions]
    assert set(hours) == {"24/7"}


def test_amenities_are_all_of_and_types_any_of(china):
    filters = Filters.build(amenities=["microwave", "phone_charging"], types=["driver_home", "new_employment_hub"])
    found = china.nearest(*CITIES["Shanghai"], k=20, filters=filters)
    rows = china.stations.iloc[found.positions]
    assert rows["amenities"].str.contains("microwave").all() and rows["amenities"].str.contains("phone_charging").all()
    assert set(rows["type"]) <= {"driver_home", "new_employment_hub"}


def test_query_in_gcj02_or_bd09_means_the_same_place(china):
    lon, lat = CITIES["Shanghai"]
    expected = china.nearest(lon, lat, k=5)
    for system in ("gcj02", "bd09"):
        x, y = coords.convert(lon, lat, "wgs84", system)
        found = china.nearest(float(x), float(y), k=5, coordsys=system)
        assert found.positions.tolist() == expected.positions.tolist()
        np.testing.assert_allclose(found.distance_m, expected.distance_m, atol=0.01)


def test_batch_equals_single_queries(china):
    lon, lat = random_points_in_china(300, seed=5)
    for k, radius_m, filters in [(5, None, Filters()), (3, 80_000, MIXED)]:
        positions, distances = china.nearest_batch(lon, lat, k=k, radius_m=radius_m, filters=filters, chunk=64)
        assert positions.shape == (300, k)
        for i in range(300):
            single = china.nearest(lon[i], lat[i], k=k, radius_m=radius_m, filters=filters)
            keep = positions[i] >= 0
            assert positions[i][keep].tolist() == single.positions.tolist()
            np.testing.assert_allclose(distances[i][keep], single.distance_m, atol=1e-9)
            assert np.isnan(distances[i][~keep]).all()


def test_batch_with_a_system_per_point(china):
    lon, lat = np.array([121.47, 104.07]), np.array([31.23, 30.67])
    gcj = coords.wgs84_to_gcj02(lon[1], lat[1])
    mixed = china.nearest_batch([lon[0], float(gcj[0])], [lat[0], float(gcj[1])], coordsys=["wgs84", "gcj02"])
    plain = china.nearest_batch(lon, lat)
    assert mixed[0].tolist() == plain[0].tolist()


def test_bbox_matches_a_plain_mask(china):
    box = (110.0, 25.0, 115.0, 30.0)
    inside = (china.lon >= box[0]) & (china.lon <= box[2]) & (china.lat >= box[1]) & (china.lat <= box[3])
    expected = np.flatnonzero(inside & (china.stations["status"] == "open").to_numpy())
    assert china.within_bbox(*box).tolist() == expected.tolist()


def _route_reference(index, route, limit):
    """Measure every station to a 2 m densification of the route with Karney's algorithm."""
    dense = shapely.segmentize(route, 0.00002)
    xy = np.asarray(dense.coords)
    step = geodesy.geodesic_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    along = np.concatenate([[0], np.cumsum(step)])
    rows = []
    near = index.within_bbox(*shapely.buffer(route, 0.2).bounds)
    for p in near:
        d = geodesy.geodesic_m(np.full(len(xy), index.lon[p]), np.full(len(xy), index.lat[p]), xy[:, 0], xy[:, 1])
        j = int(np.argmin(d))
        if d[j] <= limit:
            rows.append((p, d[j], along[j]))
    return rows


def test_along_route_matches_a_dense_brute_force(china):
    route = shapely.LineString([(113.0, 23.0), (113.6, 23.9), (114.5, 24.2), (115.0, 25.5)])
    found = china.along_route(route, 15_000)
    expected = sorted(_route_reference(china, route, 15_000), key=lambda r: r[2])
    assert sorted(found.positions.tolist()) == sorted(p for p, _, _ in expected)
    by_station = {p: (d, a) for p, d, a in expected}
    for p, d, a in zip(found.positions, found.distance_m, found.along_m, strict=True):
        assert abs(d - by_station[p][0]) < 0.5      # reference is 2 m steps: within half a metre
        assert abs(a - by_station[p][1]) < 2.0
    assert (np.diff(found.along_m) >= 0).all()
    assert abs(found.route_length_m - float(sum(
        geodesy.geodesic_m(*np.asarray(shapely.segmentize(route, 0.00002).coords)[:-1].T,
                           *np.asarray(shapely.segmentize(route, 0.00002).coords)[1:].T)))) < 1.0


def test_along_route_in_gcj02_and_with_filters(china):
    route = shapely.LineString([(113.0, 23.0), (115.0, 25.5)])
    gcj = shapely.LineString(np.column_stack(coords.wgs84_to_gcj02(*np.asarray(route.coords).T)))
    plain = china.along_route(route, 20_000)
    assert china.along_route(gcj, 20_000, coordsys="gcj02").positions.tolist() == plain.positions.tolist()
    only = china.along_route(route, 20_000, filters=Filters.build(types=["driver_home"]))
    assert set(china.stations["type"].iloc[only.positions]) <= {"driver_home"}
    assert set(only.positions) <= set(plain.positions)


@pytest.mark.parametrize("call, field", [
    (lambda i: i.nearest(121.5, 95, k=5), "lat"),
    (lambda i: i.nearest(181, 31, k=5), "lon"),
    (lambda i: i.nearest(121.5, 31.2, k=0), "k"),
    (lambda i: i.nearest(121.5, 31.2, radius_m=-3), "radius_m"),
    (lambda i: i.nearest(121.5, 31.2, radius_m=float("nan")), "radius_m"),
    (lambda i: i.nearest(121.5, 31.2, coordsys="mars"), "coordsys"),
    (lambda i: Filters.build(amenities=["sauna"]), "amenity"),
    (lambda i: Filters.build(types=["canteen"]), "type"),
    (lambda i: Filters.build(open_at="teatime"), "open_at"),
    (lambda i: i.along_route(shapely.LineString([(121, 31), (121.1, 31.1)]), 0), "distance_m"),
    (lambda i: i.along_route(shapely.Point(121, 31), 100), "route"),
    (lambda i: i.nearest_batch([121.5, 121.6], [31.2, float("nan")]), "lat"),
    (lambda i: i.nearest_batch([121.5, 190.0], [31.2, 31.3]), "lon"),
    (lambda i: i.nearest_batch([121.5], [31.2, 31.3]), "lat"),
])
def test_bad_queries_name_the_field(china, call, field):
    with pytest.raises(InputError) as info:
        call(china)
    assert info.value.field == field


def test_stations_in_the_same_building_tie_by_row_in_single_and_batch_queries():
    frame = pd.DataFrame({"id": ["b", "a", "c"], "name": ["乙", "甲", "丙"],
                          "lon": [121.5, 121.5, 121.51], "lat": [31.2, 31.2, 31.2]})
    index = StationIndex(from_frame(frame))
    assert index.nearest(121.501, 31.2, k=3).positions.tolist() == [0, 1, 2]
    assert index.nearest_batch([121.501], [31.2], k=3)[0].tolist() == [[0, 1, 2]]


def test_dense_city_single_queries_match_brute_force_with_radius_and_include_closed(shanghai):
    """The single-query path's early stop (k-th geodesic ≤ next chord) in the densest data."""
    rng = np.random.default_rng(21)
    pick = rng.integers(0, len(shanghai), 300)
    lon = shanghai.lon[pick] + rng.normal(0, 0.01, 300)
    lat = shanghai.lat[pick] + rng.normal(0, 0.01, 300)
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        filters = Filters(include_closed=bool(i % 2))
        radius = (None, 500.0, 2000.0)[i % 3]
        _same(shanghai.nearest(x, y, k=1 + i % 7, radius_m=radius, filters=filters),
              brute_force_nearest(shanghai, x, y, k=1 + i % 7, radius_m=radius, filters=filters))


def test_a_dropped_index_is_freed_with_the_records_and_columns_made_from_it():
    import gc
    import weakref

    from stationmap.records import station_record
    from stationmap.stations import read_stations

    index = StationIndex(read_stations())
    station_record(index, 0)
    assert index.column("type")[0] == index.columns["type"][0]
    assert index.column("type") is index.column("type")
    dropped = weakref.ref(index)
    del index
    gc.collect()
    assert dropped() is None


def test_records_kept_across_a_swap_follow_each_stations_values_not_its_position():
    """Records are cached by a station's values (kept over a swap); an edit, or a station put
    in front of another, must never bring back an old record: checked against a fresh build.
    """
    from datetime import datetime, timedelta, timezone

    from stationmap import records
    from stationmap.stations import read_stations

    when = datetime(2026, 11, 27, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    before = read_stations().iloc[:50].reset_index(drop=True)
    old = StationIndex(before)
    seen = [records.station_record(old, p, when=when) for p in range(len(old))]
    after = before.copy()
    after.loc[3, "phone"], after.loc[4, "status"], after.loc[5, "opening_hours"] = "021-00000000", "closed", "24/7"
    after.loc[6, "name"] = "改名驿站 <b>"
    inserted = after.iloc[[7]].assign(id="NEW-1", name="新站")
    after = pd.concat([after.iloc[:2], inserted, after.iloc[2:]], ignore_index=True)   # positions shift by one
    new = StationIndex(after, previous=old)
    got = [records.station_record(new, p, when=when) for p in range(len(new))]
    records._static_record.cache_clear()
    records._hours_fields.cache_clear()
    fresh = [records.station_record(StationIndex(after), p, when=when) for p in range(len(after))]
    assert got == fresh
    assert got[4]["phone"] == "021-00000000" and got[5]["open_now"] is False and got[7]["name"] == "改名驿站 <b>"
    assert got[6]["opening_hours"] == "24/7" and seen[5]["opening_hours"] != "24/7"


def test_asking_for_more_neighbours_than_stations_pads_single_and_batch_answers():
    frame = pd.DataFrame({"id": ["a", "b"], "name": ["甲", "乙"], "lon": [116.4, 116.5], "lat": [39.9, 39.9]})
    index = StationIndex(from_frame(frame))
    assert index.nearest(116.41, 39.9, k=5).positions.tolist() == [0, 1]
    positions, distances = index.nearest_batch([116.41, 116.49], [39.9, 39.9], k=5)
    assert positions.tolist() == [[0, 1, -1, -1, -1], [1, 0, -1, -1, -1]]
    assert np.isnan(distances[:, 2:]).all()
    _same(index.nearest(116.41, 39.9, k=5), brute_force_nearest(index, 116.41, 39.9, k=5))


def test_a_station_exactly_on_the_radius_by_karney_is_inside_it():
    """Our geodesic and Karney's differ by floating-point noise (~1e-9 m): a station placed at
    exactly ``radius_m`` by Karney must be found by both the single and the batch search."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(1)
    for _ in range(100):
        lon0, lat0 = rng.uniform(75, 130), rng.uniform(20, 48)
        lon1, lat1, _ = geod.fwd(lon0, lat0, rng.uniform(0, 360), rng.uniform(10, 20_000))
        radius = geod.inv(lon0, lat0, lon1, lat1)[2]
        index = StationIndex(from_frame(pd.DataFrame({"id": ["on", "far"], "name": ["边上", "远"],
                                                      "lon": [lon1, lon0 + 1], "lat": [lat1, lat0 + 1]})))
        assert index.ids[index.nearest(lon0, lat0, k=1, radius_m=radius).positions].tolist() == ["on"]
        positions, _ = index.nearest_batch([lon0], [lat0], k=1, radius_m=radius)
        assert positions[0, 0] == 0


def _world_index(seed: int) -> StationIndex:
    """Stations over the whole globe, thick at the poles and on the antimeridian, with
    duplicates (ties) and a mix of statuses: the corners where a chord bound or a cell order
    could go wrong."""
    rng = np.random.default_rng(seed)
    lon = np.concatenate([rng.uniform(-180, 180, 600), rng.uniform(-180, 180, 150), rng.uniform(-180, 180, 150),
                          rng.choice([-180.0, 180.0], 100),
                          179.99 + rng.uniform(0, 0.01, 100), -180 + rng.uniform(0, 0.01, 100)])
    lat = np.concatenate([rng.uniform(-89.9, 89.9, 600), rng.uniform(89.0, 90.0, 150), rng.uniform(-90.0, -89.0, 150),
                          rng.uniform(-60, 60, 100), rng.uniform(-60, 60, 100), rng.uniform(-60, 60, 100)])
    twins = rng.integers(0, len(lon), 80)                    # same place, different rows: ties
    lon, lat = np.concatenate([lon, lon[twins]]), np.concatenate([lat, lat[twins]])
    n = len(lon)
    frame = pd.DataFrame({"id": [f"W-{i:04d}" for i in range(n)], "name": [f"站{i}" for i in range(n)],
                          "lon": lon, "lat": lat,
                          "status": rng.choice(["open", "open", "open", "closed"], n)})
    return StationIndex(from_frame(frame))


def _world_queries(index: StationIndex, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    on = rng.integers(0, len(index), count // 4)
    lon = np.concatenate([rng.uniform(-180, 180, count // 4),                         # anywhere
                          rng.choice([-180.0, 180.0], count // 4),                    # on the antimeridian
                          np.clip(index.lon[on] + rng.normal(0, 0.001, len(on)), -180, 180),
                          rng.uniform(-180, 180, count - 3 * (count // 4))])          # at the poles
    lat = np.concatenate([rng.uniform(-90, 90, count // 4), rng.uniform(-89, 89, count // 4),
                          np.clip(index.lat[on] + rng.normal(0, 0.001, len(on)), -90, 90),
                          rng.choice([-90.0, 90.0, 89.999, -89.999], count - 3 * (count // 4))])
    return lon, lat


@pytest.mark.parametrize("seed", [1, 2])
def test_single_and_batch_answers_equal_brute_force_at_poles_antimeridian_and_ties(seed):
    """The single path (radius applied outside the tree; from a kept cell when asked again)
    and the batch path (points taken in cell order) against brute force: random k, radius and
    filters, points anywhere on Earth."""
    index = _world_index(seed)
    rng = np.random.default_rng(100 + seed)
    lon, lat = _world_queries(index, rng, 160)
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        k = int(rng.integers(1, 13))
        radius = (None, float(rng.uniform(100, 50_000)), float(rng.uniform(50_000, 3_000_000)))[i % 3]
        filters = (Filters(), Filters(include_closed=True))[i % 2]
        expected = brute_force_nearest(index, x, y, k=k, radius_m=radius, filters=filters)
        for _ in range(3):      # a cell's first query goes to the tree, its second makes the cell, then kept
            _same(index.nearest(x, y, k=k, radius_m=radius, filters=filters), expected)
    for k, radius, filters in [(4, None, Filters()), (7, 400_000.0, Filters(include_closed=True))]:
        positions, distances = index.nearest_batch(lon, lat, k=k, radius_m=radius, filters=filters, chunk=50)
        for i in range(len(lon)):
            expected_positions, expected_distances = brute_force_nearest(index, lon[i], lat[i], k=k, radius_m=radius,
                                                                        filters=filters)
            found = positions[i] >= 0
            assert positions[i][found].tolist() == expected_positions.tolist()
            np.testing.assert_allclose(distances[i][found], expected_distances, rtol=0, atol=1e-6)


def test_single_queries_from_kept_cells_equal_brute_force_where_the_cell_cannot_prove_them():
    """A crowd of 60 stations at one address (more than a cell keeps, all tied), a cell
    reached again after it was kept, k above what cells serve, and the radius just past the
    last kept station: each answer equals brute force, whichever path gave it."""
    rng = np.random.default_rng(3)
    lon = np.concatenate([np.full(60, 121.5), 121.5 + rng.normal(0, 0.02, 300)])
    lat = np.concatenate([np.full(60, 31.2), 31.2 + rng.normal(0, 0.02, 300)])
    n = len(lon)
    frame = pd.DataFrame({"id": [f"S{i}" for i in range(n)], "name": [f"站{i}" for i in range(n)], "lon": lon,
                          "lat": lat, "status": rng.choice(["open", "closed"], n, p=[0.8, 0.2])})
    index = StationIndex(from_frame(frame))
    points = [(121.5, 31.2), (121.5004, 31.2003), (121.5004, 31.2003), (121.52, 31.21), (121.41, 31.13)]
    for x, y in points * 3:
        for k in (1, 5, 12, 13, 30):
            for radius in (None, 50.0, 3_000.0):
                for filters in (Filters(), Filters(include_closed=True)):
                    _same(index.nearest(x, y, k=k, radius_m=radius, filters=filters),
                          brute_force_nearest(index, x, y, k=k, radius_m=radius, filters=filters))


def test_dense_city_queries_asked_again_from_kept_cells_match_brute_force(shanghai):
    """Shanghai's densest streets, each point asked three times (tree, cell made, cell kept)."""
    rng = np.random.default_rng(22)
    pick = rng.integers(0, len(shanghai), 150)
    lon = shanghai.lon[pick] + rng.normal(0, 0.004, 150)
    lat = shanghai.lat[pick] + rng.normal(0, 0.004, 150)
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        filters = Filters(include_closed=bool(i % 2))
        radius, k = (None, 300.0, 2000.0)[i % 3], 1 + i % 12
        expected = brute_force_nearest(shanghai, x, y, k=k, radius_m=radius, filters=filters)
        for _ in range(3):
            _same(shanghai.nearest(x, y, k=k, radius_m=radius, filters=filters), expected)


def test_a_full_cell_cache_drops_its_oldest_cells_and_answers_stay_exact(shanghai, monkeypatch):
    """Review: evicting with ``next(iter(dict))`` walked every key deleted before it; the cache is
    now an OrderedDict bounded by ``_CELLS_KEPT``, oldest first out."""
    import stationmap.cells as cells_module

    monkeypatch.setattr(cells_module, "CELLS_KEPT", 5)
    index = StationIndex(shanghai.stations)
    rng = np.random.default_rng(7)
    pick = rng.integers(0, len(index), 40)
    lon, lat = index.lon[pick] + rng.normal(0, 0.02, 40), index.lat[pick] + rng.normal(0, 0.02, 40)
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        expected = brute_force_nearest(index, x, y, k=3)
        for _ in range(2):
            _same(index.nearest(x, y, k=3), expected)
        assert len(index._cells) <= 5
    assert len(index._cells) >= 4           # full, less at most the one just dropped
