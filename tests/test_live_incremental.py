"""A register brought up to date by reading only its changed stations answers exactly as one read whole.

Random edits, creates, deletes, restores, moves and removed positions, in batches (a burst of
commits taken in one update); after each batch the incremental dataset must equal a fresh full
load row for row, and nearest, bounding-box and search answers must be the same.
"""

from __future__ import annotations

import random

import numpy as np
from geopandas.testing import assert_geodataframe_equal

from stationmap import live
from stationmap.accounts import Account
from stationmap.dataset import Dataset, LiveDataset
from stationmap.index import StationIndex
from stationmap.search import for_index
from stationmap.stations import read_stations
from stationmap.store import Store

OP = Account.operator("tester")  # edits are made by someone: here the command line's operator


def _random_change(store: Store, rng: random.Random, ids: list[str], serial: list[int]) -> None:
    """One edit of a kind picked at random (every kind the store has)."""
    kind = rng.choice(["phone", "rename", "move", "unlocate", "delete", "restore", "create", "hours", "close"])
    station = rng.choice(ids)
    try:
        if kind == "create":
            serial[0] += 1
            new_id = f"T-{serial[0]}"
            store.create(new_id, {"name": f"测试新站{serial[0]}", "lon": 121.3 + rng.random() * 0.4,
                                  "lat": 31.1 + rng.random() * 0.3, "address": "上海市徐汇区测试路1号"}, actor=OP)
            ids.append(new_id)
        elif kind == "restore":
            store.restore(station, expected_version=None, actor=OP)
        elif kind == "delete":
            store.delete(station, expected_version=None, actor=OP)
        elif kind == "unlocate":
            store.update(station, {"location": None}, expected_version=None, actor=OP)
        elif kind == "move":
            store.update(station, {"lon": 121.3 + rng.random() * 0.4, "lat": 31.1 + rng.random() * 0.3},
                         expected_version=None, actor=OP)
        elif kind == "rename":
            store.update(station, {"name": f"改名站{rng.randrange(10**6)}"}, expected_version=None, actor=OP)
        elif kind == "hours":
            store.update(station, {"opening_hours": rng.choice(["24/7", "Mo-Fr 09:00-17:00", ""])},
                         expected_version=None, actor=OP)
        elif kind == "close":
            store.update(station, {"status": "temporarily_closed", "closed_until": "2030-01-01"},
                         expected_version=None, actor=OP)
        else:
            store.update(station, {"phone": f"021-{rng.randrange(10**8):08d}"}, expected_version=None, actor=OP)
    except Exception as error:          # e.g. restoring a live station, moving a deleted one
        if type(error).__name__ not in ("NotFound", "Conflict"):
            raise


def _same_answers(incremental: Dataset, fresh: Dataset, rng: random.Random) -> None:
    assert_geodataframe_equal(incremental.index.stations, fresh.index.stations, check_like=False)
    assert np.array_equal(incremental.fids, fresh.fids)
    assert incremental.register_version == fresh.register_version
    assert incremental.version == fresh.version
    for _ in range(30):
        lon, lat = 121.2 + rng.random() * 0.6, 31.0 + rng.random() * 0.5
        a, b = incremental.index.nearest(lon, lat, k=5), fresh.index.nearest(lon, lat, k=5)
        assert incremental.index.ids[a.positions].tolist() == fresh.index.ids[b.positions].tolist()
        assert np.array_equal(a.distance_m, b.distance_m)
    box = (121.4, 31.15, 121.55, 31.3)
    assert incremental.index.within_bbox(*box).tolist() == fresh.index.within_bbox(*box).tolist()
    for query in ("徐汇", "xhq", "改名", "测试", "爱心接力站"):
        found = for_index(incremental.index, "310100").find(query, lon=121.47, lat=31.23, limit=10)
        expected = for_index(fresh.index, "310100").find(query, lon=121.47, lat=31.23, limit=10)
        assert found == expected


def test_an_incrementally_updated_register_equals_a_fresh_load_after_random_edits(store):
    rng = random.Random(20261125)
    ids = [str(i) for i in read_stations()["id"]]
    serial = [0]
    current = Dataset.from_store(store)
    for_index(current.index, "310100")
    for _batch in range(12):
        for _ in range(rng.randint(1, 6)):              # a burst of commits, taken in one update
            _random_change(store, rng, ids, serial)
        updated = current.updated(store)
        fresh = Dataset.from_store(store)
        _same_answers(updated, fresh, rng)
        current = updated
    assert _batch == 11


def test_an_edit_that_leaves_names_and_places_alone_keeps_the_search_and_one_that_renames_rebuilds_it(store):
    current = Dataset.from_store(store)
    search = for_index(current.index, "310100")
    station = str(current.index.ids[0])
    store.update(station, {"phone": "021-12345678"}, expected_version=None, actor=OP)
    after_phone = current.updated(store)
    assert for_index(after_phone.index, "310100") is search
    assert after_phone.index.stations.loc[0, "phone"] == "021-12345678"
    store.update(station, {"name": "全新名字驿站"}, expected_version=None, actor=OP)
    after_rename = after_phone.updated(store)
    renamed = for_index(after_rename.index, "310100")
    assert renamed is not search
    assert renamed.find("全新名字", limit=1)[0].name == "全新名字驿站"


def test_the_watcher_swaps_in_a_burst_of_commits_at_once_and_serves_the_old_register_until_then(store):
    live_set = LiveDataset(Dataset.from_store(store))
    before = live_set.current
    ids = [str(i) for i in before.index.ids[:3]]
    for station in ids:
        store.update(station, {"phone": "021-87654321"}, expected_version=None, actor=OP)
    assert live_set.current is before                  # nothing changes until a refresh swaps
    assert live.refresh(store, live_set)
    assert live_set.current.register_version == before.register_version + 3
    assert not live.refresh(store, live_set)           # nothing new: no second swap
    phones = live_set.current.index.stations.set_index("id").loc[ids, "phone"].tolist()
    assert phones == ["021-87654321"] * 3


def _same_lists(mine: dict[str, list], theirs: dict[str, list]) -> None:
    assert list(mine) == list(theirs)
    for name, values in mine.items():
        expected = theirs[name]
        assert len(values) == len(expected), name
        for a, b in zip(values, expected, strict=True):
            assert a == b or (a != a and b != b), (name, a, b)        # NaN equals NaN here


def test_the_column_lists_of_an_updated_register_are_patched_from_the_old_ones_and_equal_a_fresh_read(store,
                                                                                                   monkeypatch):
    rng = random.Random(20261126)
    ids = [str(i) for i in read_stations()["id"]]
    serial = [0]
    current = Dataset.from_store(store)
    assert "id" in current.index.columns              # built, so the next index can patch it
    read = StationIndex._column_lists
    rows_read: list[int | None] = []

    def spy(index, rows=None):
        rows_read.append(None if rows is None else len(rows))
        return read(index, rows)

    monkeypatch.setattr(StationIndex, "_column_lists", spy)
    for _batch in range(8):
        for _ in range(rng.randint(1, 6)):
            _random_change(store, rng, ids, serial)
        updated = current.updated(store)
        patched = updated.index.columns
        assert "columns" not in updated.index._stale
        _same_lists(patched, Dataset.from_store(store).index.columns)
        current = updated
    patches = [n for n in rows_read if n is not None]
    assert len(patches) >= 6 and max(patches) <= 6        # only the changed rows were read
