"""Flask-Limiter's before-request check runs only when there is something app-wide to check.

Every limit of this app is a view's own, counted by its decorator; the before-request check
would resolve limits on every request (a rider's nearest lookup included) for nothing. These
tests attack both sides: a view limit still refuses without it, and an app-wide default limit
brings it back.
"""

from __future__ import annotations

from stationmap.stations import default_path
from stationmap.web import create_app

NEAREST = "/api/v1/stations/nearest?lat=31.2304&lon=121.4737&k=1"


def _app(**config):
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": True, "STATIONS_PATH": str(default_path()), **config})


def _limiter_hooks(app) -> list:
    from flask_limiter import Limiter

    return [f for f in app.before_request_funcs.get(None, []) if isinstance(getattr(f, "__self__", None), Limiter)]


def test_without_app_wide_limits_the_before_request_check_is_off_and_view_limits_still_refuse():
    app = _app(RATELIMIT_PICTURES="2 per minute")
    assert _limiter_hooks(app) == []
    client = app.test_client()
    assert {client.get(NEAREST).status_code for _ in range(20)} == {200}
    statuses = [client.get("/api/v1/maps/image.svg?width=300").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_an_app_wide_default_limit_keeps_the_check_and_applies_to_every_route():
    app = _app(RATELIMIT_DEFAULT="3 per minute")
    assert len(_limiter_hooks(app)) == 1
    client = app.test_client()
    statuses = [client.get(NEAREST).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_disabled_limiter_starts_without_hooks():
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STATIONS_PATH": str(default_path())})
    assert _limiter_hooks(app) == []


def test_in_memory_fallback_limits_keep_the_check_and_apply_to_every_route_while_the_shared_store_is_down():
    app = _app(RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0",        # nothing listens there
               RATELIMIT_IN_MEMORY_FALLBACK="3 per minute", RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True)
    assert len(_limiter_hooks(app)) == 1
    client = app.test_client()
    client.get("/api/v1/maps/image.svg?width=300")      # a limited view finds the store down
    statuses = [client.get(NEAREST).status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses
