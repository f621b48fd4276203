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

from flask import Flask, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Endpoints and the setting holding their limit.
LIMITED = {"coverage.coverage": "RATELIMIT_COVERAGE", "coverage_jobs.submit_job": "RATELIMIT_COVERAGE",
           "coverage_compare.compare": "RATELIMIT_COVERAGE",
           "pictures.map_image_png": "RATELIMIT_PICTURES",
           "pictures.map_image_svg": "RATELIMIT_PICTURES", "api.along_route": "RATELIMIT_ALONG_ROUTE",
           "reports.create_report": "RATELIMIT_REPORTS"}
#: Posters are drawn in the request's own worker (about a second of CPU each), so a client
#: walking through every station id could keep every worker drawing. They count against the
#: picture limit, but only when actually drawn: a poster served from memory, or a 304, is free,
#: so chat apps fetching a shared link's preview are not throttled.
DRAWN = {"station.poster_png", "station.poster_pdf", "station.district_poster_pdf",
         "station.district_poster_png"}


def _drawn(_response) -> bool:
    return bool(g.get("stationmap_drawn"))


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
    missing = sorted((set(LIMITED) | DRAWN) - set(app.view_functions))
    if missing:       # a renamed route must not silently lose its limit
        raise RuntimeError(f"rate-limited endpoints not found: {', '.join(missing)}")
    for endpoint, setting in LIMITED.items():
        limit = limiter.limit(str(app.config[setting]), scope=setting)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])  # type: ignore[assignment]  # Flask-Limiter types its wrapper as possibly async
    for endpoint in DRAWN:
        limit = limiter.limit(str(app.config["RATELIMIT_PICTURES"]), scope="RATELIMIT_PICTURES", deduct_when=_drawn)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])  # type: ignore[assignment]  # (same)
    app.extensions["stationmap.limiter"] = limiter      # the limits refer to it weakly: keep it alive
    _drop_idle_middleware(app, limiter)
    return limiter


#: Settings that give Flask-Limiter limits of its own to check before every request (the
#: in-memory fallback applies to every route while a shared store is down).
APP_WIDE = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META", "RATELIMIT_IN_MEMORY_FALLBACK")


def _drop_idle_middleware(app: Flask, limiter: Limiter) -> None:
    """Take Flask-Limiter's before-request check off when it has nothing to check.

    Every limit here is a view's own (above): the decorator counts it when the view is called.
    The before-request check is for app-wide, default, meta and blueprint limits, which this app
    does not set, yet it resolves the request's limits on every request: a tenth of a nearest
    answer's CPU, for nothing. Should such a setting appear, the check stays.
    """
    if not limiter.enabled or any(app.config.get(name) for name in APP_WIDE):
        return                      # (a disabled limiter installs no hooks at all)
    app.before_request_funcs[None].remove(limiter._check_request_limit)   # ValueError if Flask-Limiter renames it

