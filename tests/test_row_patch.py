"""A commit that only changes stations' values is taken in by replacing their rows where they
stand, and the register that gives is the one a full load gives: frame (dtypes included), row
numbers, the day it waits for, and every answer (nearest with each kind of filter, boxes, the
search, the column lists).

Random bursts of every edit that keeps the stations and their order (phone, name, hours, type,
access, amenities, a move, a closure until a date past or to come, a reopening), each compared
with a fresh full load on the same day.
"""

from __future__ import annotations

import random
from datetime import date, datetime

import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.filters import Filters
from stationmap.hours import TIMEZONE
from stationmap.search import for_index
from stationmap.stations import read_stations
from stationmap.store import Store

OP = Account.operator("tester")  # edits are made by someone: here the command line's operator
TODAY = date(2030, 3, 1)


def _random_edit(store: Store, rng: random.Random, ids: list[str]) -> None:
    """One edit that keeps every station where it is in the register (never a create or delete)."""
    station = rng.choice(ids)
    kind = rng.choice(["phone", "rename", "hours", "type", "access", "amenities", "move", "close", "closed_past",
                       "reopen", "name_en"])
    fields = {
        "phone": {"phone": f"021-{rng.randrange(10**8):08d}"},
        "rename": {"name": f"改名站{rng.randrange(10**6)}"},
        "hours": {"opening_hours": rng.choice(["24/7", "Mo-Fr 09:00-17:00", "Mo-Su 06:00-18:00", ""])},
        "type": {"type": rng.choice(["outdoor_worker_station", "driver_home"])},
        "access": {"access": rng.choice(["public", "union_members"])},
        "amenities": {"amenities": rng.choice(["microwave;drinking_water", "toilet", ""])},
        "move": {"lon": 121.3 + rng.random() * 0.4, "lat": 31.1 + rng.random() * 0.3},
        "close": {"status": "temporarily_closed", "closed_until": rng.choice(["2030-04-01", "2030-05-15", ""])},
        "closed_past": {"status": "temporarily_closed", "closed_until": "2030-02-01"},   # has come by TODAY
        "reopen": {"status": "open", "closed_until": ""},
        "name_en": {"name_en": rng.choice(["", "Relay Station"])},
    }[kind]
    store.update(station, fields, expected_version=None, actor=OP)


def _same_lists(mine: dict[str, list], theirs: dict[str, list]) -> None:
    assert list(mine) == list(theirs)
    for name, values in mine.items():
        assert len(values) == len(theirs[name]), name
        for a, b in zip(values, theirs[name], strict=True):
            assert a == b or (a != a and b != b), (name, a, b)        # NaN equals NaN here


def _same_register(patched: Dataset, fresh: Dataset, rng: random.Random) -> None:
    assert_geodataframe_equal(patched.index.stations, fresh.index.stations, check_like=False)
    assert list(patched.index.stations.dtypes) == list(fresh.index.stations.dtypes)
    assert np.array_equal(patched.fids, fresh.fids)
    assert (patched.register_version, patched.version, patched.next_reopening) == \
        (fresh.register_version, fresh.version, fresh.next_reopening)
    a, b = patched.index, fresh.index
    assert np.array_equal(a.lon, b.lon) and np.array_equal(a.lat, b.lat) and np.array_equal(a.ids, b.ids)
    when = datetime(2030, 3, 1, 12, tzinfo=TIMEZONE)
    filters = [Filters(), Filters(include_closed=True), Filters.build(types=["driver_home"]),
               Filters.build(access=["union_members"]), Filters.build(amenities=["microwave"]),
               Filters.build(open_at=when.isoformat())]
    for _ in range(20):
        lon, lat = 121.2 + rng.random() * 0.6, 31.0 + rng.random() * 0.5
        for f in filters:
            x, y = a.nearest(lon, lat, k=5, filters=f), b.nearest(lon, lat, k=5, filters=f)
            assert a.ids[x.positions].tolist() == b.ids[y.positions].tolist()
            assert np.array_equal(x.distance_m, y.distance_m)
        positions, distances = a.nearest_batch([lon], [lat], k=3)
        expected = b.nearest_batch([lon], [lat], k=3)
        assert np.array_equal(positions, expected[0]) and np.array_equal(distances, expected[1])
    box = (121.4, 31.15, 121.55, 31.3)
    assert a.within_bbox(*box).tolist() == b.within_bbox(*box).tolist()
    for query in ("徐汇", "xhq", "改名", "爱心接力站"):
        assert for_index(a, "310100").find(query, lon=121.47, lat=31.23, limit=10) == \
            for_index(b, "310100").find(query, lon=121.47, lat=31.23, limit=10)
    _same_lists(a.columns, b.columns)
    assert a.column("type").tolist() == b.column("type").tolist()


