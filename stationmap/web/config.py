"""Settings of the web app: defaults here, then the instance file, then environment variables.

Order of precedence (last wins): :class:`Defaults`; ``stationmap.cfg`` (Python syntax) in the
instance folder; environment variables prefixed ``STATIONMAP_`` (values parsed as JSON when they
can be, e.g. ``STATIONMAP_EMBED_ORIGINS='["https://news.example.cn"]'``); the mapping passed to
``create_app``. :func:`check` validates every setting when the app is created.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from .. import vocab
from ..errors import DataFileError, InputError
from ..maps import tiles


class Defaults:
    """Every setting and its default; an operator overrides them in stationmap.cfg or STATIONMAP_* variables."""

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

    # The heavy-work pool (stationmap.jobs) that `stationmap serve` starts: coverage reports,
    # recommendations and pictures run there, never in the request workers.
    #: Worker processes of the pool (heavy jobs running at once, on the whole server).
    HEAVY_PROCESSES = 2
    #: Jobs that may wait for a pool worker; beyond that the answer is 503 with Retry-After.
    HEAVY_QUEUE = 4
    #: Jobs a pool worker runs before it is replaced, so its memory goes back to the system.
    HEAVY_RECYCLE_AFTER = 20
    #: Time limit of one heavy job (and a request's wait for it), below gunicorn's 60 s.
    HEAVY_TIMEOUT_S = 45
    #: Time limit of a planner page's question run as a job (``/api/v1/coverage/jobs``): the page
    #: shows its progress and can cancel it, so no request waits that long.
    COVERAGE_JOB_TIMEOUT_S = 300
    #: Finished answers the pool keeps for every request worker: at most this many, and bytes.
    HEAVY_KEEP = 32
    HEAVY_KEEP_BYTES = 64 * 2**20

    # Per-client rate limits (Flask-Limiter; stationmap.web.ratelimits), "N per second|minute|hour".
    #: Shared counters for several workers or app servers, e.g. ``redis://localhost:6379/0``;
    #: empty: in memory, per worker process.
    RATELIMIT_STORAGE_URL = ""
    #: ``None``: on, except in an app built with ``TESTING`` (the suite's own test clients).
    RATELIMIT_ENABLED: bool | None = None
    #: Coverage questions (the planner page asks a few per question: table, gaps, downloads).
    RATELIMIT_COVERAGE = "30 per minute"
    RATELIMIT_PICTURES = "30 per minute"
    RATELIMIT_ALONG_ROUTE = "60 per minute"
    #: Workers' reports (``POST /api/v1/stations/{id}/reports``), per client address.
    RATELIMIT_REPORTS = "10 per hour"

    # Workers' reports (stationmap.station_reports): what a station's card says, and its rank.
    #: Closure reports count for this many hours ("近 24 小时 3 人报告关闭").
    REPORTS_CLOSED_HOURS = 24
    #: Unresolved closure reports (distinct clients) that make the card say so and rank the
    #: station after stations about as near; fewer are not shown (one could be a prank).
    REPORTS_CLOSED_MIN = 2
    #: "N 人确认开放" counts confirmations of this many days.
    REPORTS_CONFIRM_DAYS = 30
    #: A flagged station goes after unflagged ones at most this many metres farther (0: exact ties).
    REPORTS_TIE_M = 100
    #: Seconds between a worker process's readings of the recent reports' tallies.
    REPORTS_REFRESH_S = 5.0

    # The admin pages (stationmap.web.signin, .admin): sign-in, sessions, CSRF.
    #: Signs session cookies and CSRF tokens: a long random text (``python -c "import secrets;
    #: print(secrets.token_urlsafe(32))"``), the same in every worker and app server. Without it
    #: ``stationmap serve`` keeps the admin pages off (503); ``--dev`` and tests use a random
    #: one per process. At least 32 characters.
    SECRET_KEY: str | None = None
    #: Session cookies only over HTTPS (``Secure``): set it whenever the site is served over HTTPS.
    SECURE_COOKIES = False
    #: Minutes without a request after which a signed-in session ends.
    ADMIN_IDLE_MINUTES = 30
    #: Failed sign-ins allowed per account name and per client address (Flask-Limiter syntax;
    #: the shorter window slows guessing, the longer one locks for the rest of it). Beyond them
    #: a sign-in is refused (429) without the password being checked.
    RATELIMIT_SIGNIN_ACCOUNT = "5 per minute;20 per hour"
    RATELIMIT_SIGNIN_CLIENT = "10 per minute;60 per hour"

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


#: Whole-number settings and the range each must fall in (the picture API draws 300–6000 px).
_WHOLE_NUMBERS = {"COVERAGE_MAX_CELLS": (1, None), "COVERAGE_CACHE_SIZE": (1, None), "IMAGE_MAX_WIDTH": (300, 6000),
                  "REPORTS_CLOSED_HOURS": (1, 24 * 30), "REPORTS_CLOSED_MIN": (1, None),
                  "REPORTS_CONFIRM_DAYS": (1, 3650), "REPORTS_TIE_M": (0, 100_000),
                  "ADMIN_IDLE_MINUTES": (1, 24 * 60)}


def _whole_number(name: str, value: Any) -> int:
    low, high = _WHOLE_NUMBERS[name]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"must be a whole number, not {value!r}", field=name)
    if value < low or (high is not None and value > high):
        raise InputError(f"must be between {low} and {high}, not {value}" if high else f"must be ≥ {low}, not {value}",
                         field=name)
    return value


def _one_of(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise InputError(f"unknown value {value!r}; use one of {', '.join(choices)}", field=name)
    return str(value)


def _adcode(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d{6}", text):
        raise InputError(f"must be a 6-digit administrative code such as \"310100\", not {value!r}",
                         field="DISTRICTS_ADCODE")
    return text


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"must be text, not {value!r}", field=name)
    return value


def _stations_path(value: Any) -> Any:
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise InputError(f"must be a file path, not {value!r}", field="STATIONS_PATH")
    return value or None


def _database_url(value: Any) -> str | None:
    if not value:
        return None
    import sqlalchemy as sa

    try:
        backend = sa.make_url(str(value)).get_backend_name()
    except sa.exc.ArgumentError:
        backend = ""
    if backend not in ("sqlite", "postgresql"):
        raise InputError("must be sqlite:///FILE.gpkg or postgresql://USER@HOST/DB", field="DATABASE_URL")
    return str(value)


def _seconds(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if not 0.05 <= number <= 60:
        raise InputError(f"must be a number of seconds between 0.05 and 60, not {value!r}", field=name)
    return number


def _secret_key(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):       # all digits, parsed as JSON
        value = str(value)
    if not isinstance(value, str) or len(value) < 32:
        raise InputError("must be a random text of at least 32 characters, e.g. from "
                         "python -c \"import secrets; print(secrets.token_urlsafe(32))\"", field="SECRET_KEY")
    return value


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InputError(f"must be true or false, not {value!r}", field=name)


def _rate_limit(name: str, value: Any) -> str:
    from limits import parse_many

    try:
        if not isinstance(value, str) or not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise InputError(f"must be limits such as \"5 per minute;20 per hour\", not {value!r}", field=name) from None
    return value


#: Settings that no longer exist, and what replaced them: set, they stop the app rather than be ignored.
RETIRED = {
    "API_TOKENS": "is retired: API tokens belong to people's accounts now and act with their rights; make one "
                  "with `stationmap users token NAME` and remove this setting (API_TOKENS 已停用，"
                  "请用 stationmap users token 为账户生成令牌)",
}


def check(config: MutableMapping[str, Any]) -> None:
    """Check every stationmap setting in ``config`` and normalise it in place (adcode as text,
    numbers as int, origins as ``scheme://host[:port]``), or stop the app.

    A wrong setting found at start is one clear line for the operator; found at the first
    request it is a 500 for a reader, or (as an unknown ``TILES`` once did) silently another
    base map. Raises :class:`~stationmap.errors.InputError` naming the setting, or, when
    several are wrong, :class:`~stationmap.errors.DataFileError` listing each.

    Examples
    --------
    >>> settings = {name: getattr(Defaults, name) for name in dir(Defaults) if name.isupper()}
    >>> check({**settings, "DISTRICTS_ADCODE": 310100, "COVERAGE_CACHE_SIZE": "4"})
    >>> check({**settings, "TILES": "google"})
    Traceback (most recent call last):
    ...
    stationmap.errors.InputError: field 'TILES': unknown value 'google'; use one of osm, amap, tianditu, none
    """
    from .framing import check_origins

    checks: dict[str, Callable[[Any], Any]] = {
        "STATIONS_PATH": _stations_path,
        "DATABASE_URL": _database_url,
        "WATCH_INTERVAL": lambda v: _seconds("WATCH_INTERVAL", v),
        "REPORTS_REFRESH_S": lambda v: _seconds("REPORTS_REFRESH_S", v),
        "DISTRICTS_ADCODE": _adcode,
        "DEFAULT_LANG": lambda v: _one_of("DEFAULT_LANG", v, vocab.LANGUAGES),
        "TILES": lambda v: _one_of("TILES", v, tiles.PROVIDERS),
        # No key with TILES = "tianditu" is allowed: the pages fall back to district outlines
        # (Tianditu refuses keyless requests), which the tests and the README promise.
        "TIANDITU_KEY": lambda v: _text("TIANDITU_KEY", v),
        "EMBED_ORIGINS": check_origins,
        "SECRET_KEY": _secret_key,
        "SECURE_COOKIES": lambda v: _flag("SECURE_COOKIES", v),
        **{name: functools.partial(_rate_limit, name)
           for name in ("RATELIMIT_SIGNIN_ACCOUNT", "RATELIMIT_SIGNIN_CLIENT")},
        **{name: functools.partial(_whole_number, name) for name in _WHOLE_NUMBERS},
    }
    problems: list[InputError] = []
    for name, checker in checks.items():
        try:
            config[name] = checker(config.get(name, getattr(Defaults, name)))
        except InputError as exc:
            problems.append(exc)
    problems += [InputError(why, field=name) for name, why in RETIRED.items() if config.get(name)]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise DataFileError("settings (stationmap.cfg, STATIONMAP_* variables, create_app)", problems)
