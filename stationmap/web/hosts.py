"""Which host names this server answers to, and the absolute URLs it writes.

A ``Host`` header is whatever the client typed. Copied into an absolute URL (the ``next`` link of
a list, the OGC links, the snippet an editor pastes into an article) it lets anyone who can put a
request in front of a cache or an editor make our answers point at their own site. So:

- ``PUBLIC_BASE_URL`` (e.g. ``https://stations.example.cn`` or ``https://example.cn/stationmap``):
  when set, every absolute URL starts with it, whatever the request said;
- ``TRUSTED_HOSTS`` (Flask ≥ 3.1): a request whose ``Host`` is not in the list is refused with a
  400 before any view runs. The default trusts only this machine (``localhost``, ``127.0.0.1``);
  ``stationmap serve --host ADDRESS`` adds the address it listens on, and ``PUBLIC_BASE_URL``'s
  host is always added. ``null`` (``STATIONMAP_TRUSTED_HOSTS=null``) accepts any host: only
  sensible with ``PUBLIC_BASE_URL`` set, so that no URL is built from the header;
- ``PROXY_COUNT``: how many proxies (nginx) stand in front of the app. When it is 1 or more the
  app believes that many ``X-Forwarded-For``/``-Proto``/``-Prefix`` hops (werkzeug's
  ``ProxyFix``), so ``request.is_secure`` is true behind TLS-terminating nginx and HSTS is sent;
  0 (the default) believes none of them, since anyone can send those headers to a bare server.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request, url_for
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from ..errors import InputError
from . import problems

#: Hosts trusted when nothing is configured: this machine only.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
#: Addresses that mean "every interface": they name no host a client would send.
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def check_base_url(value: Any) -> str | None:
    """``PUBLIC_BASE_URL`` without its trailing slash, or an :class:`InputError` naming what is wrong.

    >>> check_base_url("https://stations.example.cn/")
    'https://stations.example.cn'
    >>> check_base_url("https://example.cn/stationmap")
    'https://example.cn/stationmap'
    >>> check_base_url("stations.example.cn")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    stationmap.errors.InputError: field 'PUBLIC_BASE_URL': 'stations.example.cn' must be
    http(s)://host[:port][/path], with no query or fragment
    """
    if value in (None, ""):
        return None
    parts = urlsplit(str(value)) if isinstance(value, str) else None
    try:
        valid = (parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
                 and not parts.query and not parts.fragment and not parts.username and parts.port != 0)
    except ValueError:
        valid = False
    if not valid:
        raise InputError(f"{value!r} must be http(s)://host[:port][/path], with no query or fragment",
                         field="PUBLIC_BASE_URL")
    return str(value).rstrip("/")


def check_trusted_hosts(value: Any, base_url: str | None) -> list[str] | None:
    """``TRUSTED_HOSTS`` as a list of host names (a string is split on commas and spaces), with
    the public base URL's host added; ``None`` trusts every host.

    >>> check_trusted_hosts("stations.example.cn, .example.org", "https://www.example.cn")
    ['stations.example.cn', '.example.org', 'www.example.cn']
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v and "/" not in v for v in value):
        raise InputError(f"must be a list of host names like [\"stations.example.cn\"], not {value!r}",
                         field="TRUSTED_HOSTS")
    hosts = list(value)
    if base_url:
        host = urlsplit(base_url).hostname or ""
        if host not in hosts:
            hosts.append(host)
    return hosts


def trust_address(app, address: str) -> None:
    """Trust the address ``stationmap serve --host`` listens on, unless it is a wildcard."""
    hosts = app.config.get("TRUSTED_HOSTS")
    if hosts is not None and address not in WILDCARDS and address not in hosts:
        hosts.append(address)


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint``: from ``PUBLIC_BASE_URL`` when set, else from the request's
    host (which :data:`TRUSTED_HOSTS` has already vetted).
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    path = url_for(endpoint, **values)
    root = request.script_root if request else ""
    if root and path.startswith(root):
        path = path[len(root):]
    return base + path


def untrusted_host(error: SecurityError) -> Response:
    """400 problem+json for a ``Host`` this server does not answer to."""
    return problems.problem(400, "Unknown host", None, [{
        "parameter": "Host",
        "reason": "this server does not answer to that host name (TRUSTED_HOSTS); "
                  "an operator sets STATIONMAP_TRUSTED_HOSTS or STATIONMAP_PUBLIC_BASE_URL"}])


def init_app(app) -> None:
    """Check the settings (a bad one stops the server at start) and install the proxy handling."""
    base = check_base_url(app.config.get("PUBLIC_BASE_URL"))
    app.config["PUBLIC_BASE_URL"] = base
    app.config["TRUSTED_HOSTS"] = check_trusted_hosts(app.config.get("TRUSTED_HOSTS"), base)
    count = app.config.get("PROXY_COUNT", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 5:
        raise InputError(f"must be a whole number of proxies from 0 to 5, not {count!r}", field="PROXY_COUNT")
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_prefix=count)
    app.register_error_handler(SecurityError, untrusted_host)
