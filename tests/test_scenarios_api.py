"""GET /api/v1/coverage/compare through Flask's test client: the core's comparison, in every format."""

import io
import json

import openpyxl
import pytest

from stationmap import scenarios
from stationmap.coverage import Threshold
from stationmap.districts import load_districts
from stationmap.planner import parse_at

URL = "/api/v1/coverage/compare"


def _problem(response, *parameters):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    named = {e["parameter"] for e in response.get_json(force=True)["errors"]}
    assert set(parameters) <= named, named


def test_day_against_night_is_the_core_s_comparison(client, shanghai):
    body = client.get(URL, query_string={"adcode": "310101", "b_at": "2026-11-24T02:00"}).json
    expected = scenarios.compare(load_districts("310101"), shanghai, scenarios.Side(Threshold.walking(15)),
                                 scenarios.Side(Threshold.walking(15), at=parse_at("2026-11-24T02:00")))
    row = body["districts"][0]
    for key in scenarios.COLUMNS:
        assert row[key] == expected.table.iloc[0][key], key
    assert body["totals"] == scenarios.totals(expected)
    assert body["scenarios"]["a"]["at"] is None and body["scenarios"]["b"]["at"].startswith("2026-11-24T02:00")
    assert body["scenarios"]["b"]["label"] == "步行 15 分钟内 · 02:00"
    assert [k["key"] for k in body["legend"]] == ["gained", "lost", "covered", "gap"]
    assert body["totals"]["cells"]["lost"] > 0 and body["sites"] == []


def test_ten_against_fifteen_minutes_only_gains(client):
    body = client.get(URL, query_string={"adcode": "310104", "minutes": 10, "b_minutes": 15}).json
    assert body["totals"]["cells"]["lost"] == 0 and body["totals"]["cells"]["gained"] > 0
    assert body["districts"][0]["area_covered_pct_delta"] > 0
    assert body["districts"][0]["population_covered_delta"] > 0


def test_today_against_the_recommended_sites_adds_them_and_lists_them(client):
    body = client.get(URL, query_string={"adcode": "310112", "b_sites": 3, "coordsys": "gcj02"}).json
    assert [s["rank"] for s in body["sites"]] == [1, 2, 3]
    assert body["sites"][0]["lon"] == pytest.approx(body["sites"][0]["gcj02_lon"], abs=1e-6)
    assert body["totals"]["cells"]["gained"] > 0 and body["totals"]["cells"]["lost"] == 0
    assert body["scenarios"]["b"]["sites"] == 3
    # The plain coverage API with the same sites agrees on A's share.
    plain = client.get("/api/v1/coverage", query_string={"adcode": "310112"}).json
    assert body["districts"][0]["area_covered_pct_a"] == pytest.approx(plain["districts"][0]["area_covered_pct"],
                                                                       abs=0.01)


def test_an_empty_b_at_means_any_time_and_an_absent_one_means_a_s(client):
    same = client.get(URL, query_string={"adcode": "310101", "at": "02:00"}).json
    assert same["totals"]["cells"]["gained"] == same["totals"]["cells"]["lost"] == 0
    any_time = client.get(URL, query_string={"adcode": "310101", "at": "02:00", "b_at": ""}).json
    assert any_time["scenarios"]["b"]["at"] is None and any_time["totals"]["cells"]["gained"] > 0


def test_downloads_are_named_for_what_they_hold(client):
    q = {"adcode": "310101", "minutes": 10, "b_minutes": 15, "b_at": "02:00"}
    csv = client.get(URL, query_string={**q, "f": "csv"})
    assert csv.mimetype == "text/csv"
    assert (csv.headers["Content-Disposition"]
            == 'attachment; filename="coverage-compare-310101-walk10-vs-walk15-0200.csv"')
    assert csv.data.decode("utf-8-sig").startswith("行政区划代码,区,覆盖面积占比 A (%)")
    xlsx = client.get(URL, query_string={**q, "f": "xlsx", "lang": "en"})
    assert xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    assert openpyxl.load_workbook(io.BytesIO(xlsx.data))["Scenarios"]["C1"].value == "Area covered A (%)"
    geo = client.get(URL, query_string={**q, "f": "geojson"})
    assert geo.mimetype == "application/geo+json"
    assert 'filename="coverage-changes-310101-walk10-vs-walk15-0200.geojson"' in geo.headers["Content-Disposition"]
    assert {f["properties"]["change"] for f in json.loads(geo.data)["features"]} <= {"gained", "lost"}
    cells = client.get(URL, query_string={**q, "f": "cells"}).json
    assert cells["unit"] == "change" and cells["changes"] == list(scenarios.CHANGES)


@pytest.mark.parametrize(("query", "field"), [({"b_minutes": 0}, "b_minutes"), ({"b_minutes": "x"}, "b_minutes"),
                                              ({"b_at": "25:00"}, "b_at"), ({"b_mode": "car"}, "b_mode"),
                                              ({"b_sites": 21}, "b_sites"), ({"b_sites": -1}, "b_sites"),
                                              ({"adcode": "999999"}, "adcode"), ({"f": "html"}, "f"),
                                              ({"minutes": 61}, "minutes")])
def test_bad_values_are_a_400_naming_the_field(client, query, field):
    _problem(client.get(URL, query_string={"adcode": "310101", **query}), field)


def test_every_bad_value_is_named_at_once(client):
    _problem(client.get(URL, query_string={"b_minutes": 99, "b_at": "later", "b_sites": 99}),
             "b_minutes", "b_at", "b_sites")


def test_a_district_named_like_markup_stays_data_in_the_json(client):
    body = client.get(URL, query_string={"adcode": "310101", "b_at": "02:00"})
    assert body.mimetype == "application/json" and "<script" not in body.get_data(as_text=True)
