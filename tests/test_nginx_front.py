"""deploy/stationmap.nginx.conf in front of the real `stationmap serve`: the same answers, plus
static files from disk with long cache headers, bodies refused at the limit, buffering."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from conftest import Server, _free_port
from nginx import nginx_front

from stationmap._paths import shipped

NEAREST = "/api/v1/stations/nearest?lat=31.2397&lon=121.4998&k=3"


@pytest.fixture(scope="module")
def app_server():
    server = Server(env={"STATIONMAP_PROXY_COUNT": "1"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fronts(app_server):
    """nginx over plain HTTP, and over TLS with the config's (commented) TLS block switched on."""
    with nginx_front(app_server.url, _free_port(), tls_port=_free_port()) as urls:
        yield urls


@pytest.fixture(scope="module")
def front(fronts):
    return fronts[0]


def get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_worker_page_is_the_same_through_nginx(front, app_server):
    status, headers, body = get(f"{front}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == get(f"{app_server.url}/")[2]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_nearest_answers_the_same_through_nginx(front, app_server):
    status, _, body = get(front + NEAREST)
    direct = json.loads(get(app_server.url + NEAREST)[2])
    answer = json.loads(body)
    assert status == 200
    assert ([(r["id"], r["distance_m"]) for r in answer["results"]]
            == [(r["id"], r["distance_m"]) for r in direct["results"]])


def test_compressed_answers_pass_through_once(front):
    status, headers, body = get(f"{front}/api/v1/districts", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    import gzip

    assert json.loads(gzip.decompress(body))["type"] == "FeatureCollection"


def test_nginx_serves_static_files_with_long_cache_headers(front):
    status, headers, body = get(f"{front}/static/worker.css?v=abc")
    assert status == 200 and body == (shipped("static") / "worker.css").read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "gunicorn" not in (headers.get("Server") or "")           # from disk, not from the app
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = get(f"{front}/static/vendor/leaflet/dist/leaflet.js")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=604800"


def test_an_oversize_body_is_refused_with_problem_json_naming_the_limit(front):
    body = b"[" + b"0," * 600_000 + b"0]"                               # 1.2 MB
    request = urllib.request.Request(f"{front}/api/v1/stations/along-route", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 413
    assert caught.value.headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(caught.value.read())
    assert "1,048,576 bytes" in problem["errors"][0]["reason"]


def test_problem_answers_from_the_app_pass_through(front):
    status, headers, body = get(f"{front}/api/v1/stations/nearest?lat=95&lon=121")
    assert status == 400 and headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(body)["errors"][0]["parameter"] == "lat"


def test_links_use_the_host_and_port_the_client_used(front):
    status, _, body = get(f"{front}/api/v1/stations?limit=1")
    assert status == 200 and json.loads(body)["next"].startswith(f"{front}/api/v1/stations?")


def test_another_host_name_never_reaches_the_app(front):
    port = int(front.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /api/v1/stations?limit=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert b"evil.example" not in answer                                 # nginx closes (444) without a word


def test_no_hsts_over_plain_http_but_hsts_when_the_proxy_says_https(front, app_server):
    assert "Strict-Transport-Security" not in get(f"{front}/healthz")[1]
    # what nginx sends behind TLS (X-Forwarded-Proto: https), believed because PROXY_COUNT=1
    _, headers, _ = get(f"{app_server.url}/healthz", {"X-Forwarded-Proto": "https"})
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_tls_the_app_knows_it_is_https_and_sends_hsts(fronts):
    import ssl

    _, https, cert = fronts
    context = ssl.create_default_context(cafile=cert)
    with urllib.request.urlopen(f"{https}/api/v1/stations?limit=1", timeout=10, context=context) as response:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert json.loads(response.read())["next"].startswith(f"{https}/api/v1/stations?")
