"""Writes against real gunicorn servers on a GeoPackage store and on a real PostgreSQL + PostGIS:
two clients editing one station at once (one wins, one 412, one change in history), OGC API –
Features Part 4 over HTTP, and no answer ever showing half of an import while imports run.

Every wait is bounded; the only time bound asserted is the issue's 5 s for a change to go live.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import Server, require_program
from people import OPERATOR, token_for

from stationmap.registers.applying import apply_plan, current_register
from stationmap.registers.importing import plan_import
from stationmap.stations import read_stations
from stationmap.store import Store

#: Filled by the ``server`` fixture: a token made through the store for "tests", an admin.
TOKEN = ""
STATION = "SH-310101-0010"
BOUND_S = 5.0


def _seeded(url: str) -> str:
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    store.close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    else:
        url = request.getfixturevalue("postgres").database()
    global TOKEN
    _seeded(url)
    TOKEN = token_for(url, "tests")
    running = Server(env={"STATIONMAP_DATABASE_URL": url,
                          "STATIONMAP_INSTANCE_PATH": str(tmp_path / "instance")}, workers=2)
    running.store_url = url
    yield running
    running.stop()


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None,
         content_type: str = "application/json") -> tuple[int, dict, dict]:
    """One HTTP request on a new connection: (status, headers, JSON body or {})."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Connection": "close", **(headers or {})})
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    return status, got, (json.loads(raw) if raw else {})


def _auth(**extra: str) -> dict:
    return {"Authorization": f"Bearer {TOKEN}", **extra}


def test_two_clients_patching_one_version_one_wins_one_gets_412_and_history_has_one_change(server):
    status, headers, _ = call("GET", f"{server.url}/api/v1/stations/{STATION}")
    assert status == 200 and headers["ETag"] == '"1"'
    barrier, outcomes = threading.Barrier(2), []

    def patch(phone: str) -> None:
        barrier.wait(timeout=30)
        outcomes.append(call("PATCH", f"{server.url}/api/v1/stations/{STATION}", {"phone": phone},
                             _auth(**{"If-Match": headers["ETag"]}), "application/merge-patch+json"))

    threads = [threading.Thread(target=patch, args=(p,)) for p in ("021-10000001", "021-10000002")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o[0] for o in outcomes) == [200, 412], outcomes
    winner = next(o for o in outcomes if o[0] == 200)
    loser = next(o for o in outcomes if o[0] == 412)
    assert loser[1]["Content-Type"] == "application/problem+json" and loser[1]["ETag"] == '"2"'
    store = Store.open(server.store_url)
    try:
        history = store.history(STATION)
        assert [h.action for h in history] == ["created", "updated"]
        assert history[-1].changes["phone"][1] == winner[2]["phone"] == store.get(STATION)["phone"]
        assert history[-1].who == "token:tests/tests"
    finally:
        store.close()


def test_writes_without_a_valid_token_are_401_on_the_real_server_and_change_nothing(server):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        status, got, body = call("PATCH", f"{server.url}/api/v1/stations/{STATION}", {"phone": "1"},
                                 {**headers, "If-Match": '"1"'}, "application/merge-patch+json")
        assert status == 401 and got["WWW-Authenticate"].startswith("Bearer") and body["status"] == 401
    store = Store.open(server.store_url)
    try:
        assert store.register_version() == 1 and len(store.history(STATION)) == 1
    finally:
        store.close()


