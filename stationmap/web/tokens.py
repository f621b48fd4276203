"""Who may change the register through the web: one check, :func:`authorise`, that every write
route passes through (the JSON write API and OGC API – Features Part 4).

Clients send ``Authorization: Bearer TOKEN``. Tokens come from the ``API_TOKENS`` setting
(``STATIONMAP_API_TOKENS``): a JSON object naming each client, ``{"city-app": "TOKEN", …}``, or
a list of tokens. A value may be given as ``sha256:HEX`` (the SHA-256 of the token) so that the
configuration never holds the token itself. Only digests are kept in memory, and a presented
token's digest is compared with every known one in constant time (:func:`hmac.compare_digest`),
so neither the answer nor its timing tells how much of a guess was right.

The next issue replaces configured tokens with people's own; it only has to change this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, g, request

from . import problems

SETTING = "API_TOKENS"
_CACHE = "stationmap.tokens"
REALM = "stationmap"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def parse(setting: Any) -> dict[bytes, str]:
    """The configured tokens as ``{sha256 digest: client name}``.

    Accepts a mapping name → token, a list of tokens (named ``token-1``, …), or the same as JSON
    text or comma-separated text. ``sha256:HEX`` values are digests already.
    """
    if isinstance(setting, str):
        text = setting.strip()
        if not text:
            return {}
        try:
            setting = json.loads(text)
        except ValueError:
            setting = [t.strip() for t in text.split(",") if t.strip()]
    if isinstance(setting, Mapping):
        pairs = [(str(name), str(token)) for name, token in setting.items()]
    else:
        pairs = [(f"token-{i}", str(token)) for i, token in enumerate(setting or (), start=1)]
    known: dict[bytes, str] = {}
    for name, token in pairs:
        if token.startswith("sha256:"):
            known[bytes.fromhex(token.removeprefix("sha256:"))] = name
        elif token:
            known[_digest(token)] = name
    return known


def _known() -> dict[bytes, str]:
    cached = current_app.extensions.get(_CACHE)
    if cached is None:
        cached = current_app.extensions[_CACHE] = parse(current_app.config.get(SETTING) or ())
    return cached


def _unauthorised(detail: str, error: str | None) -> Response:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return problems.problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def authorise() -> Response | None:
    """Check the request's bearer token: ``None`` if it is a known client (its name is then
    ``g.api_client``), else the 401 problem to send. Registered as ``before_request`` on every
    blueprint that writes, so it runs before the body is even read.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorised("this request changes the register: send Authorization: Bearer TOKEN "
                             "(修改站点需要授权令牌)", None)
    presented = _digest(token.strip())
    client = None
    for digest, name in _known().items():          # no early exit: the same work whichever matches
        if hmac.compare_digest(presented, digest):
            client = name
    if client is None:
        return _unauthorised("the token is not valid (令牌无效)", "invalid_token")
    g.api_client = client
    return None


def who() -> str:
    """How a change made by this request's client is recorded in history."""
    return actor("api").who


def actor(source: str):
    """The account this request's client acts as (transitional: configured tokens act as admins)."""
    from ..accounts import Account

    return Account(id=-1, name=str(g.get("api_client", "unknown")), role="admin", token_label="config",
                   source=source, address=request.remote_addr or "")
