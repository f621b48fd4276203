"""Attacks on the one after-request hook that sets the security headers (review of the one-look
rewrite): every answer carries each header exactly once, whatever the view set itself."""

from __future__ import annotations

import pytest
from flask import Response

from stationmap.web import create_app, framing

NEWS = "https://news.example.cn"
ONCE = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy")


def _own_headers() -> Response:
    response = Response("<p>x</p>", mimetype="text/html")
    for name, value in (("Content-Security-Policy", "default-src 'self'"),
                        ("content-security-policy", "script-src *"), ("X-Frame-Options", "ALLOWALL"),
                        ("x-frame-options", "SAMEORIGIN"), ("X-Content-Type-Options", "sniff"),
                        ("Referrer-Policy", "unsafe-url"), ("referrer-policy", "unsafe-url"),
                        ("Permissions-Policy", "camera=*"), ("Strict-Transport-Security", "max-age=1")):
        response.headers.add(name, value)
    return response


def _boom() -> Response:
    raise RuntimeError("boom")


@pytest.fixture(scope="module")
def app():
    app = create_app({"TESTING": True, "EMBED_ORIGINS": [NEWS], "PROPAGATE_EXCEPTIONS": False})
    app.add_url_rule("/review/own", "review_own", _own_headers)
    app.add_url_rule("/review/framed", "review_framed", _own_headers)
    app.add_url_rule("/review/boom", "review_boom", _boom)
    return app


@pytest.fixture(autouse=True)
def framed(monkeypatch):
    monkeypatch.setattr(framing, "FRAMEABLE", framing.FRAMEABLE | {"review_framed"})


def _check(response, *, frameable: bool, secure: bool) -> str:
    headers = response.headers
    for name in ONCE:
        assert len(headers.getlist(name)) == 1, (name, headers.getlist(name))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Permissions-Policy"].startswith("geolocation=(self)")
    policy = headers["Content-Security-Policy"]
    ancestors = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    if frameable:
        assert ancestors == [f"frame-ancestors 'self' {NEWS}"] and "X-Frame-Options" not in headers
    else:
        assert ancestors == ["frame-ancestors 'none'"] and headers.getlist("X-Frame-Options") == ["DENY"]
    if secure:
        assert headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
    return policy


@pytest.mark.parametrize("secure", [False, True])
def test_a_view_that_sets_every_header_itself_twice_gets_each_once_and_its_own_policy_first(app, secure):
    base = "https://localhost" if secure else "http://localhost"
    client = app.test_client()
    for path, frameable in (("/review/own", False), ("/review/framed", True)):
        response = client.get(path, base_url=base)
        policy = _check(response, frameable=frameable, secure=secure)
        assert policy.startswith("default-src 'self'; ")


def _again(response) -> dict[str, str]:
    return {"If-None-Match": response.headers["ETag"]}


@pytest.mark.parametrize("secure", [False, True])
def test_stable_answers_304s_static_files_preflights_and_errors_each_carry_every_header_once(app, secure):
    base = "https://localhost" if secure else "http://localhost"
    client = app.test_client()
    meta = client.get("/api/v1/meta", base_url=base)
    embed = client.get("/embed/map", base_url=base)
    static = client.get("/static/worker.css", base_url=base)
    answers = [
        (meta, False), (client.get("/api/v1/meta", base_url=base, headers=_again(meta)), False),
        (embed, True), (client.get("/embed/map", base_url=base, headers=_again(embed)), True),
        (static, False), (client.get("/static/worker.css", base_url=base, headers=_again(static)), False),
        (client.options("/api/v1/stations/nearest", base_url=base,
                        headers={"Origin": NEWS, "Access-Control-Request-Method": "GET"}), False),
        (client.get("/no-such-page", base_url=base), False), (client.delete("/api/v1/meta", base_url=base), False),
        (client.get("/api/v1/stations/nearest?lat=95&lon=1", base_url=base), False),
        (client.get("/review/boom", base_url=base), False),
        (client.head("/embed/map", base_url=base), True),
    ]
    statuses = [r.status_code for r, _ in answers]
    assert statuses[1] == statuses[3] == statuses[5] == 304 and statuses[7:11] == [404, 405, 400, 500], statuses
    for response, frameable in answers:
        _check(response, frameable=frameable, secure=secure)
    assert "Strict-Transport-Security" not in meta.headers or secure
