"""A register with no stations is a legitimate state (a city union starting its register, or one
whose every station was deleted): it is indexed, served and compared like any other, and every
question asked of it is answered with no stations, never a traceback or a 500.

Before the index accepted it, pykdtree refused to build a tree of no points (``ValueError:
data_pts should be non-empty``), so every path below raised: a store with no stations could not
be served, a register whose last station was deleted stayed stuck on its old stations, and an
earlier version that held none could not be asked about.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import Server

from stationmap import live
from stationmap.accounts import Account
from stationmap.coverage import Threshold, coverage_report
from stationmap.dataset import Dataset, LiveDataset
from stationmap.districts import load_districts
from stationmap.filters import Filters
from stationmap.index import StationIndex
from stationmap.search import for_index
from stationmap.stations import read_stations
from stationmap.store import Store

OP = Account.operator("empty-register-tests")
LUJIAZUI = {"lon": 121.4998, "lat": 31.2397}
AREA = "310101"
FEW = 3


@pytest.fixture(scope="module")
def sample():
    return read_stations()


@pytest.fixture(scope="module")
def nothing(sample):
    """The index of a register with no stations (the sample's columns, none of its rows)."""
    return StationIndex(sample.iloc[0:0])


def _empty_store(url: str) -> Store:
    return Store.open(url, upgrade=True)


def _few_store(url: str, sample) -> Store:
    store = Store.open(url, upgrade=True)
    store.seed(sample.head(FEW), file_name="few.geojson", digest="")
    return store


def _delete_all(store: Store) -> None:
    for station_id in store.load()[0]["id"].tolist():
        store.delete(str(station_id), expected_version=None, actor=OP, reason="closed")


# -- the index ------------------------------------------------------------------------------


def test_an_index_of_no_stations_holds_none_and_every_nearest_query_finds_none(nothing):
    assert len(nothing) == 0
    for query in ({}, {"k": 5, "radius_m": 2000}, {"filters": Filters(types=frozenset({"driver_home"}))},
                  {"filters": Filters(include_closed=True)}, {"k": 1, "coordsys": "gcj02"}):
        found = nothing.nearest(121.4998, 31.2397, **query)
        assert len(found) == 0 and found.pairs() == [] and found.positions.shape == (0,)


def test_an_index_of_no_stations_still_refuses_a_bad_query_by_naming_the_field(nothing):
    from stationmap.errors import InputError

    with pytest.raises(InputError) as refused:
        nothing.nearest(500.0, 31.2)
    assert refused.value.field == "lon"
    with pytest.raises(InputError) as refused:
        nothing.nearest_batch([121.5], [31.2], k=0)
    assert refused.value.field == "k"


def test_a_batch_on_no_stations_answers_every_point_with_the_none_value(nothing):
    lon, lat = np.array([121.5, 116.4, 87.6]), np.array([31.2, 39.9, 43.8])
    for filters in (Filters(), Filters(types=frozenset({"driver_home"}))):
        positions, distances = nothing.nearest_batch(lon, lat, k=4, radius_m=5000, filters=filters)
        assert positions.shape == distances.shape == (3, 4)
        assert (positions == -1).all() and np.isnan(distances).all()
    positions, distances = nothing.nearest_batch([], [], k=2)
    assert positions.shape == distances.shape == (0, 2)


def test_boxes_routes_and_balls_on_no_stations_hold_no_station(nothing):
    assert nothing.within_bbox(73.0, 18.0, 135.0, 54.0).tolist() == []
    route = shapely.LineString([(121.40, 31.20), (121.50, 31.25)])
    matches = nothing.along_route(route, 500)
    assert len(matches.positions) == 0 and matches.route_length_m > 0
    points, stations = nothing.near_points(np.array([[0.0, 0.0, 6_378_137.0]]), 1000.0)
    assert points.tolist() == stations.tolist() == []
    assert nothing.position("SH-310101-0010") is None
    assert all(len(values) == 0 for values in nothing.columns.values())


def test_an_index_goes_from_stations_to_none_and_back_with_exact_answers_and_search(sample):
    some = StationIndex(sample.head(50))
    name = str(some.stations["name"].iloc[0])
    assert for_index(some).find(name, kinds=["station"])                # the search, patched below
    none = StationIndex(sample.iloc[0:0], previous=some)
    assert len(none) == 0 and len(none.nearest(121.4998, 31.2397, k=3)) == 0
    assert for_index(none).find(name, kinds=["station"]) == []
    again = StationIndex(sample.head(50), previous=none)
    found = again.nearest(121.4998, 31.2397, k=3)
    assert found.pairs() == some.nearest(121.4998, 31.2397, k=3).pairs() and len(found) == 3
    assert for_index(again).find(name, kinds=["station"])


def test_coverage_of_no_stations_covers_no_cell():
    report = coverage_report(load_districts(AREA), StationIndex(read_stations().iloc[0:0]), Threshold.walking(5),
                             resolution=8)
    assert len(report.cells) and not (report.cells["distance_m"] <= report.threshold.radius_m).any()
    assert (report.table["area_covered_pct"] == 0).all()


# -- the store, on both backends ---------------------------------------------------------------


def test_a_store_with_no_stations_is_a_dataset_of_none(store_url):
    store = _empty_store(store_url)
    try:
        data = Dataset.from_store(store)
        assert data.count == 0 and data.register_version == store.register_version()
        assert len(data.index.nearest(121.4998, 31.2397)) == 0
    finally:
        store.close()


def test_the_register_as_of_a_version_that_held_no_station_is_a_dataset_of_none(store_url, sample):
    store = _empty_store(store_url)
    try:
        store.apply_import(pd.DataFrame({"id": pd.Series([], dtype=object)}), actor=OP, file_name="empty.csv")
        store.seed(sample.head(FEW), file_name="few.geojson", digest="")
        now = Dataset.from_store(store)
        assert now.count == FEW and now.register_version == 2
        for current in (None, now):
            then = Dataset.as_of(store, 1, current=current)
            assert then.count == 0 and then.register_version == 1
            assert len(then.index.nearest(121.4998, 31.2397)) == 0
    finally:
        store.close()


def test_deleting_the_last_station_leaves_a_live_register_of_none(store_url, sample):
    store = _few_store(store_url, sample)
    try:
        holder = LiveDataset(Dataset.from_store(store))
        assert holder.current.count == FEW
        _delete_all(store)
        assert live.refresh(store, holder)
        assert holder.current.count == 0 and holder.current.register_version == FEW + 1
        assert len(holder.current.index.nearest(121.4998, 31.2397)) == 0
        store.create("NEW-1", {"name": "重新开始的站", "lon": 121.4736, "lat": 31.1955, "adcode": AREA}, actor=OP)
        assert live.refresh(store, holder)
        assert holder.current.count == 1
        assert holder.current.index.nearest(121.4998, 31.2397).positions.tolist() == [0]
    finally:
        store.close()


# -- the web, on a register with no stations --------------------------------------------------


@pytest.fixture(scope="module")
def emptied(tmp_path_factory, sample):
    """A GeoPackage register that held a few stations (version 1) and then lost every one."""
    url = f"sqlite:///{tmp_path_factory.mktemp('emptied') / 'register.gpkg'}"
    store = _few_store(url, sample)
    _delete_all(store)
    store.close()
    return url


@pytest.fixture(scope="module")
def app(emptied):
    from stationmap.web import create_app

    return create_app({"TESTING": True, "DATABASE_URL": emptied})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def test_the_app_starts_on_a_register_with_no_stations_and_says_it_holds_none(client):
    assert client.get("/healthz").json["stations"] == 0
    assert client.get("/api/v1/meta").json["dataset"]["stations"] == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_worker_page_and_nearest_answer_200_with_no_stations(client, lang):
    page = client.get("/", query_string={**LUJIAZUI, "lang": lang})
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    for query in ({**LUJIAZUI}, {**LUJIAZUI, "k": 5, "radius_m": 3000, "lang": lang},
                  {**LUJIAZUI, "open_now": "true", "type": "driver_home"}, {**LUJIAZUI, "f": "geojson"}):
        answer = client.get("/api/v1/stations/nearest", query_string=query)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.json
        assert body.get("results", body.get("features")) == []


def test_lists_routes_search_and_the_map_answer_with_no_stations(client):
    for query in ({"bbox": "121.3,31.1,121.6,31.4"}, {}, {"updated_since": 1}):
        listed = client.get("/api/v1/stations", query_string=query).json
        assert listed["results"] == [] and listed["matched"] == 0, listed
    assert client.get("/api/v1/stations", query_string={"f": "geojson"}).json["features"] == []
    route = {"type": "LineString", "coordinates": [[121.40, 31.20], [121.50, 31.25]]}
    along = client.post("/api/v1/stations/along-route", json={"route": route, "distance_m": 400})
    assert along.status_code == 200 and along.json["results"] == [], along.get_data(as_text=True)
    for path, query in (("/api/v1/search", {"q": "爱心接力站"}), ("/api/v1/search", {"q": "工业路"}),
                        ("/embed/map", {"tiles": "none"}), ("/ogc/collections/stations/items", {}),
                        ("/api/v1/coverage", {"adcode": AREA, "minutes": 5}),
                        ("/api/v1/coverage/compare", {"adcode": AREA, "minutes": 5, "b_minutes": 10})):
        answer = client.get(path, query_string=query)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:2000])


