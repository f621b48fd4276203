"""Review finding (review6): Flask-Limiter's before-request check is taken off unless one of
RATELIMIT_DEFAULT / _APPLICATION / _META is set, but that check also applies the operator's
RATELIMIT_IN_MEMORY_FALLBACK limits to every route while the shared store is down.
"""

from __future__ import annotations

from stationmap.stations import default_path
from stationmap.web import create_app

NEAREST = "/api/v1/stations/nearest?lat=31.2304&lon=121.4737&k=1"


def test_in_memory_fallback_limits_still_apply_to_every_route_when_the_shared_store_is_down():
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": True, "STATIONS_PATH": str(default_path()),
                      "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:1/0",        # nothing listens there
                      "RATELIMIT_IN_MEMORY_FALLBACK": "3 per minute", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True})
    client = app.test_client()
    client.get("/api/v1/maps/image.svg?width=300")      # a limited view finds the store down
    statuses = [client.get(NEAREST).status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses
