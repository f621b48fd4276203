"""Settings of the web app: defaults here, then the instance file, then environment variables.

Order of precedence (last wins): :class:`Defaults`; ``stationmap.cfg`` (Python syntax) in the
instance folder; environment variables prefixed ``STATIONMAP_`` (values parsed as JSON when they
can be, e.g. ``STATIONMAP_EMBED_ORIGINS='["https://news.example.cn"]'``); the mapping passed to
``create_app``.
"""

from __future__ import annotations

import os


def instance_path() -> str:
    """The instance folder the app uses (``STATIONMAP_INSTANCE_PATH``, else Flask's default), for
    commands that open the default store without building the app."""
    from flask import Flask

    return Flask("stationmap", instance_path=os.environ.get("STATIONMAP_INSTANCE_PATH")).instance_path


class Defaults:
    #: The store of record (``sqlite:///FILE.gpkg`` or ``postgresql://USER@HOST/DB``); ``None``:
    #: ``register.gpkg`` in the instance folder, seeded from the shipped Shanghai sample.
    DATABASE_URL: str | None = None
    #: A stations file served read-only instead of the store (``--stations``).
    STATIONS_PATH: str | None = None
    #: Seconds between a SQLite store's version checks (PostgreSQL notifies at once).
    WATCH_INTERVAL = 1.0
    #: Area of the district picker and outlines: an adcode (Shanghai's ship; others need the china extra).
    DISTRICTS_ADCODE = "310100"
    #: Language when a request does not say (``zh`` or ``en``).
    DEFAULT_LANG = "zh"
    #: Base map of the pages: ``osm`` (WGS-84), ``amap`` (GCJ-02: overlays are shifted to match),
    #: ``tianditu`` (WGS-84/CGCS2000, needs ``TIANDITU_KEY``) or ``none`` (district outlines only).
    TILES = "osm"
    TIANDITU_KEY = ""
    #: News sites allowed to show ``/embed/map`` in an iframe, as ``scheme://host[:port]``
    #: (CSP ``frame-ancestors 'self'`` plus these). Default: none, this site only; an operator
    #: adds each newspaper. Checked at start. Every other page refuses framing everywhere.
    EMBED_ORIGINS: list[str] = []
    #: Most H3 cells one coverage request may sample (``/api/v1/coverage``): about 5 s of work.
    #: Larger areas are sampled coarser; every row states its ``h3_resolution``.
    COVERAGE_MAX_CELLS = 400_000
    #: Finished coverage answers kept per worker process (the planner page asks several times).
    COVERAGE_CACHE_SIZE = 6
    #: Widest picture ``/api/v1/maps/image.*`` draws: a 3000 px PNG takes about 2 s and 60 MB
    #: while drawing, and every distinct title is a new drawing (the command goes up to 6000).
    IMAGE_MAX_WIDTH = 3000

    # flask-smorest / OpenAPI
    API_TITLE = "stationmap"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui-dist/"
    #: Swagger UI would fetch a badge from validator.swagger.io: nothing may leave the intranet.
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}

    # Flask-Compress: riders are often on weak signal.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/javascript", "text/javascript",
                          "application/json", "application/geo+json", "application/problem+json",
                          "application/schema+json", "application/vnd.oai.openapi+json", "image/svg+xml"]
    COMPRESS_ALGORITHM = ["gzip"]
    COMPRESS_MIN_SIZE = 500
    #: Static files: cached by browsers for a day, revalidated by ETag after that.
    SEND_FILE_MAX_AGE_DEFAULT = 86400
    JSON_SORT_KEYS = False