def test_random_edits_of_values_replace_rows_in_place_and_give_the_register_a_full_load_gives(store):
    rng = random.Random(20261126)
    current = Dataset.from_store(store, today=TODAY)
    ids = [str(i) for i in current.index.ids]
    assert "id" in current.index.columns          # built, as a server's first answer builds them
    for_index(current.index, "310100")
    for _batch in range(25):
        for _ in range(rng.randint(1, 4)):                 # a burst of commits, taken in one update
            _random_edit(store, rng, ids)
        patched = current.updated(store, today=TODAY)
        # Taken in place: the station ids are the old frame's own array, not a copy.
        assert patched.index.stations["id"].array is current.index.stations["id"].array
        _same_register(patched, Dataset.from_store(store, today=TODAY), rng)
        current = patched
    assert _batch == 24


def test_a_phone_edit_shares_the_places_the_filters_the_search_and_every_other_column_list(store):
    current = Dataset.from_store(store, today=TODAY)
    lists, search = current.index.columns, for_index(current.index, "310100")
    station = str(current.index.ids[7])
    store.update(station, {"phone": "021-12345678"}, expected_version=None, actor=OP)
    patched = current.updated(store, today=TODAY)
    a, b = patched.index, current.index
    assert a.xyz is b.xyz and a._masks is b._masks and for_index(a, "310100") is search
    assert a.columns["name"] is lists["name"] and a.columns["gcj02_lon"] is lists["gcj02_lon"]
    assert a.columns["phone"] is not lists["phone"] and a.columns["phone"][7] == "021-12345678"
    assert lists["phone"][7] != "021-12345678"                      # the old register is untouched
    assert b.stations.loc[7, "phone"] != "021-12345678"


def test_a_station_closed_until_a_day_that_has_come_is_open_when_its_row_is_replaced(store):
    current = Dataset.from_store(store, today=TODAY)
    station = str(current.index.ids[3])
    store.update(station, {"status": "temporarily_closed", "closed_until": "2030-02-01"}, expected_version=None,
                 actor=OP)
    patched = current.updated(store, today=TODAY)
    assert patched.index.stations.loc[3, "status"] == "open"
    assert patched.next_reopening is None
    assert_geodataframe_equal(patched.index.stations, Dataset.from_store(store, today=TODAY).index.stations)


def test_when_the_station_the_register_waited_for_reopens_early_it_waits_for_the_next_one(store):
    first, second = "2030-04-01", "2030-05-15"
    ids = [str(i) for i in Dataset.from_store(store).index.ids[:2]]
    for station, day in zip(ids, (first, second), strict=True):
        store.update(station, {"status": "temporarily_closed", "closed_until": day}, expected_version=None,
                     actor=OP)
    current = Dataset.from_store(store, today=TODAY)
    assert current.next_reopening == date(2030, 4, 1)
    store.update(ids[0], {"status": "open", "closed_until": ""}, expected_version=None, actor=OP)
    patched = current.updated(store, today=TODAY)
    assert patched.next_reopening == date(2030, 5, 15) == Dataset.from_store(store, today=TODAY).next_reopening
    store.update(ids[0], {"status": "temporarily_closed", "closed_until": "2030-03-10"}, expected_version=None,
                 actor=OP)
    again = patched.updated(store, today=TODAY)
    assert again.next_reopening == date(2030, 3, 10) == Dataset.from_store(store, today=TODAY).next_reopening


@pytest.mark.parametrize("changed", [40, 1446])
def test_an_import_changing_many_stations_and_its_undo_give_the_register_a_full_load_gives(store, changed):
    """An import of values only is replaced in place when it touches a few stations, and taken the
    general way (building the frame again is cheaper) when it touches most of them.
    """
    rng = random.Random(changed)
    current = Dataset.from_store(store, today=TODAY)
    assert "id" in current.index.columns
    frame = read_stations()
    frame = frame.iloc[:changed].copy()
    frame["source"] = "重新核对 re-checked"
    frame["phone"] = [f"021-{i:08d}" for i in range(changed)]
    result = store.apply_import(frame, actor=OP, mode="upsert", file_name="recheck.csv")
    patched = current.updated(store, today=TODAY)
    in_place = patched.index.stations["id"].array is current.index.stations["id"].array
    assert in_place == (changed == 40)
    _same_register(patched, Dataset.from_store(store, today=TODAY), rng)
    store.revert_import(result.import_id, actor=OP)
    undone = patched.updated(store, today=TODAY)
    _same_register(undone, Dataset.from_store(store, today=TODAY), rng)
    assert_geodataframe_equal(undone.index.stations.drop(columns=["version", "changed_in"]),
                              current.index.stations.drop(columns=["version", "changed_in"]))
