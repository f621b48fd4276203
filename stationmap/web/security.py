"""The headers a security review expects, on every response, from one after-request hook.

- **Content-Security-Policy**: pages load their own scripts and styles only, images from this
  site and the configured tile server (:func:`content_policy`, shared with the embeddable map);
  every other answer (JSON, pictures, files) gets ``default-src 'none'``. The framing part
  (``frame-ancestors``) is added by :mod:`stationmap.web.framing`, called from the same hook.
  The API docs page (Swagger UI, from flask-smorest) starts itself with one inline script: that
  script, and only it, is allowed by its SHA-256 hash.
- ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: strict-origin-when-cross-origin`` (the
  tile servers see our origin, never a rider's URL; OpenStreetMap's tile policy asks for a
  referrer, so ``no-referrer`` would break the map); ``Permissions-Policy``: geolocation for
  our own page only (not for a site framing the embed), no camera or microphone;
  ``Strict-Transport-Security`` only over HTTPS (``request.is_secure``: behind nginx that needs
  ``PROXY_COUNT``, see :mod:`stationmap.web.hosts`), never over plain HTTP where it means nothing
  and a test machine would remember it.
- **CORS** for the public read API: ``GET``/``HEAD`` (and their preflight) on ``/api/v1/…``
  and ``/ogc…`` routes that only read, plus ``POST /api/v1/stations/along-route`` — a read whose
  question (a route) is too big for a URL; it changes nothing and no credentials are ever
  allowed, so another site's script gains nothing it could not get from its own server. Origins
  come from ``CORS_ORIGINS`` (default ``*``). A route that accepts any other method (a write, an
  admin action) never gets CORS headers, so a browser refuses the cross-site call.
- **ETag + Cache-Control** on answers that do not change with the time of day (districts, meta,
  the OpenAPI document, the OGC landing page, conformance and collections): the tag is a digest of
  the body, and a matching ``If-None-Match`` gets a 304 without the body.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request

from ..errors import InputError
from ..maps import tiles
from . import framing

#: Seconds browsers and proxies may keep a stable answer before asking again (with its ETag).
STABLE_MAX_AGE = 300
#: Routes (URL rules) whose answer depends only on the data and the release, not on the clock.
STABLE_RULES = frozenset({"/api/v1/districts", "/api/v1/meta", "/api/v1/openapi.json", "/ogc", "/ogc/",
                          "/ogc/conformance", "/ogc/collections", "/ogc/collections/<collection_id>"})
#: URL prefixes of the public read API.
PUBLIC_PREFIXES = ("/api/v1/", "/ogc")
#: POST routes that only read (the question is a body): CORS allowed, see the module's text.
POST_READS = frozenset({"/api/v1/stations/along-route"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Pages that carry an inline script, allowed by its hash: a library's own template (the API
#: docs), and the worker page's first lines (remembered contrast, a shared link's answer asked
#: for before the stylesheets: one round trip less on a weak signal).
HASHED_SCRIPT_RULES = frozenset({"/api/v1/docs", "/"})
#: Request headers a cross-site script may send, and response headers it may read.
CORS_REQUEST_HEADERS = "Content-Type, If-None-Match, Accept-Language"
CORS_EXPOSED_HEADERS = "ETag, Retry-After, Content-Disposition"
CORS_MAX_AGE = 86400
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"
REFERRER_POLICY = "strict-origin-when-cross-origin"
NON_PAGE_POLICY = "default-src 'none'"

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def content_policy(tile_url: str | None, script_hashes: tuple[str, ...] = (), form_action: str = "'self'") -> str:
    """What a page may load: its own files, and images from the tile server only.

    Station names are untrusted; should one ever slip into markup, this stops it from running
    script or calling out. Leaflet positions everything with inline styles, hence 'unsafe-inline'
    for styles (not scripts).

    >>> content_policy("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}")  # doctest: +NORMALIZE_WHITESPACE
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';
     img-src 'self' data: https://*.is.autonavi.com; connect-src 'self'; base-uri 'none'; form-action 'self'"
    """
    images = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url)
        host = parts.hostname or ""
        if "{s}" in parts.netloc:
            host = "*." + host.split(".", 1)[1]
        images += f" {parts.scheme}://{host}"
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            f"connect-src 'self'; base-uri 'none'; form-action {form_action}")


def _script_hashes(body: bytes) -> tuple[str, ...]:
    return tuple(base64.b64encode(hashlib.sha256(m).digest()).decode() for m in _INLINE_SCRIPT.findall(body))


def _page_policy(response: Response) -> str:
    config = current_app.config
    layer = tiles.provider(config["TILES"], config["TIANDITU_KEY"])
    rule = request.url_rule.rule if request.url_rule else ""
    hashes = _script_hashes(response.get_data()) if rule in HASHED_SCRIPT_RULES and not response.is_streamed else ()
    return content_policy(layer["url"], hashes)


def check_cors_origins(value: Any) -> list[str]:
    """``CORS_ORIGINS`` as ``["*"]`` or a list of origins (checked like ``EMBED_ORIGINS``).

    >>> check_cors_origins("*"), check_cors_origins(["https://news.example.cn"])
    (['*'], ['https://news.example.cn'])
    """
    if value in ("*", ["*"], ("*",)):
        return ["*"]
    try:
        return framing.check_origins(value)
    except InputError as error:
        raise InputError(error.reason.replace("EMBED_ORIGINS", "CORS_ORIGINS") + ' (or "*")',
                         field="CORS_ORIGINS") from None


def cors_allowed() -> bool:
    """Whether this request is to the public read API with a method that only reads."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(PUBLIC_PREFIXES) or "/admin" in rule.rule:
        return False
    if request.method == "OPTIONS":
        # A preflight matches whichever rule of the path comes first (a read and a write may share
        # a path, e.g. GET and PATCH /api/v1/stations/<id>): judge the method it asks for.
        wanted = request.headers.get("Access-Control-Request-Method", "GET").upper()
        if wanted not in ("GET", "HEAD") and not (wanted == "POST" and rule.rule in POST_READS):
            return False
    if rule.rule in POST_READS:
        return True
    return bool(rule.methods) and set(rule.methods or ()) <= READ_METHODS


