"""Settings of the web app: defaults here, then the instance file, then environment variables.

Order of precedence (last wins): :class:`Defaults`; ``stationmap.cfg`` (Python syntax) in the
instance folder; environment variables prefixed ``STATIONMAP_`` (values parsed as JSON when they
can be, e.g. ``STATIONMAP_EMBED_ORIGINS='["https://news.example.cn"]'``); the mapping passed to
``create_app``.
"""

from __future__ import annotations


class Defaults:
    #: Stations file; ``None`` is the shipped Shanghai sample.
    STATIONS_PATH: str | None = None
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

    # Safe to expose (stationmap.web.hosts, .limits, .security): every value checked at start.
    #: Where readers reach this site, e.g. ``https://stations.example.cn``: every absolute URL
    #: (``next`` links, OGC links, the embed snippet) starts with it. ``None``: the request's
    #: host, which ``TRUSTED_HOSTS`` has vetted.
    PUBLIC_BASE_URL: str | None = None
    #: Host names this server answers to (others get a 400); ``None`` accepts any host (only with
    #: ``PUBLIC_BASE_URL``). The public base URL's host and ``serve --host``'s address are added.
    TRUSTED_HOSTS: list[str] | None = ["localhost", "127.0.0.1"]
    #: Proxies in front of the app whose ``X-Forwarded-*`` headers are believed (1 behind nginx).
    PROXY_COUNT = 0
    #: Largest request body in bytes (413 beyond): a 10,000-vertex route is about 250 KB.
    MAX_CONTENT_LENGTH = 1024 * 1024
    #: Deepest JSON nesting accepted (400 beyond): a GeoJSON route in a request is 4 levels.
    MAX_JSON_DEPTH = 32
    #: Longest query string in bytes (414 beyond); gunicorn's request line limit is 8,190.
    MAX_QUERY_STRING_LENGTH = 4096
    #: Sites whose scripts may call the read API (CORS): ``"*"`` or a list of origins.
    CORS_ORIGINS: str | list[str] = "*"
    #: ``Strict-Transport-Security`` max-age, sent only over HTTPS; 0 sends none.
    HSTS_MAX_AGE = 31_536_000

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
