"""Who may show our pages inside their own (``<iframe>``): clickjacking protection.

Only the embeddable map may be framed, by the app itself and by the sites an operator lists in
``EMBED_ORIGINS`` (CSP ``frame-ancestors``). Every other response refuses framing, with
``X-Frame-Options: DENY`` as well for browsers that predate CSP. The embeddable map must not send
``X-Frame-Options``: its ``DENY``/``SAMEORIGIN`` would override the allowed list in old browsers
and cannot name other sites.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError

#: Endpoints other sites may frame.
FRAMEABLE = frozenset({"embed.embed_map"})

_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
                   r"|^\[[0-9A-Fa-f:.]+\]$")


def check_origins(value: Any) -> list[str]:
    """``EMBED_ORIGINS`` as a list of ``scheme://host[:port]`` origins, or an :class:`InputError`
    naming the bad entry (a path, a missing scheme or a quote would break the CSP header or
    silently allow nothing).

    A string is read as a list separated by commas or spaces.

    >>> check_origins(["https://news.example.cn", "http://127.0.0.1:8080/"])
    ['https://news.example.cn', 'http://127.0.0.1:8080']
    >>> check_origins("https://a.example.cn https://b.example.cn")
    ['https://a.example.cn', 'https://b.example.cn']
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,]+", value) if v]
    if not isinstance(value, (list, tuple)):
        raise InputError(f"must be a list of origins like [\"https://news.example.cn\"], not {value!r}",
                         field="EMBED_ORIGINS")
    return [_check_origin(v) for v in value]


def _check_origin(entry: Any) -> str:
    def bad(why: str) -> InputError:
        return InputError(f"{entry!r} is not an origin (scheme://host[:port]): {why}", field="EMBED_ORIGINS")

    if not isinstance(entry, str):
        raise bad("not text")
    try:
        parts = urlsplit(entry.strip())
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme not in ("http", "https"):
        raise bad("the scheme must be http or https")
    if parts.username or parts.password:
        raise bad("no user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise bad("no path, query or fragment")
    host = parts.hostname or ""
    if not _HOST.match(host if not host.count(":") else f"[{host}]"):
        raise bad("the host name is invalid")
    if port == 0:
        raise bad("port 0 is not a port")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def frame_rules(endpoint: str | None) -> tuple[str, str | None]:
    """The ``frame-ancestors`` directive for this endpoint, and its ``X-Frame-Options`` (``None``:
    the header must not be sent).

    Used last by :func:`stationmap.web.security.secure_headers`, the one after-request hook,
    which appends the directive to the page's own policy.

    >>> frame_rules("api.nearest")
    ("frame-ancestors 'none'", 'DENY')
    """
    if endpoint in FRAMEABLE:
        from flask import current_app

        return "frame-ancestors " + " ".join(["'self'", *current_app.config["EMBED_ORIGINS"]]), None
    return "frame-ancestors 'none'", "DENY"