def test_an_earlier_version_with_stations_is_compared_with_today_having_none(client):
    body = client.get("/api/v1/coverage/compare", query_string={"adcode": AREA, "minutes": 5, "b_version": 1})
    assert body.status_code == 200, body.get_data(as_text=True)
    cells = body.json["totals"]["cells"]
    assert cells["gained"] + cells["lost"] > 0 and cells["covered"] == 0


def test_an_earlier_version_with_no_stations_is_compared_with_today(tmp_path, sample):
    from stationmap.web import create_app

    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    store = _empty_store(url)
    store.apply_import(pd.DataFrame({"id": pd.Series([], dtype=object)}), actor=OP, file_name="empty.csv")
    store.seed(sample, file_name="shanghai_stations.geojson", digest="")
    store.close()
    client = create_app({"TESTING": True, "DATABASE_URL": url}).test_client()
    body = client.get("/api/v1/coverage/compare", query_string={"adcode": AREA, "minutes": 5, "b_version": 1})
    assert body.status_code == 200, body.get_data(as_text=True)
    cells = body.json["totals"]["cells"]
    assert cells["covered"] == 0 and cells["gained"] + cells["lost"] > 0
    assert body.json["scenarios"]["b"]["register_version"] == 1


# -- the real server ----------------------------------------------------------------------------


