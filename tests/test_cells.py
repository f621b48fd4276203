"""Kept squares (stationmap.cells): made at build, patched after edits, never stale; every answer
from them equals brute force."""

import numpy as np
import pandas as pd
import pytest

from stationmap import cells, geodesy
from stationmap.index import Filters, StationIndex
from stationmap.stations import from_frame
from stationmap.testing import brute_force_nearest

TOWNS = [(121.47, 31.23), (104.07, 30.67), (126.63, 45.75), (122.54, 52.97), (109.51, 18.25)]


def _same(found, expected):
    positions, distances = expected
    assert found.positions.tolist() == positions.tolist()
    np.testing.assert_allclose(found.distance_m, distances, rtol=0, atol=1e-6)


def _frame(ids, lon, lat, status) -> pd.DataFrame:
    return pd.DataFrame({"id": ids, "name": [f"站{i}" for i in ids], "lon": lon, "lat": lat, "status": status})


def _towns(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Stations thick in a few towns (a crowd beyond 24 in one street), thin around them, with
    twins at the same address."""
    town = rng.integers(0, len(TOWNS), n)
    spread = rng.choice([0.002, 0.01, 0.05], n)
    lon = np.array([TOWNS[t][0] for t in town]) + rng.normal(0, 1, n) * spread
    lat = np.array([TOWNS[t][1] for t in town]) + rng.normal(0, 1, n) * spread
    lon[:30], lat[:30] = 121.4701, 31.2301                        # one crowded address
    twins = rng.integers(0, n, 20)
    lon[-20:], lat[-20:] = lon[twins], lat[twins]
    return _frame([f"T{i:05d}" for i in range(n)], lon, lat, rng.choice(["open", "open", "closed"], n))


def _assert_table_holds(index: StationIndex) -> None:
    """The table's promise, checked square by square against every station: the kept ones are
    the nearest to the centre, their stored chords are lower bounds (and close), and every
    station not kept is at least the square's bound away."""
    table = index._cells.table
    assert table is not None
    centres = cells._centres(table.keys)
    for r in range(len(table)):
        a, b = table.starts[r], table.starts[r + 1]
        rows, stored = table.rows[a:b].astype(np.int64), table.chords[a:b].astype(np.float64)
        chord = np.linalg.norm(index.xyz - centres[r], axis=1)
        assert np.all(np.diff(stored) >= 0) and len(set(rows.tolist())) == len(rows)
        assert np.all(stored <= chord[rows]) and np.all(chord[rows] - stored <= 3e-7 * chord[rows])
        others = np.ones(len(index), dtype=bool)
        others[rows] = False
        bound = table.cell(int(table.keys[r]), lambda: (0.0, 0.0, 0.0), len(index))[3]
        assert np.all(chord[others] >= bound)


def _queries_near(index: StationIndex, rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    pick = rng.integers(0, len(index), count)
    lon = index.lon[pick] + rng.normal(0, 0.01, count)
    lat = index.lat[pick] + rng.normal(0, 0.01, count)
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def _check_answers(index: StationIndex, points, rng: np.random.Generator) -> None:
    for i, (x, y) in enumerate(points):
        k = int(rng.integers(1, 13))
        radius = (None, 2_000.0, float(rng.uniform(50, 5_000)))[i % 3]
        filters = Filters(include_closed=bool(i % 2))
        expected = brute_force_nearest(index, x, y, k=k, radius_m=radius, filters=filters)
        for _ in range(2):                    # a square's first query (from the table), then kept
            _same(index.nearest(x, y, k=k, radius_m=radius, filters=filters), expected)
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    for k, radius, filters in [(5, 2_000.0, Filters()), (3, None, Filters(include_closed=True)),
                               (30, 800.0, Filters()), (1, 5_000.0, Filters())]:
        positions, distances = index.nearest_batch(lon, lat, k=k, radius_m=radius, filters=filters)
        for i, (x, y) in enumerate(points):
            expected_positions, expected_distances = brute_force_nearest(index, x, y, k=k, radius_m=radius,
                                                                        filters=filters)
            found = positions[i] >= 0
            assert positions[i][found].tolist() == expected_positions.tolist()
            np.testing.assert_allclose(distances[i][found], expected_distances, rtol=0, atol=1e-6)


def test_squares_made_at_build_keep_their_promise_and_answer_first_queries_and_batches_exactly():
    rng = np.random.default_rng(5)
    index = StationIndex(from_frame(_towns(rng, 700)))
    _assert_table_holds(index)
    _check_answers(index, _queries_near(index, rng, 200), rng)


def test_a_first_query_near_stations_is_answered_from_the_table_without_the_tree():
    """The point of the table: no pykdtree call for a square near stations, even the first time."""
    rng = np.random.default_rng(6)
    index = StationIndex(from_frame(_towns(rng, 400)))

    class NoTree:
        def query(self, *args, **kwargs):
            raise AssertionError("the tree was asked")

    index._point_tree = NoTree()
    index._cells._tree = NoTree()
    x, y = float(index.lon[100]), float(index.lat[100])
    _same(index.nearest(x, y, k=3, radius_m=2_000.0), brute_force_nearest(index, x, y, k=3, radius_m=2_000.0))


def test_a_query_with_no_radius_in_thin_country_is_kept_from_its_second_time_like_before():
    """The table keeps only the stations within reach; a query it cannot prove (k = 5, no
    radius, stations 5 km apart) widens the square: the second query makes its 24 nearest, and
    the third is answered from them with no tree call."""
    rng = np.random.default_rng(9)
    n = 400
    lon, lat = 100.0 + rng.uniform(0, 1.0, n), 35.0 + rng.uniform(0, 1.0, n)
    index = StationIndex(from_frame(_frame([f"R{i}" for i in range(n)], lon, lat, ["open"] * n)))
    x, y = float(lon[7]) + 0.001, float(lat[7])
    expected = brute_force_nearest(index, x, y, k=5)
    _same(index.nearest(x, y, k=5), expected)                   # the table cannot prove it: tree
    _same(index.nearest(x, y, k=5), expected)                   # the 24 nearest made

    class NoTree:
        def query(self, *args, **kwargs):
            raise AssertionError("the tree was asked")

    index._point_tree = NoTree()
    index._cells._tree = NoTree()
    _same(index.nearest(x, y, k=5), expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_never_leave_a_stale_square(seed):
    """Moves (near and far), new stations (some on top of others), deletions and status edits,
    each a new index made from the previous one as a live server does; after every edit the
    patched table keeps its promise against every station and answers equal brute force."""
    rng = np.random.default_rng(seed)
    frame = _towns(rng, 500)
    index = StationIndex(from_frame(frame))
    serial = 500
    for _round in range(8):
        frame = frame.copy()
        n = len(frame)
        moved = rng.choice(n, int(rng.integers(0, 4)), replace=False)
        frame.loc[moved, "lon"] += rng.normal(0, 0.01, len(moved)) * rng.choice([1, 100], len(moved))
        frame.loc[moved, "lat"] += rng.normal(0, 0.01, len(moved))
        frame.loc[rng.choice(n, 3, replace=False), "status"] = "closed"
        gone = rng.choice(n, int(rng.integers(0, 4)), replace=False)
        frame = frame.drop(frame.index[gone])
        count = int(rng.integers(0, 4))
        base = frame.sample(count, random_state=int(rng.integers(1 << 30))) if count else frame.iloc[:0]
        new = _frame([f"N{serial + i}" for i in range(count)],
                     base["lon"].to_numpy() + rng.choice([0.0, 0.003], count),
                     base["lat"].to_numpy() + rng.choice([0.0, 0.003], count), ["open"] * count)
        serial += count
        at = int(rng.integers(0, len(frame) + 1))                       # new rows anywhere: positions shift
        frame = pd.concat([frame.iloc[:at], new, frame.iloc[at:]], ignore_index=True)
        edited = StationIndex(from_frame(frame), previous=index)
        assert edited._cells.table is not None
        _assert_table_holds(edited)
        touched = list(zip(frame["lon"].iloc[at:at + count].tolist(), frame["lat"].iloc[at:at + count].tolist(),
                           strict=True))
        touched += [(float(x), float(y)) for x, y in zip(index.lon[moved], index.lat[moved], strict=True)]
        _check_answers(edited, touched + _queries_near(edited, rng, 30), rng)
        index = edited


def test_an_edit_that_changes_no_place_shares_the_squares():
    rng = np.random.default_rng(8)
    frame = _towns(rng, 300)
    index = StationIndex(from_frame(frame))
    frame.loc[3, "status"] = "closed"
    assert StationIndex(from_frame(frame), previous=index)._cells is index._cells


def test_chords_stored_in_float32_are_never_above_the_true_chord():
    values = np.array([0.0, 1e-7, 1.0 / 3.0, 2_800.000_123, 12_742_000.5, np.inf])
    down = cells._down32(values)
    assert np.all(down.astype(np.float64) <= values)
    assert np.all(values[:-1] - down[:-1].astype(np.float64) <= 1.0)


def test_a_tiny_register_keeps_every_station_in_every_square():
    frame = _frame(["A", "B", "C"], [121.0, 121.001, 121.5], [31.0, 31.0, 31.2], ["open"] * 3)
    index = StationIndex(from_frame(frame))
    table = index._cells.table
    assert all(table.cell(int(key), lambda: (0.0, 0.0, 0.0), 3)[3] == np.inf for key in table.keys
               if np.diff(table.starts)[np.searchsorted(table.keys, key)] == 3)
    for x, y in [(121.0, 31.0), (121.4, 31.1), (121.0005, 31.0001)]:
        for k in (1, 3, 5):
            _same(index.nearest(x, y, k=k), brute_force_nearest(index, x, y, k=k))
    assert geodesy.CHORD_SLACK_M > 0
