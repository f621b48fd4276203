"""GET /api/v1/search through Flask's test client (fuzzed with the rest in test_api.py)."""

import pytest

from stationmap import coords, geodesy


def _problem(response, *parameters):
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    named = {e["parameter"] for e in response.get_json(force=True).get("errors", [])}
    assert set(parameters) <= named, named


def test_search_by_initials_answers_districts_and_station_records(client):
    body = client.get("/api/v1/search", query_string={"q": "xhq", "limit": 5}).json
    assert body["count"] == 5 and body["query"]["q"] == "xhq"
    first, second = body["results"][:2]
    assert (first["kind"], first["id"], first["name"], first["station"]) == ("district", "310104", "徐汇区", None)
    assert second["kind"] == "station" and second["station"]["id"] == second["id"]
    assert second["station"]["adcode"] == "310104" and second["match"]["field"] == "initials"


def test_search_results_carry_wgs84_and_gcj02_points(client):
    for result in client.get("/api/v1/search", query_string={"q": "工业路", "limit": 8}).json["results"]:
        gcj = coords.wgs84_to_gcj02(result["lon"], result["lat"])
        assert result["gcj02"] == pytest.approx([float(gcj[0]), float(gcj[1])], abs=1e-6)


def test_a_position_in_gcj02_ranks_by_distance_from_the_same_place(client):
    wgs = {"lat": 31.2304, "lon": 121.4737}
    lon, lat = coords.wgs84_to_gcj02(wgs["lon"], wgs["lat"])
    plain = client.get("/api/v1/search", query_string={"q": "爱心接力站", "kind": "station", **wgs}).json
    shifted = client.get("/api/v1/search", query_string={"q": "爱心接力站", "kind": "station", "lat": float(lat),
                                                          "lon": float(lon), "coordsys": "gcj02"}).json
    assert [r["id"] for r in shifted["results"]] == [r["id"] for r in plain["results"]]
    metres = [r["distance_m"] for r in plain["results"]]
    assert metres == sorted(metres)
    first = plain["results"][0]
    metres = float(geodesy.geodesic_m(wgs["lon"], wgs["lat"], first["lon"], first["lat"]))
    assert first["distance_m"] == pytest.approx(metres, abs=0.01)


def test_roads_say_which_district_they_are_in_in_the_asked_language(client):
    body = client.get("/api/v1/search", query_string={"q": "人民道", "kind": "road", "lang": "en"}).json
    assert body["results"] and all(r["kind"] == "road" and r["name"] == "人民路" for r in body["results"])
    assert "Huangpu" in {r["district"] for r in body["results"]}


@pytest.mark.parametrize("query, parameters", [
    ({}, ["q"]), ({"q": ""}, ["q"]), ({"q": "（）"}, ["q"]), ({"q": "x" * 65}, ["q"]),
    ({"q": "a", "lat": 31.2}, ["lon"]), ({"q": "a", "lon": 121.4}, ["lat"]), ({"q": "a", "lat": 95, "lon": 0}, ["lat"]),
    ({"q": "a", "limit": 0}, ["limit"]), ({"q": "a", "limit": 51}, ["limit"]), ({"q": "a", "kind": "city"}, ["kind"]),
    ({"q": "a", "coordsys": "mars"}, ["coordsys"]), ({"q": "a", "lang": "fr"}, ["lang"]),
])
def test_bad_search_parameters_are_400_problems_naming_each_one(client, query, parameters):
    _problem(client.get("/api/v1/search", query_string=query), *parameters)


def test_search_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    parameters = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "lat", "lon", "coordsys", "limit", "kind", "lang"} <= parameters