def _cors(response: Response) -> None:
    origin = request.headers.get("Origin")
    rule = request.url_rule
    if not origin or rule is None or not cors_allowed():
        return
    allowed = current_app.config["CORS_ORIGINS"]
    if allowed == ["*"]:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return
    if request.method == "OPTIONS":
        methods = sorted(set(rule.methods or ()) & {"GET", "HEAD", "POST"})
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
        response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    else:
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS


def _stable(response: Response) -> Response:
    """ETag (digest of the body) and Cache-Control on a stable answer; 304 when the client has it."""
    rule = request.url_rule.rule if request.url_rule else ""
    if rule not in STABLE_RULES or request.method not in ("GET", "HEAD") or response.status_code != 200 \
            or response.is_streamed:
        return response
    tag = hashlib.sha256(response.get_data()).hexdigest()[:24]
    response.headers["Cache-Control"] = f"public, max-age={STABLE_MAX_AGE}"
    response.vary.add("Accept-Encoding")
    sent = next((t for t in (tag, f"{tag}:gzip") if request.if_none_match.contains(t)), None)
    if sent is None:
        response.set_etag(tag)
        return response
    not_modified = Response(status=304)       # Flask-Compress leaves a 304 alone
    not_modified.set_etag(sent)
    for name in ("Cache-Control", "Vary"):
        not_modified.headers[name] = response.headers[name]
    return not_modified


def secure_headers(response: Response) -> Response:
    """The one after-request hook: caching, CORS, the security headers, then framing."""
    response = _stable(response)
    headers = response.headers
    # One look at what the view set, not one per header: ``Headers.set`` searches the whole list
    # each time, and the ten searches were 30 µs of every answer (issue 15).
    present = {name.lower() for name in headers.keys()}
    policy = headers.get("Content-Security-Policy") if "content-security-policy" in present else None
    if policy is None:                                       # a view's own policy is kept
        policy = _page_policy(response) if response.mimetype == "text/html" else NON_PAGE_POLICY
    ancestors, frame_options = framing.frame_rules(request.endpoint)
    wanted = [("Content-Security-Policy", f"{policy}; {ancestors}"), ("X-Content-Type-Options", "nosniff"),
              ("Referrer-Policy", REFERRER_POLICY), ("Permissions-Policy", PERMISSIONS_POLICY)]
    if frame_options is not None:
        wanted.append(("X-Frame-Options", frame_options))
    elif "x-frame-options" in present:
        del headers["X-Frame-Options"]
    max_age = current_app.config["HSTS_MAX_AGE"]
    if max_age and request.is_secure:
        wanted.append(("Strict-Transport-Security", f"max-age={max_age}"))
    for name, value in wanted:
        if name.lower() in present:
            headers.set(name, value)
        else:
            headers.add(name, value)
    _cors(response)
    return response


def init_app(app) -> None:
    """Check ``CORS_ORIGINS`` and ``HSTS_MAX_AGE`` at start and install the hook.

    Registered after Flask-Compress, so it runs before it (Flask runs these hooks last first):
    the ETag is the digest of the uncompressed body.
    """
    app.config["CORS_ORIGINS"] = check_cors_origins(app.config.get("CORS_ORIGINS", "*"))
    max_age = app.config.setdefault("HSTS_MAX_AGE", 31_536_000)
    if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0:
        raise InputError(f"must be a whole number of seconds ≥ 0, not {max_age!r}", field="HSTS_MAX_AGE")
    app.after_request(secure_headers)
