"""``POST /api/v1/stations/{id}/reports`` and the report summary in station answers: 201, bad
input naming the field, one vote a day (409), the rate limit (429 with Retry-After), ranking of
stations reported closed, and the summary text — Flask's test client on a real GeoPackage store.
"""

from __future__ import annotations

import pytest

from stationmap.stations import default_path, read_stations
from stationmap.store import Store
from stationmap.web import create_app

STATION = "SH-310101-0010"
HERE = {"lat": 31.2304, "lon": 121.4737, "k": 6}


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'register.gpkg'}"
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    store.close()
    return url


def _app(url, **settings):
    return create_app({"TESTING": True, "DATABASE_URL": url, **settings})


@pytest.fixture
def client(url):
    return _app(url).test_client()


def _post(client, body, station=STATION, address="203.0.113.7", **kwargs):
    return client.post(f"/api/v1/stations/{station}/reports", json=body, environ_base={"REMOTE_ADDR": address},
                       **kwargs)


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json(force=True)


def test_a_report_is_201_with_the_station_version_and_the_summary(client):
    made = _post(client, {"kind": "missing_facility", "amenity": "toilet", "note": "厕所锁了"})
    assert made.status_code == 201, made.json
    assert made.json["station_id"] == STATION and made.json["station_version"] == 1
    assert made.json["kind"] == "missing_facility" and made.json["status"] == "open"
    assert set(made.json["reports"]) == {"closed_reports", "closure_flagged", "confirmations", "last_verified", "text"}


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "gone"}, "kind"),
    ({}, "kind"),
    ({"kind": "closed", "note": "长" * 301}, "note"),
    ({"kind": "closed", "note": "a\u202eb"}, "note"),
    ({"kind": "closed", "contact": 12}, "contact"),
    ({"kind": "missing_facility", "amenity": "jacuzzi"}, "amenity"),
    ({"kind": "closed", "amenity": "toilet"}, "amenity"),
    ({"kind": "closed", "ip": "1.2.3.4"}, "ip"),
])
def test_bad_input_is_a_400_problem_naming_the_field(client, body, field):
    problem = _problem(_post(client, body), 400)
    assert field in [e["parameter"] for e in problem["errors"]], problem


def test_not_json_unknown_station_and_read_only_server_are_refused(client, tmp_path):
    _problem(client.post(f"/api/v1/stations/{STATION}/reports", data="kind=closed"), 415)
    _problem(_post(client, {"kind": "closed"}, station="NO-SUCH"), 404)
    read_only = create_app({"TESTING": True, "STATIONS_PATH": str(default_path())})
    _problem(_post(read_only.test_client(), {"kind": "closed"}), 405)


def test_a_second_vote_on_the_same_station_the_same_day_is_a_409_and_not_counted(url):
    client = _app(url, REPORTS_CLOSED_MIN=1).test_client()
    assert _post(client, {"kind": "closed"}).status_code == 201
    problem = _problem(_post(client, {"kind": "confirm_open"}), 409)
    assert "今天已经报告过" in problem["detail"]
    summary = client.get(f"/api/v1/stations/{STATION}").json["reports"]
    assert (summary["closed_reports"], summary["confirmations"]) == (1, 0)
    assert _post(client, {"kind": "closed"}, address="198.51.100.9").status_code == 201     # another phone


def test_over_the_rate_limit_is_a_429_problem_with_retry_after(url):
    client = _app(url, RATELIMIT_ENABLED=True, RATELIMIT_REPORTS="3 per hour").test_client()
    statuses = [_post(client, {"kind": "closed"}, station=s).status_code
                for s in ("SH-310101-0010", "SH-310109-0026", "SH-310101-0001", "SH-310101-0002")]
    assert statuses[:3] == [201, 201, 201], statuses
    refused = _post(client, {"kind": "closed"}, station="SH-310101-0003")
    problem = _problem(refused, 429)
    assert problem["status"] == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_station_answer_carries_the_summary_in_the_asked_language(url):
    client = _app(url, REPORTS_CLOSED_MIN=2).test_client()
    for address in ("a", "b", "c"):
        _post(client, {"kind": "closed"}, address=address)
    zh = client.get(f"/api/v1/stations/{STATION}").json["reports"]
    en = client.get(f"/api/v1/stations/{STATION}", query_string={"lang": "en"}).json["reports"]
    assert zh["closure_flagged"] and zh["text"] == "近 24 小时 3 人报告关闭"
    assert en["text"] == "3 workers reported it closed in the last 24 hours"


def test_confirmations_make_the_summary_say_verified_today_by_how_many(client):
    _post(client, {"kind": "confirm_open"}, address="a")
    _post(client, {"kind": "confirm_open"}, address="b")
    summary = client.get(f"/api/v1/stations/{STATION}").json["reports"]
    assert summary["text"] == "最近核实：今天 · 2 人确认开放" and summary["confirmations"] == 2


def test_a_station_reported_closed_moves_after_near_ties_but_the_nearest_set_is_unchanged(url):
    plain = _app(url).test_client().get("/api/v1/stations/nearest", query_string=HERE).json["results"]
    first = plain[0]["id"]
    far_tie = _app(url, REPORTS_CLOSED_MIN=1, REPORTS_TIE_M=100_000).test_client()
    _post(far_tie, {"kind": "closed"}, station=first)
    moved = far_tie.get("/api/v1/stations/nearest", query_string=HERE).json["results"]
    assert {r["id"] for r in moved} == {r["id"] for r in plain}               # nothing hidden, nothing added
    assert moved[-1]["id"] == first and moved[-1]["reports"]["closure_flagged"]
    assert [r["rank"] for r in moved] == list(range(1, len(moved) + 1))
    assert [r["id"] for r in moved[:-1]] == [r["id"] for r in plain[1:]]      # the others keep their order
    exact = _app(url, REPORTS_CLOSED_MIN=1, REPORTS_TIE_M=0).test_client()
    again = exact.get("/api/v1/stations/nearest", query_string=HERE).json["results"]
    assert [r["id"] for r in again] == [r["id"] for r in plain]               # no exact tie: order kept


def test_a_single_closure_report_below_the_threshold_changes_neither_text_nor_order(client):
    plain = client.get("/api/v1/stations/nearest", query_string=HERE).json["results"]
    _post(client, {"kind": "closed"}, station=plain[0]["id"])
    after = client.get("/api/v1/stations/nearest", query_string=HERE).json["results"]
    assert [r["id"] for r in after] == [r["id"] for r in plain]
    assert after[0]["reports"]["closed_reports"] == 1 and "关闭" not in after[0]["reports"]["text"]


def test_the_report_route_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/stations/{station_id}/reports"]["post"]
    assert {"201", "400", "404", "409", "429"} <= set(post["responses"])