def _until(predicate, bound: float = BOUND_S):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_ogc_part_4_create_replace_update_delete_over_http(server):
    items = f"{server.url}/ogc/collections/stations/items"
    status, _, conformance = call("GET", f"{server.url}/ogc/conformance")
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in conformance["conformsTo"]
    feature = {"type": "Feature", "id": "OGC-1", "geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
               "properties": {"name": "要素驿站", "type": "outdoor_worker_station", "reason": "QGIS"}}
    status, headers, _ = call("POST", items, feature, _auth(), "application/geo+json")
    assert status == 201 and headers["Location"].endswith("/ogc/collections/stations/items/OGC-1")
    assert headers["ETag"] == '"1"'
    got = _until(lambda: (r := call("GET", f"{items}/OGC-1"))[0] == 200 and r)
    assert got and got[2]["properties"]["name"] == "要素驿站" and got[1]["ETag"] == '"1"'

    feature["properties"] = {**got[2]["properties"], "phone": "021-66666666"}       # write back what was read
    status, headers, _ = call("PUT", f"{items}/OGC-1", feature, _auth(**{"If-Match": '"1"'}), "application/geo+json")
    assert status == 204 and headers["ETag"] == '"2"'
    status, _, _ = call("PUT", f"{items}/OGC-1", feature, _auth(**{"If-Match": '"1"'}), "application/geo+json")
    assert status == 412
    status, headers, _ = call("PATCH", f"{items}/OGC-1", {"properties": {"phone": None}, "geometry": None},
                              _auth(**{"If-Match": '"2"'}), "application/merge-patch+json")
    assert status == 204 and headers["ETag"] == '"3"'
    status, _, _ = call("DELETE", f"{items}/OGC-1", None, _auth())
    assert status == 428
    status, headers, _ = call("DELETE", f"{items}/OGC-1?reason=test", None, _auth(**{"If-Match": '"3"'}))
    assert status == 204 and headers["ETag"] == '"4"'
    store = Store.open(server.store_url)
    try:
        assert [h.action for h in store.history("OGC-1")] == ["created", "updated", "updated", "deleted"]
        assert store.history("OGC-1")[2].changes["location"][1] is None
    finally:
        store.close()


def _pair_sheet(path, stations, round_: int) -> None:
    rows = "\n".join(f"{s['id']},{s['name']},021-9{round_:07d}" for s in stations)
    path.write_text(f"站点编号,站点名称,联系电话\n{rows}\n", encoding="utf-8")


def test_no_answer_shows_half_of_an_import_while_imports_run(server, tmp_path):
    """Each import changes two neighbouring stations' phones together; a client polling both in one
    answer must never see them differ. Bounded: 6 imports, polling until the last is live."""
    store = Store.open(server.store_url)
    area = store.load()[0].query("adcode == '310101' and status == 'open'").reset_index(drop=True)
    far = (area.geometry.x - area.geometry.x[0]) ** 2 + (area.geometry.y - area.geometry.y[0]) ** 2
    pair = area.loc[far.sort_values().index[:2], ["id", "name", "geometry"]]      # a station and its neighbour
    ids = list(pair["id"])
    before = tuple(store.get(i)["phone"] for i in ids)
    lon, lat = pair.geometry.iloc[0].x, pair.geometry.iloc[0].y
    stop, seen, mixed, errors = threading.Event(), set(), [], []

    def poll() -> None:
        while not stop.is_set():
            status, _, body = call("GET", f"{server.url}/api/v1/stations/nearest?lon={lon}&lat={lat}&k=10")
            if status != 200:
                errors.append(status)
                continue
            phones = {r["id"]: r["phone"] for r in body["results"] if r["id"] in ids}
            if len(phones) == 2:
                state = tuple(phones[i] for i in ids)
                seen.add(state)
                if state != before and len(set(state)) != 1:       # neither before nor after one import
                    mixed.append(phones)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for round_ in range(1, 7):
            sheet = tmp_path / f"pair{round_}.csv"
            _pair_sheet(sheet, pair.to_dict("records"), round_)
            current = current_register(store)
            apply_plan(store, plan_import(sheet, current), current, actor=OPERATOR, reason=f"round {round_}")
            time.sleep(0.5)
        last = f"021-9{6:07d}"
        assert _until(lambda: (last, last) in seen, 10.0)
    finally:
        stop.set()
        poller.join(timeout=30)
        store.close()
    assert not errors and not mixed, (errors, mixed[:3])
    assert len(seen) >= 2


def test_a_short_load_run_with_imports_and_edits_has_no_errors_and_no_half_applied_answer(tmp_path):
    """bench/bench_live.py for a few seconds: wrk on nearest while imports and edits run every
    second. The minute-long run and its figures are in docs/benchmarks.md."""
    require_program("wrk", package="wrk")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import bench_live

    url = _seeded(f"sqlite:///{tmp_path / 'register.gpkg'}")
    result = bench_live.run(url, read_stations(), seconds=4, connections=8, workers=2, folder=tmp_path, freshness=1)
    assert result["baseline"]["errors"] == 0 and result["loaded"]["errors"] == 0
    assert result["imports"] >= 1 and result["edits"] >= 1 and not result["errors"]
    assert result["mixed"] == 0
