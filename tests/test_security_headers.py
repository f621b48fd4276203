"""The headers a security review expects, on every route of the app (walking its URL map), CORS
for the public read API only, and ETags on the answers that do not change with the time of day."""

from __future__ import annotations

import pytest
from flask import Blueprint

from stationmap.errors import InputError
from stationmap.web import create_app

NEWS = "https://news.example.cn"
ROUTE = {"route": {"type": "LineString", "coordinates": [[121.47, 31.23], [121.49, 31.24]]}, "distance_m": 300}
#: Values for the variable parts of URL rules, and small questions for the heavy routes.
VALUES = {"station_id": "SH-310101-0001", "collection_id": "stations", "feature_id": "SH-310101-0001",
          "filename": "worker.css", "adcode": "310101", "token": "A" * 24, "import_id": 1, "version": 1,
          "report_id": "1", "job_id": "0" * 32, "part": "json"}
QUERIES = {"/api/v1/coverage": "?adcode=310101", "/api/v1/coverage/compare": "?adcode=310101&b_at=02:00",
           "/api/v1/maps/image.png": "?adcode=310101&width=300",
           "/api/v1/maps/image.svg": "?adcode=310101&width=300", "/api/v1/stations/nearest": "?lat=31.23&lon=121.47"}


def _requests(app):
    for rule in app.url_map.iter_rules():
        _, path = rule.build({name: VALUES[name] for name in rule.arguments}, append_unknown=False)
        method = "GET" if "GET" in rule.methods else min(rule.methods - {"OPTIONS"})
        yield rule.rule, method, path + QUERIES.get(rule.rule, "")


def _is_page(response) -> bool:
    return response.mimetype == "text/html"


def test_every_route_and_every_error_carries_the_security_headers(app, client):
    seen = []
    for rule, method, url in [*_requests(app), ("404", "GET", "/no-such-page"), ("405", "DELETE", "/api/v1/meta"),
                              ("400", "GET", "/api/v1/stations/nearest?lat=95&lon=1")]:
        response = client.open(url, method=method, json=ROUTE if method == "POST" else None)
        assert response.status_code < 500, (rule, response.status_code)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", rule
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", rule
        assert ("geolocation=(self)" in headers["Permissions-Policy"]
                and "camera=()" in headers["Permissions-Policy"]), rule
        policy = [d.strip() for d in headers["Content-Security-Policy"].split(";")]
        assert sum(d.startswith("frame-ancestors") for d in policy) == 1, rule
        if _is_page(response) and response.status_code == 200:
            scripts = next(d for d in policy if d.startswith("script-src")).split()
            assert "'unsafe-inline'" not in scripts and "*" not in scripts, rule
            assert "default-src 'self'" in policy and "base-uri 'none'" in policy, rule
            images = next(d for d in policy if d.startswith("img-src"))
            assert "https://tile.openstreetmap.org" in images or rule.startswith("/embed"), rule
        elif not _is_page(response):
            assert "default-src 'none'" in policy, rule
        assert "Strict-Transport-Security" not in headers, rule          # plain HTTP
        seen.append(rule)
    assert {"/", "/coverage", "/embed", "/api/v1/stations/nearest", "/ogc", "/api/v1/docs"} <= set(seen)


def test_the_page_policy_follows_the_configured_tile_server():
    page = create_app({"TESTING": True, "TILES": "amap"}).test_client().get("/")
    assert "img-src 'self' data: https://*.is.autonavi.com" in page.headers["Content-Security-Policy"]
    offline = create_app({"TESTING": True, "TILES": "none"}).test_client().get("/")
    assert "img-src 'self' data:;" in offline.headers["Content-Security-Policy"]


def test_the_api_docs_page_runs_only_its_own_inline_script(client):
    response = client.get("/api/v1/docs")
    scripts = next(d for d in response.headers["Content-Security-Policy"].split(";") if "script-src" in d).split()
    assert len([s for s in scripts if s.startswith("'sha256-")]) == 1 and "'unsafe-inline'" not in scripts


def test_hsts_only_over_https(client):
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    # a client's own X-Forwarded-Proto is not believed without PROXY_COUNT
    assert "Strict-Transport-Security" not in client.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers


def _preflight(client, path: str, method: str, origin: str = NEWS):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type"})