def _get(url: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _serve(url: str) -> Server:
    return Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_TILES": "none", "STATIONMAP_HEAVY_PROCESSES": "1",
                       "STATIONMAP_WATCH_INTERVAL": "0.2"}, workers=1)


def test_stationmap_serve_on_a_new_store_with_no_stations_answers_nearest_with_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    made = subprocess.run([sys.executable, "-m", "stationmap", "db", "upgrade", "--database", url],
                          capture_output=True, text=True, timeout=120, env=environment)
    assert made.returncode == 0, made.stderr
    server = _serve(url)
    try:
        status, body = _get(f"{server.url}/api/v1/stations/nearest?{urllib.parse.urlencode(LUJIAZUI)}")
        assert status == 200 and body["results"] == [], body
        status, body = _get(f"{server.url}/api/v1/meta")
        assert status == 200 and body["dataset"]["stations"] == 0
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_a_live_server_whose_last_station_is_deleted_answers_with_none_and_compares_with_before(tmp_path, sample):
    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    _few_store(url, sample).close()
    server = _serve(url)
    try:
        nearest = f"{server.url}/api/v1/stations/nearest?{urllib.parse.urlencode(LUJIAZUI)}"
        assert len(_get(nearest)[1]["results"]) == FEW
        store = Store.open(url)
        try:
            _delete_all(store)
        finally:
            store.close()
        deadline = time.monotonic() + 10
        while _get(f"{server.url}/api/v1/meta")[1]["dataset"]["stations"] and time.monotonic() < deadline:
            time.sleep(0.2)
        status, body = _get(f"{server.url}/api/v1/meta")
        assert body["dataset"]["stations"] == 0, "the server still answers from the deleted stations"
        assert body["dataset"]["version"] == f"r{FEW + 1:011d}"
        status, body = _get(nearest)
        assert status == 200 and body["results"] == [], body
        status, body = _get(f"{server.url}/api/v1/coverage?adcode={AREA}&minutes=5")       # the heavy-work pool
        assert status == 200 and body["districts"][0]["area_covered_pct"] == 0, body
        status, body = _get(f"{server.url}/api/v1/coverage/compare?adcode={AREA}&minutes=5&b_version=1")
        assert status == 200 and body["scenarios"]["b"]["register_version"] == 1, body
        assert "Traceback" not in server.log(), server.log()[-3000:]
    finally:
        server.stop()
