"""A search patched after edits is the search built from scratch: every array, every answer.

After a commit, a server patches the previous register's search (only the edited stations'
entries are read again, the roads and districts recounted) instead of building it whole. These
tests make random renames, moves, new addresses and districts, creations and deletions, patch
the search after each burst (a patch of a patch of …), and compare it with a fresh build.
"""

import random

import numpy as np
import pandas as pd
import pytest
import shapely

from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.search import StationSearch, for_index

QUERIES = ("徐汇", "xhq", "xuhui", "爱心接力站", "工业路", "工业道", "改名", "新站", "gyl", "relay", "站", "ai",
           "浦东 世纪", "新", "z")
DOC_ARRAYS = ("kind", "lon", "lat", "xyz", "xyz_squared", "name_length", "static_rank")
DOC_LISTS = ("ref", "label", "label_en", "adcode", "count")
FIELD_ARRAYS = ("docs", "doc_starts", "lengths", "postings", "keys", "starts")


@pytest.fixture(scope="module")
def districts():
    return load_districts("310100")


def _assert_same_structure(patched: StationSearch, fresh: StationSearch) -> None:
    for name in DOC_ARRAYS:
        assert np.array_equal(getattr(patched, name), getattr(fresh, name)), name
    for name in DOC_LISTS:
        assert getattr(patched, name) == getattr(fresh, name), name
    assert patched.districts == fresh.districts
    assert [f.name for f in patched.fields] == [f.name for f in fresh.fields]
    for mine, theirs in zip(patched.fields, fresh.fields, strict=True):
        assert mine.texts == theirs.texts, mine.name
        assert mine.unigrams == theirs.unigrams
        for name in FIELD_ARRAYS:
            assert np.array_equal(getattr(mine, name), getattr(theirs, name)), (mine.name, name)


def _assert_same_answers(patched: StationSearch, fresh: StationSearch, rng: random.Random) -> None:
    for query in QUERIES:
        assert patched.find(query, limit=10) == fresh.find(query, limit=10), query
        lon, lat = 121.2 + rng.random() * 0.6, 31.0 + rng.random() * 0.5
        assert patched.find(query, lon=lon, lat=lat, limit=10) == fresh.find(query, lon=lon, lat=lat, limit=10)


def _edit(frame: pd.DataFrame, rng: random.Random, serial: list[int]) -> pd.DataFrame:
    """One random change of the kinds a register sees, the row order kept as a store keeps it
    (edited rows stay in place, new ones come last, deleted ones go)."""
    frame = frame.copy()
    row = rng.randrange(len(frame))
    action = rng.choice(["rename", "english", "move", "address", "district", "create", "delete", "phone",
                         "new characters"])
    serial[0] += 1
    if action == "rename":
        frame.loc[row, "name"] = f"改名驿站{serial[0]}号"
    elif action == "english":
        frame.loc[row, "name_en"] = rng.choice(["", f"Renamed Station {serial[0]}"])
    elif action == "move":
        point = frame.geometry.iloc[row]
        frame.loc[row, "geometry"] = shapely.Point(point.x + rng.uniform(-0.02, 0.02), point.y + 0.01)
    elif action == "address":
        frame.loc[row, "address"] = rng.choice(["", "上海市浦东新区世纪大道100号", f"上海市徐汇区新路{serial[0]}号",
                                                str(frame.loc[rng.randrange(len(frame)), "address"])])
    elif action == "district":
        frame.loc[row, "adcode"] = rng.choice(["310104", "310115", "310101"])
    elif action == "create":
        new = frame.iloc[[row]].copy()
        new["id"] = f"NEW-{serial[0]}"
        new["name"] = f"新站{serial[0]}（{rng.choice(['甲', '乙', '丙'])}）"
        new["geometry"] = [shapely.Point(121.2 + rng.random() * 0.6, 31.0 + rng.random() * 0.5)]
        frame = pd.concat([frame, new], ignore_index=True)
    elif action == "delete":
        frame = frame.drop(index=row).reset_index(drop=True)
    elif action == "phone":
        frame.loc[row, "phone"] = f"021-{serial[0]:08d}"
    else:                                   # characters the pinyin table has not seen yet
        frame.loc[row, "name"] = f"{rng.choice(['鑫淼', '犇骉', '龘靐', '㐀'])}驿站{serial[0]}"
    return frame


def test_a_search_patched_through_random_edits_equals_a_fresh_build_array_for_array(shanghai, districts):
    rng = random.Random(20261126)
    serial = [0]
    frame = shanghai.stations.copy()
    search = StationSearch(StationIndex(frame), districts)
    for _burst in range(25):
        for _ in range(rng.randint(1, 8)):
            frame = _edit(frame, rng, serial)
        index = StationIndex(frame)
        patched = search.patched(index)
        fresh = StationSearch(index, districts)
        _assert_same_structure(patched, fresh)
        _assert_same_answers(patched, fresh, rng)
        search = patched
    assert serial[0] > 25


def test_a_search_patched_after_every_station_changed_or_the_order_changed_equals_a_fresh_build(shanghai,
                                                                                             districts):
    rng = random.Random(7)
    search = StationSearch(StationIndex(shanghai.stations), districts)
    shuffled = shanghai.stations.sample(frac=1.0, random_state=3).reset_index(drop=True)
    index = StationIndex(shuffled)
    _assert_same_structure(search.patched(index), StationSearch(index, districts))
    renamed = shanghai.stations.copy()
    renamed["name"] = renamed["name"] + "改"
    renamed["address"] = ""
    index = StationIndex(renamed)
    patched = search.patched(index)
    fresh = StationSearch(index, districts)
    _assert_same_structure(patched, fresh)
    _assert_same_answers(patched, fresh, rng)


def test_a_search_without_districts_or_addresses_patches_like_a_fresh_build(shanghai):
    frame = shanghai.stations.copy()
    frame["address"] = ""
    search = StationSearch(StationIndex(frame))
    frame.loc[3, "address"] = "上海市浦东新区世纪大道100号"            # the first address of all
    frame = frame.drop(index=[0, 1]).reset_index(drop=True)
    index = StationIndex(frame)
    _assert_same_structure(search.patched(index), StationSearch(index))


def test_a_new_index_patches_its_predecessors_search_and_keeps_it_when_nothing_searched_changed(shanghai):
    first = StationIndex(shanghai.stations)     # its own: the session's index carries other tests' memos
    search = for_index(first, "310100")
    frame = first.stations.copy()
    frame.loc[0, "phone"] = "021-00000000"
    second = StationIndex(frame)
    second.inherit(first)
    assert for_index(second, "310100") is search
    frame.loc[0, "name"] = "全新名字驿站"
    third = StationIndex(frame)
    third.inherit(second)
    renamed = for_index(third, "310100")
    assert renamed is not search
    assert renamed.find("全新名字", limit=1)[0].name == "全新名字驿站"
    _assert_same_structure(renamed, StationSearch(third, load_districts("310100")))
    assert third._stale == {}                  # the old search is not kept once patched
