"""Absolute URLs never come from the Host a client sends: an unknown host is refused, and with
PUBLIC_BASE_URL every link starts with it (the `next` link, the OGC links, the embed snippet)."""

from __future__ import annotations

import json
import re
import socket

import pytest
from conftest import Server

from stationmap.errors import InputError
from stationmap.web import create_app
from stationmap.web.hosts import trust_address

EVIL = "evil.example"
PAGES = ["/api/v1/stations?limit=1", "/ogc", "/ogc/collections/stations/items?limit=1", "/embed"]


def _get(url: str, path: str, host: str) -> tuple[int, bytes]:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", PAGES)
def test_an_unknown_host_is_refused_by_the_real_server(live_server, path):
    status, body = _get(live_server, path, EVIL)
    assert status == 400 and EVIL.encode() not in body
    assert json.loads(body)["errors"][0]["parameter"] == "Host"


def test_the_machines_own_names_are_trusted_by_default(live_server):
    port = live_server.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, body = _get(live_server, "/api/v1/stations?limit=1", host)
        assert status == 200 and json.loads(body)["next"].startswith(f"http://{host}/")


@pytest.fixture(scope="module")
def public_server():
    """Behind a proxy that passes any Host: PUBLIC_BASE_URL set, every host accepted."""
    server = Server(env={"STATIONMAP_PUBLIC_BASE_URL": "https://stations.example.cn/map",
                         "STATIONMAP_TRUSTED_HOSTS": "null"})
    yield server.url
    server.stop()


def test_with_a_public_base_url_the_next_link_ignores_the_host(public_server):
    status, body = _get(public_server, "/api/v1/stations?limit=1", EVIL)
    assert status == 200
    assert json.loads(body)["next"] == "https://stations.example.cn/map/api/v1/stations?limit=1&offset=1"


def test_with_a_public_base_url_every_ogc_link_ignores_the_host(public_server):
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/stations/items?limit=1"):
        status, body = _get(public_server, path, EVIL)
        hrefs = [link["href"] for link in json.loads(body)["links"]]
        assert (status == 200 and hrefs
                and all(h.startswith("https://stations.example.cn/map/ogc") for h in hrefs)), hrefs


def test_with_a_public_base_url_the_embed_snippet_ignores_the_host(public_server):
    status, body = _get(public_server, "/embed", EVIL)
    found = re.search(rb'<script type="application/json" id="settings">(.*?)</script>', body, re.DOTALL)
    settings = json.loads(found.group(1))
    assert status == 200 and EVIL.encode() not in body
    assert settings["map_url"] == "https://stations.example.cn/map/embed/map"


def test_the_public_hosts_name_is_trusted_when_hosts_are_listed():
    client = create_app({"TESTING": True, "PUBLIC_BASE_URL": "https://stations.example.cn"}).test_client()
    assert client.get("/api/v1/meta", headers={"Host": "stations.example.cn"}).status_code == 200
    assert client.get("/api/v1/meta", headers={"Host": EVIL}).status_code == 400


def test_serve_trusts_the_address_it_listens_on_but_not_a_wildcard():
    app = create_app({"TESTING": True})
    trust_address(app, "192.168.1.5")
    trust_address(app, "0.0.0.0")
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "192.168.1.5"]
    assert create_app({"TESTING": True}).config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]   # not shared


@pytest.mark.parametrize("name, bad", [("PUBLIC_BASE_URL", "stations.example.cn"), ("PUBLIC_BASE_URL", "https://x.cn/?a=1"),
                                       ("PUBLIC_BASE_URL", "ftp://x.cn"), ("TRUSTED_HOSTS", 5),
                                       ("TRUSTED_HOSTS", ["https://x.cn/"]), ("PROXY_COUNT", "one")])
def test_bad_host_settings_stop_the_app_at_start_naming_them(name, bad):
    with pytest.raises(InputError) as caught:
        create_app({"TESTING": True, name: bad})
    assert caught.value.field == name
