"""The JSON write API and the changes feed: tokens, If-Match/ETag, merge patch, validation, history.

Flask's test client against a real GeoPackage store in a temporary folder; the same API against
real gunicorn servers (SQLite and PostgreSQL) is in tests/test_writes_live.py.
"""

from __future__ import annotations

import pytest
from people import OPERATOR, token_for

from stationmap.stations import read_stations
from stationmap.store import Store
from stationmap.web import create_app

TOKEN = "s3cret-token"           # not a token any store made: refused
#: Filled by the ``url`` fixture with a token made through the store for "city-app", an admin.
AUTH: dict[str, str] = {}
STATION = "SH-310101-0010"
MERGE = "application/merge-patch+json"


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    store.close()
    AUTH["Authorization"] = f"Bearer {token_for(url, 'city-app')}"
    return url


@pytest.fixture
def app(url):
    return create_app({"TESTING": True, "DATABASE_URL": url})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(url):
    opened = Store.open(url)
    yield opened
    opened.close()


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json(force=True)


def test_get_sends_the_station_version_as_etag_and_in_json_and_geojson(client):
    response = client.get(f"/api/v1/stations/{STATION}")
    assert response.headers["ETag"] == '"1"' and response.json["version"] == 1
    listed = client.get("/api/v1/stations", query_string={"f": "geojson", "limit": 3}).json
    assert all(f["properties"]["version"] == 1 for f in listed["features"])
    item = client.get(f"/ogc/collections/stations/items/{STATION}")
    assert item.headers["ETag"] == '"1"' and item.json["properties"]["version"] == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic czNjcmV0"},
                                     "the store's token with one character more"])
def test_writes_without_a_valid_token_are_401_and_change_nothing(client, store, headers):
    if isinstance(headers, str):
        headers = {"Authorization": AUTH["Authorization"] + "x"}
    before = store.register_version()
    calls = [client.post("/api/v1/stations", json={"id": "X-1", "name": "新站", "lon": 121.4, "lat": 31.2},
                         headers=headers),
             client.put(f"/api/v1/stations/{STATION}", json={"name": "x"}, headers={**headers, "If-Match": '"1"'}),
             client.patch(f"/api/v1/stations/{STATION}", data='{"name": "x"}', content_type=MERGE,
                          headers={**headers, "If-Match": '"1"'}),
             client.delete(f"/api/v1/stations/{STATION}", headers={**headers, "If-Match": '"1"'}),
             client.post("/ogc/collections/stations/items", headers=headers, content_type="application/geo+json",
                         data='{"type": "Feature", "geometry": null, "properties": {"name": "x"}}'),
             client.delete(f"/ogc/collections/stations/items/{STATION}", headers={**headers, "If-Match": '"1"'})]
    for response in calls:
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="stationmap"')
    assert store.register_version() == before and store.get(STATION)["version"] == 1


def test_the_retired_api_tokens_setting_stops_the_app_and_says_what_replaced_it(url):
    from stationmap.errors import InputError

    with pytest.raises(InputError, match="stationmap users token") as stopped:
        create_app({"TESTING": True, "DATABASE_URL": url, "API_TOKENS": {"city-app": TOKEN}})
    assert stopped.value.field == "API_TOKENS"


def test_post_creates_with_location_and_etag_and_history_names_the_client_and_reason(client, store):
    response = client.post("/api/v1/stations", headers=AUTH, json={
        "id": "API-1", "name": "测试驿站", "address": "上海市黄浦区某路1号", "lon": 121.48, "lat": 31.23,
        "coordsys": "gcj02", "amenities": ["drinking_water", "toilet"], "reason": "新建"})
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith("/api/v1/stations/API-1") and response.headers["ETag"] == '"1"'
    assert response.json["version"] == 1 and response.json["amenities"] == ["drinking_water", "toilet"]
    assert abs(response.json["lon"] - 121.48) > 1e-4          # GCJ-02 in, WGS-84 stored
    change = store.history("API-1")[-1]
    assert change.who == "token:city-app/tests" and change.reason == "新建" and change.action == "created"
    again = client.post("/api/v1/stations", headers=AUTH, json={"id": "API-1", "name": "重复"})
    _problem(again, 409)


def test_patch_is_a_json_merge_patch_and_null_clears(client, store):
    before = store.get(STATION)
    response = client.patch(f"/api/v1/stations/{STATION}", data='{"phone": null, "name": "新名字", "reason": "改名"}',
                            content_type=MERGE, headers={**AUTH, "If-Match": '"1"'})
    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"2"' and response.json["version"] == 2
    after = store.get(STATION)
    assert after["name"] == "新名字" and after["phone"] == "" and after["address"] == before["address"]
    assert after["location"] == before["location"]
    assert store.history(STATION)[-1].changes["phone"] == [before["phone"], ""]
    plain = client.patch(f"/api/v1/stations/{STATION}", json={"name": "x"}, headers={**AUTH, "If-Match": '"2"'})
    _problem(plain, 415)


def test_put_replaces_whole_and_fields_left_out_take_defaults(client, store):
    response = client.put(f"/api/v1/stations/{STATION}", headers={**AUTH, "If-Match": '"1"'},
                          json={"name": "整体替换站", "lon": 121.47, "lat": 31.23})
    assert response.status_code == 200, response.json
    after = store.get(STATION)
    assert after["phone"] == "" and after["type"] == "outdoor_worker_station" and after["location"] == [121.47, 31.23]


