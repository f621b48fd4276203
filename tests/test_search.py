"""Search by name, address, road and district, in Chinese and pinyin, against brute force."""

import numpy as np
import pytest

from stationmap import geodesy
from stationmap.districts import load_districts
from stationmap.errors import InputError
from stationmap.index import StationIndex
from stationmap.search import (
    StationSearch,
    for_index,
    normalise,
    road_of,
    road_variants,
)
from stationmap.stations import default_path, from_frame

PEOPLES_SQUARE = (121.4737, 31.2304)


@pytest.fixture(scope="module")
def search(shanghai):
    return for_index(shanghai, "310100")


def _stations(matches):
    return [m for m in matches if m.kind == "station"]


def test_a_chinese_substring_finds_every_station_whose_name_holds_it(search, shanghai):
    names = shanghai.stations["name"]
    expected = set(np.flatnonzero(names.str.contains("工业路").to_numpy()).tolist())
    found = search.find("工业路", limit=1000, kinds=["station"])
    assert {m.ref for m in found} == expected and len(expected) > 10
    assert all("工业路" in m.name for m in found)


def test_a_road_is_found_as_a_road_once_per_district_it_runs_through(search, shanghai):
    roads = search.find("人民路", limit=100, kinds=["road"])
    districts_with_it = {a for a, addr in zip(shanghai.stations["adcode"], shanghai.stations["address"], strict=True)
                         if road_of(addr) == "人民路"}
    assert {m.adcode for m in roads} == districts_with_it
    assert all(m.name == "人民路" and m.stations >= 1 for m in roads)
    first = search.find("人民路", limit=1)[0]
    assert first.kind == "road"                       # the whole name beats names that contain it


def test_road_suffixes_lu_dao_jie_are_interchangeable_but_the_typed_one_ranks_first():
    frame = {"id": ["a", "b", "c"], "name": ["世纪大道驿站", "世纪大路驿站", "南京东街驿站"],
             "lon": [121.50, 121.51, 121.48], "lat": [31.23, 31.24, 31.23]}
    import pandas as pd

    search = StationSearch(StationIndex(from_frame(pd.DataFrame(frame))))
    assert [m.name for m in search.find("世纪大道")] == ["世纪大道驿站", "世纪大路驿站"]
    assert [m.name for m in search.find("世纪大路")] == ["世纪大路驿站", "世纪大道驿站"]
    assert [m.name for m in search.find("南京东路")] == ["南京东街驿站"]
    assert road_variants("世纪大道") == ["世纪大道", "世纪大路", "世纪大街"]


def test_full_width_letters_digits_and_brackets_match_their_ordinary_forms(search):
    assert normalise("ＸＨＱ（１２号）") == "xhq12号"
    assert [m.name for m in search.find("ＸＨＱ", limit=5)] == [m.name for m in search.find("xhq", limit=5)]
    assert search.find("徐汇区工业路爱心接力站（５２号）", limit=1)[0].name == "徐汇区工业路爱心接力站（52号）"


def test_pinyin_initials_xhq_find_xuhui_district_and_only_its_stations(search):
    found = search.find("xhq", limit=30)
    assert found[0].kind == "district" and found[0].name == "徐汇区" and found[0].ref == "310104"
    stations = _stations(found)
    assert len(stations) == 29 and all(m.adcode == "310104" and m.field == "initials" for m in stations)


def test_full_pinyin_finds_names_and_heteronyms_of_district_names(search):
    assert search.find("xuhui", limit=1)[0].name == "徐汇区"
    assert all("工业路" in m.name for m in search.find("gongyelu", limit=20))
    assert search.find("changning", limit=1)[0].name == "长宁区"     # 长 read chang here, not zhang
    assert search.find("cnq", limit=1)[0].name == "长宁区"


