"""JSON API v1 through Flask's test client, and fuzzed from its own OpenAPI document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from stationmap import coords
from stationmap.index import Filters
from stationmap.web import create_app

LUJIAZUI = {"lat": 31.2397, "lon": 121.4998}


def _problem(response, status, *parameters):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    named = {e["parameter"] for e in body.get("errors", [])}
    assert set(parameters) <= named, body
    return body


def test_nearest_matches_the_index(client, shanghai):
    body = client.get("/api/v1/stations/nearest", query_string={**LUJIAZUI, "k": 5, "radius_m": 3000}).json
    expected = shanghai.nearest(121.4998, 31.2397, k=5, radius_m=3000)
    assert [r["id"] for r in body["results"]] == shanghai.ids[expected.positions].tolist()
    first = body["results"][0]
    assert abs(first["distance_m"] - expected.distance_m[0]) < 0.01
    assert 0 <= first["bearing_deg"] < 360
    assert first["est_minutes"] == pytest.approx(first["distance_m"] * 1.3 / (5000 / 60), abs=0.06)
    assert "1.3" in body["assumptions"]
    gcj = coords.wgs84_to_gcj02(first["lon"], first["lat"])
    assert first["gcj02"] == pytest.approx([float(gcj[0]), float(gcj[1])], abs=1e-7)
    navigation = first["links"]["amap_navigation"]
    assert navigation.startswith("https://uri.amap.com/navigation?to=") and "coordinate=gaode" in navigation
    assert f"{first['gcj02'][0]:.6f}" in navigation and "mode=walk" in navigation
    assert first["links"]["geo"].startswith(f"geo:{first['lat']:.6f},{first['lon']:.6f}")


def test_nearest_in_english_by_ebike_with_filters(client, shanghai):
    query = {**LUJIAZUI, "k": 5, "amenity": "microwave,wifi", "open_at": "2026-11-24T02:00", "mode": "ebike",
             "lang": "en"}
    body = client.get("/api/v1/stations/nearest", query_string=query).json
    filters = Filters.build(amenities=["microwave", "wifi"], open_at="2026-11-24T02:00")
    expected = shanghai.nearest(121.4998, 31.2397, k=5, filters=filters)
    assert [r["id"] for r in body["results"]] == shanghai.ids[expected.positions].tolist()
    for r in body["results"]:
        assert r["open_now"] and r["type_label"] == "Outdoor worker station" or r["type"] != "outdoor_worker_station"
        assert "ride" in r["links"]["amap_navigation"]
    assert "e-bike" in body["assumptions"]


def test_nearest_in_gcj02_means_the_same_place(client):
    lon, lat = coords.wgs84_to_gcj02(121.4998, 31.2397)
    plain = client.get("/api/v1/stations/nearest", query_string=LUJIAZUI).json
    shifted = client.get("/api/v1/stations/nearest",
                         query_string={"lat": float(lat), "lon": float(lon), "coordsys": "gcj02"}).json
    assert [r["id"] for r in shifted["results"]] == [r["id"] for r in plain["results"]]


def test_nearest_as_geojson(client):
    response = client.get("/api/v1/stations/nearest", query_string={**LUJIAZUI, "f": "geojson", "k": 2})
    assert response.mimetype == "application/geo+json"
    body = response.json
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 2
    assert body["features"][0]["geometry"]["type"] == "Point"


def test_open_now_leaves_out_unknown_and_closed(client, shanghai):
    body = client.get("/api/v1/stations/nearest", query_string={**LUJIAZUI, "k": 50, "open_now": "true"}).json
    assert all(r["open_now"] and r["status"] == "open" and r["opening_hours"] for r in body["results"])


def test_station_list_pages_through_a_box(client, shanghai):
    box = "121.40,31.15,121.55,31.30"
    seen, url = [], f"/api/v1/stations?bbox={box}&limit=50"
    while url:
        body = client.get(url).json
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    expected = shanghai.ids[shanghai.within_bbox(121.40, 31.15, 121.55, 31.30)].tolist()
    assert seen == expected and body["matched"] == len(expected)


def test_one_station_and_unknown_id(client, shanghai):
    station_id = shanghai.ids[0]
    body = client.get(f"/api/v1/stations/{station_id}?lang=en").json
    assert body["id"] == station_id and body["type_label"]
    _problem(client.get("/api/v1/stations/no-such-station"), 404)


def test_along_route(client, shanghai):
    route = {"type": "LineString", "coordinates": [[121.40, 31.20], [121.50, 31.24], [121.55, 31.30]]}
    body = client.post("/api/v1/stations/along-route", json={"route": route, "distance_m": 400}).json
    import shapely

    expected = shanghai.along_route(shapely.LineString(route["coordinates"]), 400)
    assert [r["id"] for r in body["results"]] == shanghai.ids[expected.positions].tolist()
    assert [r["along_m"] for r in body["results"]] == sorted(r["along_m"] for r in body["results"])
    assert all(r["distance_m"] <= 400 for r in body["results"])


def test_meta_and_health(client, shanghai):
    meta = client.get("/api/v1/meta").json
    assert meta["dataset"]["stations"] == len(shanghai) and len(meta["dataset"]["version"]) == 12
    assert meta["amenities"]["microwave"] == {"zh": "微波炉", "en": "Microwave"}
    assert meta["modes"]["walk"]["detour_factor"] == 1.3
    assert client.get("/healthz").json == {"status": "ok", "stations": len(shanghai)}


@pytest.mark.parametrize("query, parameters", [
    ({"lat": "abc", "lon": 121.5}, ["lat"]),
    ({"lat": "nan", "lon": 121.5}, ["lat"]),
    ({"lat": 31.2, "lon": "inf"}, ["lon"]),
    ({"lat": 95, "lon": 121.5}, ["lat"]),
    ({"lon": 121.5}, ["lat"]),
    ({**LUJIAZUI, "k": 51}, ["k"]),
    ({**LUJIAZUI, "k": 0}, ["k"]),
    ({**LUJIAZUI, "radius_m": 0}, ["radius_m"]),
    ({**LUJIAZUI, "radius_m": 50_001}, ["radius_m"]),
    ({**LUJIAZUI, "amenity": "microwave,sauna"}, ["amenity"]),
    ({**LUJIAZUI, "type": "canteen"}, ["type"]),
    ({**LUJIAZUI, "coordsys": "mars"}, ["coordsys"]),
    ({**LUJIAZUI, "open_now": "true", "open_at": "2026-11-24T02:00"}, ["open_at"]),
    ({**LUJIAZUI, "open_at": "teatime"}, ["open_at"]),
    ({**LUJIAZUI, "open_at": "9999-12-31T23:59-14:00"}, ["open_at"]),   # after year 9999 in China
    ({**LUJIAZUI, "mode": "helicopter"}, ["mode"]),
    ({"lat": 95, "lon": "x", "k": 99}, ["lat", "lon", "k"]),
])
def test_bad_nearest_parameters_are_400_problems_naming_each_one(client, query, parameters):
    _problem(client.get("/api/v1/stations/nearest", query_string=query), 400, *parameters)


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "121,31,120,32", "nan,1,2,3", "0,0,0,inf"])
def test_malformed_bbox(client, bbox):
    _problem(client.get("/api/v1/stations", query_string={"bbox": bbox}), 400, "bbox")


@pytest.mark.parametrize("body, parameter", [
    ({"route": {"type": "Point", "coordinates": [121, 31]}}, "route.type"),
    ({"route": {"type": "LineString", "coordinates": [[121, 31]]}}, "route.coordinates"),
    ({"route": {"type": "LineString", "coordinates": [[121, 31], [200, 31]]}}, "route.coordinates.1"),
    ({"route": {"type": "LineString", "coordinates": [[121, 31], [121, 31]]}}, "route.coordinates"),
    ({"route": {"type": "LineString", "coordinates": [[121, 31], [121.1, 31]]}, "distance_m": -1}, "distance_m"),
    ({}, "route"),
])
def test_malformed_route(client, body, parameter):
    _problem(client.post("/api/v1/stations/along-route", json=body), 400, parameter)


def test_wrong_method_and_media_type(client):
    response = client.delete("/api/v1/meta")
    _problem(response, 405)
    assert "GET" in response.headers["Allow"]
    _problem(client.post("/api/v1/stations/along-route", data="route=x",
                         content_type="application/x-www-form-urlencoded"), 415)


def test_responses_are_gzip_compressed_when_accepted(client):
    response = client.get("/api/v1/meta", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_openapi_document_and_local_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/stations/nearest", "/api/v1/stations", "/api/v1/stations/{station_id}",
            "/api/v1/stations/along-route", "/api/v1/meta", "/healthz"} <= set(spec["paths"])
    parameters = {p["name"] for p in spec["paths"]["/api/v1/stations/nearest"]["get"]["parameters"]}
    assert {"lat", "lon", "coordsys", "k", "radius_m", "amenity", "open_now", "open_at", "mode", "lang",
            "f"} <= parameters
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page and "//cdn" not in page


def test_map_picture_png_has_the_asked_width_and_is_cached_by_etag(client):
    import io

    from PIL import Image

    response = client.get("/api/v1/maps/image.png", query_string={"width": 420, "adcode": "310101"})
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).width == 420
    assert response.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")
    etag = response.headers["ETag"]
    again = client.get("/api/v1/maps/image.png", query_string={"width": 420, "adcode": "310101"},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = client.get("/api/v1/maps/image.png", query_string={"width": 421, "adcode": "310101"})
    assert other.headers["ETag"] != etag            # the parameters are part of the tag


def test_map_picture_from_the_real_server(live_server):
    """Through gunicorn: the bytes, the cache headers, and a 304 for a browser that has it."""
    import io
    import urllib.error
    import urllib.request

    from PIL import Image

    url = f"{live_server}/api/v1/maps/image.png?width=300&adcode=310104&lang=en"
    with urllib.request.urlopen(url, timeout=120) as response:      # the first starts the pool's worker
        assert response.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(response.read())).width == 300
        etag = response.headers["ETag"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(url, headers={"If-None-Match": etag}), timeout=60)
    assert caught.value.code == 304


def test_map_picture_svg_is_searchable_text_in_english(client):
    response = client.get("/api/v1/maps/image.svg", query_string={"width": 300, "adcode": "310101", "lang": "en",
                                                                   "title": "Rest stops in Huangpu"})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert ">Rest stops in Huangpu</text>" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, parameter", [
    ({"width": 10}, "width"), ({"width": "wide"}, "width"), ({"width": 3001}, "width"), ({"layer": "heat"}, "layer"),
    ({"type": "canteen"}, "type"), ({"adcode": "12"}, "adcode"), ({"adcode": "440300"}, "adcode"),
    ({"lang": "fr"}, "lang"), ({"title": "x" * 121}, "title"), ({"title": "驿站 \U0001F600", "width": 300}, "title"),
])
def test_bad_map_picture_parameters_are_400_problems(client, query, parameter):
    _problem(client.get("/api/v1/maps/image.png", query_string={"adcode": "310101", **query}), 400, parameter)


# -- fuzzing ------------------------------------------------------------------------------

# The schema is loaded at import, from an app of its own: schemathesis' lazy fixture loader
# touches a pytest internal (Node._nodeid) that pytest 9.2 no longer has. Coverage reports get a
# small cell budget here (the contract is the same at any budget; every distinct query would
# otherwise cost seconds).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json",
                                        create_app({"TESTING": True, "COVERAGE_MAX_CELLS": 10_000}))
MAPS = r"^/api/v1/maps/"


@schema.exclude(path_regex=MAPS).parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_the_api_from_its_own_openapi_document(case):
    """No input a client can send, valid or not, makes the server fail or break its contract.

    One check is left out: "a schema-valid request is accepted". OpenAPI 3.0 parameters cannot
    say that ``open_now`` and ``open_at`` exclude each other, and the API must refuse both at
    once with a 400. Every other check runs: no 5xx, documented status codes, content types,
    headers and response schemas, and invalid input rejected.
    """
    _call_and_validate(case)


def _call_and_validate(case) -> None:
    """Call the fuzzed case and run every check but "a schema-valid request is accepted".

    A query string past ``MAX_QUERY_STRING_LENGTH`` is refused before it is read, with 414 (the
    status HTTP has for it) as a problem document; schemathesis counts only its own list of
    statuses as "rejected", so that answer is checked here instead.
    """
    headers = {"Accept-Encoding": "identity"}        # the WSGI client does not gunzip
    response = case.call(headers=headers)
    if response.status_code == 414:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert str(content_type[0] if isinstance(content_type, list) else content_type).startswith(
            "application/problem+json")
        assert "MAX_QUERY_STRING_LENGTH" in response.text
        return
    case.validate_response(response, excluded_checks=[positive_data_acceptance], headers=headers)


@schema.include(path_regex=MAPS).parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_the_map_pictures(case):
    """The picture endpoints, fuzzed the same way but fewer times: each valid request draws a
    whole map (about a second). A valid width is set to the smallest, 300 px, since drawing
    time, not behaviour, grows with it; the widths' bounds are tested above."""
    width = (case.query or {}).get("width")
    if isinstance(width, int) and not isinstance(width, bool) and 300 <= width <= 6000:
        case.query["width"] = 300
    _call_and_validate(case)
