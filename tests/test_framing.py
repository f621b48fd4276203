"""Clickjacking protection: only /embed/map may be framed, and only by the sites in EMBED_ORIGINS."""

import os
import subprocess
import sys

import pytest

from stationmap.errors import InputError
from stationmap.web import create_app
from stationmap.web.framing import check_origins

NEWS = "https://news.example.cn"


@pytest.fixture(scope="module")
def client():
    return create_app({"TESTING": True, "EMBED_ORIGINS": [NEWS, "http://127.0.0.1:8080"]}).test_client()


@pytest.mark.parametrize("path", [
    "/",                                         # the worker page
    "/embed",                                    # the builder: an editor's tool, not for framing
    "/api/v1/meta",                              # JSON
    "/api/v1/stations/nearest?lat=95&lon=1",     # a problem+json error
    "/api/v1/docs",                              # the API docs page
    "/ogc",                                      # OGC API
    "/static/worker.css",                        # a static file
    "/no-such-page",                             # a 404
    "/healthz",
])
def test_every_other_response_refuses_framing(client, path):
    response = client.get(path)
    # every response now carries a full policy (issue 13, stationmap.web.security): its framing part is 'none'
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert [d for d in directives if d.startswith("frame-ancestors")] == ["frame-ancestors 'none'"], path
    assert response.headers["X-Frame-Options"] == "DENY", path


@pytest.mark.parametrize("path", ["/embed/map", "/embed/map?layer=coverage&lang=en", "/embed/map?type=bogus"])
def test_the_embeddable_map_names_who_may_frame_it(client, path):
    response = client.get(path)
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert [d for d in directives if d.startswith("frame-ancestors")] == [f"frame-ancestors 'self' {NEWS} http://127.0.0.1:8080"]
    assert "X-Frame-Options" not in response.headers     # it would override the list in old browsers


def test_the_default_is_this_site_only():
    response = create_app({"TESTING": True}).test_client().get("/embed/map")
    assert response.headers["Content-Security-Policy"].endswith("; frame-ancestors 'self'")
    assert "X-Frame-Options" not in response.headers


def test_304s_keep_the_policy(client):
    first = client.get("/embed/map")
    again = client.get("/embed/map", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code == 304
            and again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"])


def test_origins_are_normalised():
    assert check_origins(["HTTPS://News.Example.cn/", "http://[::1]:8000"]) == ["https://news.example.cn", "http://[::1]:8000"]
    assert check_origins("https://a.example.cn, https://b.example.cn") == ["https://a.example.cn", "https://b.example.cn"]
    assert check_origins(None) == [] and check_origins([]) == []


@pytest.mark.parametrize("bad, why", [
    (["news.example.cn"], "scheme"),
    (["https://news.example.cn/articles"], "no path"),
    (["https://news.example.cn?x=1"], "no path"),
    (["ftp://news.example.cn"], "scheme"),
    (["https://news.example.cn'; script-src *"], "host"),
    (["https://user:pw@news.example.cn"], "user"),
    (["https://news.example.cn:99999"], "port"),
    ([42], "not text"),
    ({"a": 1}, "list of origins"),
])
def test_bad_origins_stop_the_app_at_start_naming_the_entry(bad, why):
    with pytest.raises(InputError, match=why) as caught:
        create_app({"TESTING": True, "EMBED_ORIGINS": bad})
    assert caught.value.field == "EMBED_ORIGINS"


def test_serve_refuses_a_bad_origin_with_one_message():
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")},
           "STATIONMAP_EMBED_ORIGINS": '["news.example.cn"]'}
    result = subprocess.run([sys.executable, "-m", "stationmap", "serve", "--port", "1"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "EMBED_ORIGINS" in result.stderr and "news.example.cn" in result.stderr and "Traceback" not in result.stderr
