"""Limits on the size and shape of a request, checked before any view reads it.

Each refusal is a problem+json that names the limit, its setting and the value sent, so a
client's developer knows what to change:

- ``MAX_CONTENT_LENGTH`` (Flask's own setting; default 1 MiB) → **413**. The largest legitimate
  body is a route for ``POST /api/v1/stations/along-route``: 10,000 vertices written with 6
  decimals are about 250 KB, so 1 MiB leaves room for pretty-printed JSON while a 400 MB body
  is refused from its ``Content-Length`` before a byte of it is read (a chunked body, sent
  without a length, is read up to the limit by Werkzeug and then gets the same answer);
- ``MAX_JSON_DEPTH`` (default 32) → **400**. Python's ``json`` recurses once per ``[`` or ``{``,
  so ``[`` × 100,000 was a ``RecursionError`` and a 500; the deepest document we accept, a
  GeoJSON route inside a request, is 4 levels. The depth is measured without parsing (strings
  removed, brackets counted with numpy), so a 1 MiB body costs milliseconds;
- ``MAX_QUERY_STRING_LENGTH`` (default 4,096 bytes) → **414**. The longest legitimate query, a
  picture with a 100-character Chinese title, is under 1,500 bytes once percent-encoded;
  gunicorn's own request-line limit (8,190) stays above it so that the named refusal is the
  one clients see.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import InputError
from . import problems

#: Settings, defaults and the HTTP status of their refusal.
DEFAULTS = {"MAX_CONTENT_LENGTH": 1024 * 1024, "MAX_JSON_DEPTH": 32, "MAX_QUERY_STRING_LENGTH": 4096}
#: Endpoints that take a file, and the setting bounding the file instead of ``MAX_CONTENT_LENGTH``
#: (the multipart form around it may add :data:`FORM_SLACK` bytes).
LARGER_BODIES = {"admin_import.upload_file": "IMPORT_MAX_BYTES"}
FORM_SLACK = 64 * 1024

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings do not count).

    >>> json_depth(b'{"route": {"coordinates": [[121.4, 31.2]]}, "name": "[[[["}')
    4
    >>> json_depth(b"[" * 100_000)
    100000
    """
    if b"[" not in body and b"{" not in body:
        return 0
    bare = _STRING.sub(b'""', body)
    steps = _STEP[np.frombuffer(bare, dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def _limit(name: str) -> int:
    return current_app.config[name]


def body_limit() -> int:
    """The largest body this request may send: ``MAX_CONTENT_LENGTH``, or an upload's own setting."""
    setting = LARGER_BODIES.get(request.endpoint or "")
    if setting and setting in current_app.config:
        return int(current_app.config[setting]) + FORM_SLACK
    return _limit("MAX_CONTENT_LENGTH")


def too_large(error: RequestEntityTooLarge) -> Response:
    """413 naming ``MAX_CONTENT_LENGTH`` (from the header check below or from Werkzeug's reader)."""
    limit = _limit("MAX_CONTENT_LENGTH")
    sent = f"{request.content_length:,} bytes" if request.content_length else "more than that"
    return problems.problem(413, "Request body too large", None, [{
        "parameter": "body", "reason": f"the body is {sent}; the limit is {limit:,} bytes (MAX_CONTENT_LENGTH)"}])


def check_request() -> Response | None:
    """Refuse an over-long query string, an oversized body or too deeply nested JSON."""
    query = request.environ.get("QUERY_STRING", "")
    if len(query) > _limit("MAX_QUERY_STRING_LENGTH"):
        return problems.problem(414, "Query string too long", None, [{
            "parameter": "query", "reason": f"the query string is {len(query):,} bytes; the limit is "
                                            f"{_limit('MAX_QUERY_STRING_LENGTH'):,} (MAX_QUERY_STRING_LENGTH)"}])
    environ = request.environ
    if not environ.get("CONTENT_LENGTH") and not environ.get("CONTENT_TYPE") \
            and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None                           # no body announced, none read: a GET's usual case
    limit = body_limit()
    if limit != _limit("MAX_CONTENT_LENGTH"):
        request.max_content_length = limit        # Werkzeug's form parser reads up to it (Flask ≥ 3.1)
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    if request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        body = request.get_data(cache=True)                   # cached: the view parses the same bytes
        if request.content_length is None and len(body) >= _limit("MAX_CONTENT_LENGTH"):
            raise RequestEntityTooLarge()                     # a chunked body Werkzeug cut off at the limit
        depth = json_depth(body)
        if depth > _limit("MAX_JSON_DEPTH"):
            return problems.problem(400, "JSON nested too deeply", None, [{
                "parameter": "body", "reason": f"the JSON nests {depth:,} levels deep; the limit is "
                                               f"{_limit('MAX_JSON_DEPTH')} (MAX_JSON_DEPTH)"}])
    return None


def check_settings(config: Any) -> None:
    """Every limit a whole number ≥ 1, or an :class:`InputError` naming the setting (at start)."""
    for name, default in DEFAULTS.items():
        value = config.get(name)
        if value is None:
            config[name] = value = default
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"must be a whole number ≥ 1, not {value!r}", field=name)


def init_app(app) -> None:
    """Check the limits and install them (before any other ``before_request`` hook)."""
    check_settings(app.config)
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
    app.register_error_handler(RequestEntityTooLarge, too_large)
