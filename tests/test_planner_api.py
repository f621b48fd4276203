"""GET /api/v1/coverage through Flask's test client: the core's numbers, in every format."""

import io
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from stationmap import coords
from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.planner import parse_at
from stationmap.reports import LEADING
from stationmap.stations import from_frame
from stationmap.web import create_app

URL = "/api/v1/coverage"
MAX_CELLS = 400_000


def _problem(response, *parameters):
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    named = {e["parameter"] for e in response.get_json(force=True)["errors"]}
    assert set(parameters) <= named, named


def _same(value, expected):
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return value is None
    if isinstance(expected, (float, np.floating)):
        return value == pytest.approx(float(expected), abs=1e-9)
    return value == expected


def _assert_rows_equal(districts, table):
    assert [d["adcode"] for d in districts] == table["adcode"].tolist()
    for row, (_, expected) in zip(districts, table.iterrows(), strict=True):
        for column in table.columns:
            assert _same(row[column], expected[column]), (row["adcode"], column, row[column], expected[column])


def test_json_is_the_reports_table_for_the_whole_city(client, shanghai):
    body = client.get(URL).json
    report = coverage_report(load_districts("310100"), shanghai, Threshold.walking(15), max_cells=MAX_CELLS)
    assert len(body["districts"]) == 16
    _assert_rows_equal(body["districts"], report.table)
    assert list(body["districts"][0])[:len(LEADING)] == list(LEADING)
    assert body["query"]["adcode"] == "310100" and body["query"]["minutes"] == 15 and body["query"]["mode"] == "walk"
    assert body["assumptions"] == report.assumptions("zh")
    assert body["dataset"]["stations"] == len(shanghai) and len(body["dataset"]["version"]) == 12
    totals, table = body["totals"], report.table
    assert totals["stations"] == table["stations"].sum()
    assert totals["area_covered_pct"] == pytest.approx(
        np.average(table["area_covered_pct"], weights=table["area_km2"]), abs=0.01)
    assert min(table["area_covered_pct"]) <= totals["area_covered_pct"] <= max(table["area_covered_pct"])
    assert body["recommendations"] == []


def test_one_district_in_english_by_ebike(client, shanghai):
    body = client.get(URL, query_string={"adcode": "310115", "mode": "ebike", "minutes": 10, "lang": "en"}).json
    report = coverage_report(load_districts("310115"), shanghai, Threshold.walking(10, "ebike"), max_cells=MAX_CELLS)
    _assert_rows_equal(body["districts"], report.table)
    assert body["assumptions"].startswith("Covered: within a 10-minute e-bike ride")


def test_night_view_counts_only_stations_open_at_2am(client, shanghai):
    day = client.get(URL).json
    night = client.get(URL, query_string={"at": "02:00"}).json
    at = parse_at("02:00")
    report = coverage_report(load_districts("310100"), shanghai, Threshold.walking(15), at=at, max_cells=MAX_CELLS)
    _assert_rows_equal(night["districts"], report.table)
    assert night["query"]["at"] == at.isoformat() and "02:00" in night["assumptions"]
    assert night["totals"]["stations"] < day["totals"]["stations"]
    for d, n in zip(day["districts"], night["districts"], strict=True):
        assert n["stations"] <= d["stations"] and n["area_covered_pct"] <= d["area_covered_pct"]


def test_an_iso_time_with_seconds_is_the_same_minute(client):
    a = client.get(URL, query_string={"adcode": "310101", "at": "2026-11-24T02:00:00"}).json
    b = client.get(URL, query_string={"adcode": "310101", "at": "2026-11-24T02:00:59+08:00"}).json
    assert a["districts"] == b["districts"] and a["query"]["at"] == "2026-11-24T02:00:00+08:00"


def test_three_recommended_sites_raise_coverage(client, shanghai):
    body = client.get(URL, query_string={"adcode": "310112", "recommend": 3}).json
    sites = body["recommendations"]
    assert [s["rank"] for s in sites] == [1, 2, 3] and all(s["gain"] > 0 for s in sites)
    # Build the sites as stations: the district's covered share must rise.
    open_now = shanghai.stations[shanghai.stations["status"] == "open"]
    frame = pd.DataFrame({"id": open_now["id"], "name": open_now["name"],
                          "lon": open_now.geometry.x, "lat": open_now.geometry.y})
    added = pd.DataFrame({"id": [f"new-{s['rank']}" for s in sites], "name": "新站",
                          "lon": [s["lon"] for s in sites], "lat": [s["lat"] for s in sites]})
    districts = load_districts("310112")
    before = coverage_report(districts, StationIndex(from_frame(frame)), Threshold.walking(15)).table
    after = coverage_report(districts, StationIndex(from_frame(pd.concat([frame, added]))), Threshold.walking(15)).table
    assert before.loc[0, "area_covered_pct"] == body["districts"][0]["area_covered_pct"]
    assert after.loc[0, "area_covered_pct"] > before.loc[0, "area_covered_pct"] + 0.5