def test_districts_are_found_by_name_with_their_label_point_inside(search):
    import shapely

    found = search.find("浦东", limit=1)[0]
    assert (found.kind, found.ref, found.name) == ("district", "310115", "浦东新区")
    outline = load_districts("310115").geometry.iloc[0]
    assert outline.contains(shapely.Point(found.lon, found.lat))
    assert search.find("Pudong", limit=1)[0].ref == "310115"        # the English name too


def test_given_a_position_equal_matches_come_nearest_first_by_geodesic_metres(search, shanghai):
    lon, lat = PEOPLES_SQUARE
    found = search.find("爱心接力站", lon=lon, lat=lat, limit=15, kinds=["station"])
    holding = np.flatnonzero(shanghai.stations["name"].str.contains("爱心接力站").to_numpy())
    metres = geodesy.geodesic_m(lon, lat, shanghai.lon[holding], shanghai.lat[holding])
    brute = holding[np.argsort(metres, kind="stable")][:15]
    assert [m.ref for m in found] == brute.tolist()
    assert [m.distance_m for m in found] == pytest.approx(np.sort(metres)[:15], abs=0.01)


def test_without_a_position_districts_come_before_roads_and_stations(search):
    kinds = [m.kind for m in search.find("徐汇", limit=5)]
    assert kinds[0] == "district" and set(kinds[1:]) == {"station"}


def test_every_word_of_a_query_must_match(search):
    found = search.find("徐汇 工业路", limit=50)
    assert found and all("徐汇" in m.name and "工业路" in m.name for m in found)
    assert search.find("徐汇 浦东", limit=5, kinds=["station"]) == []


def test_addresses_are_searched_after_names(search, shanghai):
    number = shanghai.stations["address"].iloc[0]
    found = search.find(number, limit=3)
    assert found[0].ref == 0 and found[0].field == "address"


@pytest.mark.parametrize("query", ["", "   ", "（）", "x" * 65])
def test_empty_or_overlong_queries_are_refused_naming_q(search, query):
    with pytest.raises(InputError) as caught:
        search.find(query)
    assert caught.value.field == "q"


def test_the_search_lives_with_its_index_and_a_new_index_gets_a_new_search(shanghai):
    first = for_index(shanghai, None)
    assert for_index(shanghai, None) is first and for_index(shanghai, "310104") is not first
    other = StationIndex(shanghai.stations)
    assert for_index(other, None) is not first


def test_brute_force_agrees_on_random_two_character_queries(search, shanghai):
    rng = np.random.default_rng(3)
    names = shanghai.stations["name"].tolist()
    for _ in range(25):
        name = names[rng.integers(len(names))]
        start = int(rng.integers(0, len(name) - 2))
        query = normalise(name[start:start + 2])
        if not query or any(c in "路道街" for c in query):
            continue
        expected = {i for i, n in enumerate(names) if query in normalise(n)}
        found = {m.ref for m in search.find(query, limit=2000, kinds=["station"]) if m.field == "name"}
        assert found == expected, query


def test_the_nearby_shortcut_gives_the_same_answer_as_ranking_every_candidate(search, monkeypatch):
    import stationmap.search as module

    lon, lat = PEOPLES_SQUARE
    queries = ["爱心接力站", "站", "ai", "xhq", "路", "徐汇"]
    slow = {q: search.find(q, lon=lon, lat=lat, limit=12) for q in queries}
    monkeypatch.setattr(module, "NEARBY_FROM", 1)
    for q in queries:
        assert search.find(q, lon=lon, lat=lat, limit=12) == slow[q], q


def test_a_new_register_gets_its_search_before_it_is_swapped_in():
    """The live register prepares the search off the request path: the first rider to search
    after an edit does not wait seconds for it to be built."""
    from stationmap.dataset import Dataset
    from stationmap.web import create_app
    from stationmap.web._common import EXTENSION

    app = create_app({"TESTING": True, "STATIONS_PATH": str(default_path())})
    live = app.extensions[EXTENSION]
    new = Dataset.load(default_path())
    assert "search:310100" not in new.index._memo
    live.swap(new)
    assert "search:310100" in new.index._memo