def test_a_stale_if_match_is_412_a_missing_one_428_and_nothing_changes(client, store):
    ok = client.patch(f"/api/v1/stations/{STATION}", data='{"phone": "021-2"}', content_type=MERGE,
                      headers={**AUTH, "If-Match": '"1"'})
    assert ok.status_code == 200
    for method in ("put", "patch", "delete"):
        kwargs = {"data": '{"name": "lost"}', "content_type": MERGE if method == "patch" else "application/json"}
        stale = getattr(client, method)(f"/api/v1/stations/{STATION}", headers={**AUTH, "If-Match": '"1"'}, **kwargs)
        body = _problem(stale, 412)
        assert stale.headers["ETag"] == '"2"' and "version 2" in body["detail"]
        for missing in ({}, {"If-Match": "*"}):
            _problem(getattr(client, method)(f"/api/v1/stations/{STATION}", headers={**AUTH, **missing}, **kwargs),
                     428)
    assert store.get(STATION)["version"] == 2 and store.get(STATION)["name"] != "lost"


def test_invalid_values_are_400_naming_each_field_and_change_nothing(client, store):
    response = client.patch(f"/api/v1/stations/{STATION}", content_type=MERGE, headers={**AUTH, "If-Match": '"1"'},
                            data='{"type": "castle", "lat": 95, "closed_until": "soon"}')
    named = {e["parameter"] for e in _problem(response, 400)["errors"]}
    assert {"type", "lat", "closed_until"} <= named
    unknown = client.patch(f"/api/v1/stations/{STATION}", content_type=MERGE, headers={**AUTH, "If-Match": '"1"'},
                           data='{"colour": "red"}')
    assert {e["parameter"] for e in _problem(unknown, 400)["errors"]} == {"colour"}
    assert store.get(STATION)["version"] == 1


def test_delete_is_soft_and_takes_its_reason_from_the_query(client, store):
    response = client.delete(f"/api/v1/stations/{STATION}", query_string={"reason": "拆除"},
                             headers={**AUTH, "If-Match": '"1"'})
    assert response.status_code == 204 and response.headers["ETag"] == '"2"'
    assert store.get(STATION, include_deleted=True)["deleted"]
    assert store.history(STATION)[-1].reason == "拆除"
    _problem(client.delete(f"/api/v1/stations/{STATION}", headers={**AUTH, "If-Match": '"2"'}), 404)


def test_the_changes_feed_pages_through_created_updated_and_deleted(client, store):
    start = store.register_version()
    store.update(STATION, {"phone": "021-3"}, expected_version=None, reason="r", actor=OPERATOR)
    store.create("NEW-1", {"name": "新站", "lon": "121.4", "lat": "31.2"}, reason="r", actor=OPERATOR)
    store.delete("SH-310101-0011", expected_version=None, reason="r", actor=OPERATOR)
    store.update("NEW-1", {"phone": "021-4"}, expected_version=None, reason="r", actor=OPERATOR)
    seen, link, pages = [], f"/api/v1/changes?since={start}&limit=2", 0
    while link:
        page = client.get(link).json
        seen += page["changes"]
        link, pages = page["next"], pages + 1
    assert pages == 2 and page["register_version"] == start + 4
    assert [(c["id"], c["action"]) for c in seen] == [(STATION, "updated"), ("SH-310101-0011", "deleted"),
                                                      ("NEW-1", "created")]
    assert seen[1]["station"] is None and seen[2]["station"]["phone"] == "021-4"
    assert client.get(f"/api/v1/changes?since={start + 4}").json["changes"] == []
    _problem(client.get("/api/v1/changes"), 400)


def test_an_import_of_thousands_in_one_version_pages_without_loss(client, store):
    everything = client.get("/api/v1/changes", query_string={"since": 0, "limit": 1000}).json
    ids = [c["id"] for c in everything["changes"]]
    while everything["next"]:
        everything = client.get(everything["next"]).json
        ids += [c["id"] for c in everything["changes"]]
    assert sorted(ids) == sorted(read_stations()["id"]) and len(set(ids)) == len(ids)


def test_updated_since_lists_only_stations_changed_after_a_version(client, store, app):
    from stationmap import live

    start = store.register_version()
    store.update(STATION, {"phone": "021-5"}, expected_version=None, reason="r", actor=OPERATOR)
    live.refresh(store, app.extensions["stationmap"])
    body = client.get("/api/v1/stations", query_string={"updated_since": start}).json
    assert [r["id"] for r in body["results"]] == [STATION] and body["results"][0]["version"] == 2


def test_a_server_answering_from_a_file_refuses_writes_and_has_no_feed():
    client = create_app({"TESTING": True, "STATIONS_PATH": "data/shanghai_stations.geojson"}).test_client()
    _problem(client.patch(f"/api/v1/stations/{STATION}", data="{}", content_type=MERGE,
                          headers={**AUTH, "If-Match": '"1"'}), 405)
    _problem(client.get("/api/v1/changes?since=0"), 404)
    _problem(client.get("/api/v1/stations?updated_since=0"), 400)
    assert client.get(f"/api/v1/stations/{STATION}").json["version"] is None
    assert not any("features-4" in c for c in client.get("/ogc/conformance").json["conformsTo"])


def test_the_openapi_document_describes_the_writes_with_bearer_auth_and_if_match(client):
    spec = client.get("/api/v1/openapi.json").json
    patch = spec["paths"]["/api/v1/stations/{station_id}"]["patch"]
    assert patch["security"] == [{"bearerAuth": []}]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert {"412", "428", "401"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "get" in spec["paths"]["/api/v1/stations/{station_id}"] and "post" in spec["paths"]["/api/v1/stations"]
    assert "/api/v1/changes" in spec["paths"]