def test_csv_download_is_the_command_s_file(client):
    response = client.get(URL, query_string={"f": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="coverage-310100-walk15.csv"'
    header = response.get_data(as_text=True).splitlines()[0]
    assert header.startswith("adcode,name,stations,area_km2,population,area_covered_pct,population_covered_pct,"
                             "mean_dist_m,p90_dist_m,largest_gap_km2")
    table = pd.read_csv(io.BytesIO(response.data), dtype={"adcode": str})
    assert table["adcode"].tolist() == [d["adcode"] for d in client.get(URL).json["districts"]]
    assert "962" in table.loc[0, "assumptions"]


def test_xlsx_download_has_chinese_headers(client):
    response = client.get(URL, query_string={"f": "xlsx", "at": "02:00"})
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith('T0200.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["覆盖", "说明"]
    header = [c.value for c in book["覆盖"][1]]
    assert header[:4] == ["行政区划代码", "区", "站点数", "面积（平方公里）"]
    assert book["覆盖"].max_row == 17 and "02:00" in book["说明"]["A2"].value


def test_gaps_geojson_in_the_asked_coordinate_system(client):
    wgs = client.get(URL, query_string={"adcode": "310101", "f": "geojson"})
    gcj = client.get(URL, query_string={"adcode": "310101", "f": "geojson", "coordsys": "gcj02"})
    assert wgs.mimetype == gcj.mimetype == "application/geo+json"
    a, b = wgs.json, gcj.json
    assert a["type"] == b["type"] == "FeatureCollection" and b["coordsys"] == "gcj02"
    assert [f["properties"]["adcode"] for f in a["features"]] == ["310101"]
    assert set(a["features"][0]["properties"]) >= {"adcode", "name", "uncovered_km2"}

    def first_ring(feature):
        geometry = feature["geometry"]
        return np.array(geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0])

    p, q = first_ring(a["features"][0]), first_ring(b["features"][0])
    shifted = np.column_stack(coords.wgs84_to_gcj02(p[:, 0], p[:, 1]))
    assert np.abs(q - shifted).max() < 2e-6                       # the same outline, moved
    metres = np.hypot((q[:, 0] - p[:, 0]) * 95_000, (q[:, 1] - p[:, 1]) * 111_000)
    assert 300 < metres.min() and metres.max() < 800              # about 500 m in Shanghai


def test_gap_centres_and_sites_follow_coordsys(client):
    query = {"adcode": "310112", "recommend": 2}
    wgs = client.get(URL, query_string=query).json
    gcj = client.get(URL, query_string={**query, "coordsys": "gcj02"}).json
    d, e = wgs["districts"][0], gcj["districts"][0]
    x, y = coords.wgs84_to_gcj02(d["largest_gap_lon"], d["largest_gap_lat"])
    assert (e["largest_gap_lon"], e["largest_gap_lat"]) == pytest.approx((float(x), float(y)), abs=1e-6)
    s, t = wgs["recommendations"][0], gcj["recommendations"][0]
    x, y = coords.wgs84_to_gcj02(s["lon"], s["lat"])
    assert (t["lon"], t["lat"]) == pytest.approx((float(x), float(y)), abs=1e-6)


def test_html_map_is_a_self_contained_attachment(client):
    response = client.get(URL, query_string={"adcode": "310101", "f": "html", "lang": "en"})
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == 'attachment; filename="coverage-map-310101-walk15.html"'
    text = response.get_data(as_text=True)
    assert "Union station coverage" in text and "L.map(" in text.replace('L.map (', 'L.map(')
    assert "cdn" not in text.lower()


def test_one_report_serves_every_format(shanghai):
    app = create_app({"TESTING": True})
    client = app.test_client()
    for f in ("json", "geojson", "csv", "xlsx", "html"):
        assert client.get(URL, query_string={"adcode": "310104", "f": f, "lang": "en"}).status_code == 200
    assert app.extensions["stationmap.coverage"].computed == 1
    client.get(URL, query_string={"adcode": "310104", "minutes": 20})
    assert app.extensions["stationmap.coverage"].computed == 2


def test_the_cell_budget_coarsens_large_areas():
    app = create_app({"TESTING": True, "COVERAGE_MAX_CELLS": 5_000})
    body = app.test_client().get(URL).json
    assert sum(d["cells"] for d in body["districts"]) <= 5_000 * 1.1
    assert {d["h3_resolution"] for d in body["districts"]} != {9}       # not the radius's own resolution everywhere
    assert body["query"]["max_cells"] == 5_000


@pytest.mark.parametrize("query, parameters", [
    ({"adcode": "999999"}, ["adcode"]),
    ({"adcode": "110101"}, ["adcode"]),              # real, but not this service's area
    ({"adcode": "31"}, ["adcode"]),
    ({"minutes": 0}, ["minutes"]),
    ({"minutes": 61}, ["minutes"]),
    ({"minutes": "nan"}, ["minutes"]),
    ({"minutes": 10, "radius_m": 500}, ["minutes", "radius_m"]),
    ({"radius_m": 0}, ["radius_m"]),
    ({"radius_m": 20_001}, ["radius_m"]),
    ({"at": "25:00"}, ["at"]),
    ({"at": "teatime"}, ["at"]),
    ({"at": "0001-01-01T00:00+14:00"}, ["at"]),           # before year 1 in China Standard Time
    ({"recommend": 99}, ["recommend"]),
    ({"recommend": -1}, ["recommend"]),
    ({"f": "pdf"}, ["f"]),
    ({"mode": "helicopter"}, ["mode"]),
    ({"coordsys": "bd09"}, ["coordsys"]),
    ({"lang": "fr", "f": "pdf"}, ["lang", "f"]),
])
def test_bad_parameters_are_400_problems_naming_each_one(client, query, parameters):
    _problem(client.get(URL, query_string=query), *parameters)


def test_documented_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/coverage"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"adcode", "mode", "minutes", "radius_m", "at", "recommend",
                                                            "lang", "coordsys", "f"}
    assert set(operation["responses"]["200"]["content"]) >= {"application/json", "application/geo+json", "text/csv",
                                                             "text/html"}
    bad = operation["responses"]["400"]["$ref"].rsplit("/", 1)[1]
    assert "application/problem+json" in spec["components"]["responses"][bad]["content"]