@pytest.mark.parametrize("path", ["/api/v1/stations/nearest", "/api/v1/stations", "/api/v1/districts", "/api/v1/meta",
                                  "/ogc", "/ogc/collections/stations/items", "/api/v1/coverage"])
def test_a_news_sites_preflight_for_the_read_api_succeeds(client, path):
    response = _preflight(client, path, "GET")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"].split(", ")
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_read_answer_lets_the_news_sites_script_read_it(client):
    response = client.get("/api/v1/stations/nearest?lat=31.23&lon=121.47", headers={"Origin": NEWS})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_along_route_is_a_read_and_may_be_called_across_sites(client):
    """POST with a JSON body, but it only reads: allowed (stationmap.web.security explains why)."""
    response = _preflight(client, "/api/v1/stations/along-route", "POST")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    answer = client.post("/api/v1/stations/along-route", json=ROUTE, headers={"Origin": NEWS})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"


def _with_write_routes():
    app = create_app({"TESTING": True})
    bp = Blueprint("fake_writes", __name__)

    @bp.route("/api/v1/stations/<station_id>/notes", methods=["GET", "POST", "PUT", "DELETE"])
    def notes(station_id):
        return {"ok": True}

    @bp.route("/api/v1/admin/reload", methods=["GET"])
    def admin_reload():
        return {"ok": True}

    app.register_blueprint(bp)
    return app.test_client()


@pytest.mark.parametrize("path, method", [("/api/v1/stations/SH-1/notes", "POST"),
                                          ("/api/v1/stations/SH-1/notes", "PUT"),
                                          ("/api/v1/stations/SH-1/notes", "DELETE"),
                                          ("/api/v1/stations/SH-1/notes", "GET"),
                                          ("/api/v1/admin/reload", "GET")])
def test_preflights_for_write_and_admin_routes_fail(path, method):
    client = _with_write_routes()
    response = _preflight(client, path, method)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.open(path, method=method, headers={"Origin": NEWS}).headers


def test_a_method_the_read_api_does_not_have_is_not_offered(client):
    response = _preflight(client, "/api/v1/stations/nearest", "DELETE")
    assert "DELETE" not in response.headers.get("Access-Control-Allow-Methods", "")


def test_pages_get_no_cors_headers(client):
    for path in ("/", "/coverage", "/embed", "/healthz"):
        assert "Access-Control-Allow-Origin" not in client.get(path, headers={"Origin": NEWS}).headers, path


def test_configured_origins_are_named_and_others_refused():
    client = create_app({"TESTING": True, "CORS_ORIGINS": [NEWS]}).test_client()
    allowed = client.get("/api/v1/meta", headers={"Origin": NEWS})
    assert allowed.headers["Access-Control-Allow-Origin"] == NEWS and "Origin" in allowed.headers["Vary"]
    other = _preflight(client, "/api/v1/meta", "GET", origin="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("bad", [["news.example.cn"], "https://news.example.cn/path", 7])
def test_bad_cors_origins_stop_the_app_at_start(bad):
    with pytest.raises(InputError) as caught:
        create_app({"TESTING": True, "CORS_ORIGINS": bad})
    assert caught.value.field == "CORS_ORIGINS"


@pytest.mark.parametrize("path", ["/api/v1/districts", "/api/v1/districts?coordsys=gcj02", "/api/v1/meta",
                                  "/api/v1/openapi.json", "/ogc", "/ogc/conformance", "/ogc/collections",
                                  "/ogc/collections/stations"])
def test_answers_that_do_not_change_with_the_time_of_day_have_etags_and_304s(client, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == first.headers["ETag"]
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    if zipped.headers.get("Content-Encoding") == "gzip":             # Flask-Compress marks the tag
        repeat = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
        assert repeat.status_code == 304


def test_answers_that_change_with_the_clock_have_no_etag(client):
    response = client.get("/api/v1/stations/nearest?lat=31.23&lon=121.47")
    assert "ETag" not in response.headers and "Cache-Control" not in response.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_preflights_for_the_real_write_api_fail(client, method):
    """The register's write routes (bearer token, If-Match) are never open to other sites' scripts."""
    path = "/api/v1/stations" if method == "POST" else "/api/v1/stations/SH-310101-0010"
    response = _preflight(client, path, method)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
