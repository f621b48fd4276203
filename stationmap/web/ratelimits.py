"""Per-client rate limits on the heavy routes (coverage, pictures, along-route), by Flask-Limiter.

The heavy-work pool bounds what the *server* does at once; these limits stop one client from
taking all of it. Counters live in memory (per worker process: with N workers a client gets
up to N times the limit) unless ``RATELIMIT_STORAGE_URL`` names a shared store, e.g.
``redis://localhost:6379/0`` (one count for every worker and every app server; the redis
client is a dependency). A client past its limit gets 429 problem+json with ``Retry-After``.

Clients are told apart by address (``request.remote_addr``: behind nginx, the proxy settings
make it the rider's own).
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Endpoints and the setting holding their limit.
LIMITED = {"coverage.coverage": "RATELIMIT_COVERAGE", "pictures.map_image_png": "RATELIMIT_PICTURES",
           "pictures.map_image_svg": "RATELIMIT_PICTURES", "api.along_route": "RATELIMIT_ALONG_ROUTE"}


def _enabled(app: Flask) -> bool:
    setting = app.config.get("RATELIMIT_ENABLED")
    return not app.testing if setting is None else bool(setting)


def init_app(app: Flask) -> Limiter:
    """Attach the limiter (after the blueprints are registered)."""
    storage = app.config.get("RATELIMIT_STORAGE_URL") or "memory://"
    app.config["RATELIMIT_ENABLED"] = _enabled(app)     # Flask-Limiter reads this setting itself
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage, headers_enabled=True,
                      enabled=_enabled(app),
                      swallow_errors=True)          # a store that is down must not take the service down
    missing = sorted(set(LIMITED) - set(app.view_functions))
    if missing:       # a renamed route must not silently lose its limit
        raise RuntimeError(f"rate-limited endpoints not found: {', '.join(missing)}")
    for endpoint, setting in LIMITED.items():
        view = app.view_functions[endpoint]
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(str(app.config[setting]), scope=setting)(view)  # type: ignore[assignment]
    app.extensions["stationmap.limiter"] = limiter      # the limits refer to it weakly: keep it alive
    return limiter
