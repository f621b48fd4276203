"""What the two write APIs share (the JSON API's ``/api/v1/stations`` and OGC API – Features
Part 4 on ``/ogc``): the store, optimistic locking with ``If-Match``, the edit a body asks for, and
the errors of a write as problems.

Optimistic locking: a station's ETag is its version (``"7"``). A change must send ``If-Match``
with it; the store then refuses the change unless the station is still at that version, inside
the write's own transaction, so of two clients editing from the same version exactly one wins and
the other gets 412 — never a lost update. No ``If-Match`` (or ``If-Match: *``) is a 428: a client
must say which version it changes. A compressed answer's ``"7:gzip"`` ETag is accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Response, current_app, request

from ..errors import InputError
from ..permissions import Forbidden
from ..store import Conflict, NotFound, Store
from ..store.schema import TEXT_COLUMNS
from . import problems

#: Key of the app's :class:`~stationmap.store.Store` in ``app.extensions`` (absent in file mode).
STORE = "stationmap.store"

#: Station fields a body may carry, besides ``lon``/``lat``/``coordsys`` and ``reason``.
FIELDS: tuple[str, ...] = (*TEXT_COLUMNS, "closed_until")
READ_ONLY_DETAIL = ("this server answers from a stations file (read-only): changes go to the store "
                    "(STATIONMAP_DATABASE_URL) (本服务只读，修改请使用站点数据库)")


def store() -> Store | None:
    """The app's store, or ``None`` in read-only (file) mode."""
    return current_app.extensions.get(STORE)


def etag(version: int) -> str:
    """A station version as its ETag value."""
    return str(int(version))


def with_etag(response: Response, version: int) -> Response:
    """``response`` with the ETag of ``version``."""
    response.set_etag(etag(version))
    return response


def read_only() -> Response | None:
    """``before_request`` for write blueprints: refuse writes on a server without a store."""
    if store() is None:
        return problems.problem(405, "Method Not Allowed", READ_ONLY_DETAIL, headers={"Allow": "GET, HEAD"})
    return None


def require_media_type(*accepted: str) -> Response | None:
    """A 415 unless the body is one of ``accepted`` (a body-less request passes)."""
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype not in accepted:
        return problems.problem(415, "Unsupported Media Type", f"send the body as {' or '.join(accepted)}")
    return None


def expected_version(current: int) -> int | Response:
    """The version ``If-Match`` names if it is ``current``; else the 428 or 412 to send."""
    if not request.headers.get("If-Match", "").strip() or request.if_match.star_tag:
        return problems.problem(428, "Precondition Required",
                                "send If-Match with the station's ETag (its version, from GET) so that a change "
                                "made meanwhile is never overwritten (请在 If-Match 中给出站点版本)")
    named = {tag.removesuffix(":gzip") for tag in request.if_match.as_set()}
    if etag(current) not in named:
        return stale(current)
    return current


def stale(current: int | None) -> Response:
    """412: the station is no longer at the version the client had."""
    response = problems.problem(412, "Precondition Failed",
                                f"the station is at version {current}, not the one in If-Match: it was changed "
                                "meanwhile; GET it again and reapply your change (站点已被他人修改，请重新获取后再改)")
    if current is not None:
        response.set_etag(etag(current))
    return response


def translated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the store's refusals into problems: a stale version 412, an unknown id 404, a change
    the account may not make 403 (in Chinese and English; the store changed nothing and audited it).
    """
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Conflict as conflict:
            if conflict.expected is None:         # created with an id already in use
                return problems.problem(409, "Conflict", f"station {conflict.station_id!r} exists already "
                                        f"(version {conflict.actual}); change it with PUT or PATCH")
            return stale(conflict.actual)
        except NotFound as missing:
            return problems.problem(404, "Not Found", str(missing))
        except Forbidden as refusal:
            return forbidden(refusal)
    return wrapper


def forbidden(refusal: Forbidden) -> Response:
    """403 problem+json for a refusal: ``detail`` in both languages, ``detail_zh``/``detail_en`` apart."""
    body = {"type": "about:blank", "title": "Forbidden", "status": 403,
            "detail": f"{refusal.message_zh} / {refusal.message_en}", "action": refusal.action,
            "detail_zh": refusal.message_zh, "detail_en": refusal.message_en}
    return Response(json.dumps(body, ensure_ascii=False), status=403, mimetype=problems.MIMETYPE)


def _amenities(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    raise InputError("give a list of amenity codes, or one text with codes separated by ';'", field="amenities")


def edit_fields(body: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    """The store edit for a body's station fields.

    ``full`` (create, replace): every field not given takes its default and a body without
    ``lon``/``lat`` leaves the station needing a location. Otherwise (merge patch, RFC 7396):
    only the members given change, and ``null`` clears one.
    """
    fields: dict[str, Any] = dict.fromkeys(FIELDS, "") if full else {}
    for name, value in body.items():
        if name in ("reason", "id", "lon", "lat", "coordsys"):
            continue
        if name == "amenities" and value is not None:
            value = _amenities(value)
        fields[name] = "" if value is None else value
    located = any(body.get(k) is not None for k in ("lon", "lat"))
    if full and not located:
        fields["location"] = None
    elif "lon" in body or "lat" in body:
        for axis in ("lon", "lat"):
            if axis in body:
                fields[axis] = "" if body[axis] is None else repr(float(body[axis]))
        if body.get("coordsys"):
            fields["coordsys"] = body["coordsys"]
    return fields


def public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored station as the write APIs answer it (its editable fields, version, position)."""
    location = record.get("location")
    out: dict[str, Any] = {"id": record["id"]}
    out.update({name: record.get(name) or None for name in FIELDS})
    out["amenities"] = [a for a in (record.get("amenities") or "").split(";") if a]
    out.update(lon=location[0] if location else None, lat=location[1] if location else None,
               needs_location=location is None, version=int(record["version"]),
               register_version=int(record["changed_in"]))
    return out
