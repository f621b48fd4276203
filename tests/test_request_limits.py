"""Each request limit is refused by the real server with a problem+json naming the limit, and the
limits are checked when the app starts."""

from __future__ import annotations

import json
import socket

import pytest

from stationmap.errors import InputError
from stationmap.web import create_app
from stationmap.web.limits import json_depth

ALONG = "/api/v1/stations/along-route"


def _raw(url: str, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (a body may be announced and never sent) and read the answer."""
    host, port = url.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    top, _, rest = answer.partition(b"\r\n\r\n")
    lines = top.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, rest


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


def _post_head(url: str, length: int, extra: str = "") -> str:
    return (f"POST {ALONG} HTTP/1.1\r\nHost: {url.split('://')[1]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n{extra}\r\n")


def _reason(body: bytes) -> str:
    return json.loads(body)["errors"][0]["reason"]


def test_a_400_mb_body_is_refused_from_its_length_before_it_is_read(live_server):
    status, headers, body = _raw(live_server, _post_head(live_server, 400_000_000))
    assert status == 413 and headers["Content-Type"] == "application/problem+json"
    assert "400,000,000 bytes" in _reason(body) and "1,048,576 bytes (MAX_CONTENT_LENGTH)" in _reason(body)


def test_a_chunked_body_over_the_limit_is_cut_off_with_the_same_answer(live_server):
    chunk = b"[" + b"0," * 600_000 + b"0]"
    head = (f"POST {ALONG} HTTP/1.1\r\nHost: {live_server.split('://')[1]}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    status, _, body = _raw(live_server, head, b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n")
    assert status == 413 and "(MAX_CONTENT_LENGTH)" in _reason(body)


def test_deeply_nested_json_is_a_400_naming_the_depth_limit_not_a_500(live_server):
    body = b"[" * 100_000
    status, headers, answer = _raw(live_server, _post_head(live_server, len(body)), body)
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert "100,000 levels" in _reason(answer) and "32 (MAX_JSON_DEPTH)" in _reason(answer)


def test_an_ordinary_route_is_well_within_the_depth_limit(live_server):
    route = json.dumps({"route": {"type": "LineString", "coordinates": [[121.47, 31.23], [121.49, 31.24]]}}).encode()
    status, _, answer = _raw(live_server, _post_head(live_server, len(route)), route)
    assert status == 200 and "results" in json.loads(answer)


def test_an_overlong_query_string_is_a_414_naming_the_limit(live_server):
    path = "/api/v1/stations/nearest?lat=31.23&lon=121.47&lang=" + "x" * 5000
    status, headers, body = _raw(live_server, f"GET {path} HTTP/1.1\r\nHost: {live_server.split('://')[1]}\r\n"
                                              "Connection: close\r\n\r\n")
    assert status == 414 and headers["Content-Type"] == "application/problem+json"
    assert "4,096 (MAX_QUERY_STRING_LENGTH)" in _reason(body)


def test_limits_are_configurable():
    client = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 100, "MAX_JSON_DEPTH": 3,
                         "MAX_QUERY_STRING_LENGTH": 50}).test_client()
    assert client.post(ALONG, data=b"[" * 101, content_type="application/json").status_code == 413
    deep = client.post(ALONG, json={"route": {"coordinates": [[1, 2]]}})
    assert deep.status_code == 400 and "limit is 3 (MAX_JSON_DEPTH)" in deep.json["errors"][0]["reason"]
    assert client.get("/api/v1/meta?" + "a" * 51).status_code == 414


@pytest.mark.parametrize("name, value", [("MAX_CONTENT_LENGTH", 0), ("MAX_JSON_DEPTH", "deep"),
                                         ("MAX_QUERY_STRING_LENGTH", -1), ("MAX_JSON_DEPTH", True)])
def test_a_bad_limit_stops_the_app_at_start_naming_it(name, value):
    with pytest.raises(InputError) as caught:
        create_app({"TESTING": True, name: value})
    assert caught.value.field == name


def test_json_depth_ignores_brackets_in_strings_and_escapes():
    assert json_depth(rb'{"a": "[[[\"{{{", "b": [1, [2]]}') == 3
    assert json_depth(b"12") == 0 and json_depth(b"[]") == 1
