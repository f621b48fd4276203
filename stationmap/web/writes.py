"""JSON API v1, writes: create, replace, patch and delete a station, for authorised clients.

Every route passes :func:`stationmap.web.tokens.authorise` first (``Authorization: Bearer
TOKEN``; 401 otherwise) and changes the store only through its versioned edits: ``If-Match``
with the station's ETag (its version) is required on ``PUT``, ``PATCH`` and ``DELETE`` (412 when
stale, 428 when missing; see :mod:`stationmap.web.editing`). Values are checked by the same rules
as an import or ``stationmap station set``; a bad one is a 400 naming the field.

Why a change was made goes into history: the ``reason`` member of the body (``POST``, ``PUT``,
``PATCH``), or the ``reason`` query parameter of a ``DELETE`` (which has no body). The token's
account is who made it (``token:NAME/LABEL`` in history and the audit), with that person's rights:
an editor changes the stations of their districts only, a viewer nothing (403, nothing changed).

A committed change reaches every worker's answers within seconds (the store's watcher); the write
itself answers from the store, so its body and ETag are already the new version.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, Response, request

from .. import coords
from . import editing, tokens
from ._common import ApiBlueprint, json_response, openapi
from .hosts import external_url

bp = ApiBlueprint("writes", __name__, url_prefix="/api/v1",
                description="Changing the register: Bearer token and If-Match (the station's ETag) required.")
bp.before_request(tokens.authorise)          # first: nothing is read or parsed for an unknown client
bp.before_request(editing.read_only)

MERGE_PATCH = "application/merge-patch+json"
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "the station's ETag (its version, e.g. \"3\") from GET or from the last write"}


class _Text(ma.fields.String):
    def __init__(self, description: str = "", **kwargs: Any):
        super().__init__(allow_none=True, metadata={"description": description} if description else {}, **kwargs)


class StationBody(ma.Schema):
    """A station as a client writes it (all members optional in a merge patch; ``null`` clears)."""

    class Meta:
        unknown = ma.RAISE

    name = _Text("name as the union uses it")
    name_en = _Text()
    type = _Text("station type code (see /api/v1/meta)")
    access = _Text("access code")
    amenities = ma.fields.Raw(allow_none=True, metadata={
        "description": "amenity codes: a list, or one text separated by ';'",
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]})
    opening_hours = _Text("OSM opening_hours syntax")
    opening_hours_text = _Text("the hours as the union wrote them")
    operator = _Text()
    address = _Text()
    phone = _Text()
    adcode = _Text("district code (6 digits)")
    status = _Text("open, temporarily_closed or closed")
    last_verified = _Text("YYYY-MM-DD")
    source = _Text()
    closed_until = _Text("YYYY-MM-DD, for a temporarily closed station")
    lon = ma.fields.Float(allow_none=True, allow_nan=False, metadata={"description": "longitude in coordsys"})
    lat = ma.fields.Float(allow_none=True, allow_nan=False, metadata={"description": "latitude in coordsys"})
    coordsys = ma.fields.String(validate=ma.validate.OneOf(coords.COORDSYS), metadata={
        "description": "system of lon/lat: wgs84 (default), gcj02 (AMap), bd09 (Baidu); stored as WGS-84"})
    reason = ma.fields.String(metadata={"description": "why: kept in the station's history"})


class NewStationBody(StationBody):
    """A new station: as :class:`StationBody`, with its id."""

    id = ma.fields.String(metadata={"description": "the station's id (default: made from its name and address)"})


class WrittenStationSchema(ma.Schema):
    """A station as a write answers it."""

    id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    amenities = ma.fields.List(ma.fields.String())
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    needs_location = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "the station's version: its ETag"})
    register_version = ma.fields.Integer(metadata={"description": "the register version of this change"})


def _answer(station_id: str, status: int = 200) -> Response:
    store = editing.store()
    assert store is not None
    record = store.get(station_id)
    response = json_response(editing.public(record), status)
    return editing.with_etag(response, record["version"])


def _current_version(station_id: str) -> int:
    store = editing.store()
    assert store is not None
    return int(store.get(station_id)["version"])


def _documented(view):
    for status, text in ((401, "No valid bearer token (WWW-Authenticate says why)"),
                         (403, "The token's account may not change this station (its district), nothing changed"),
                         (400, "A value breaks the station rules (each field named)"),
                         (405, "This server is read-only (answers from a file)"),
                         (415, "The body is not of the documented media type")):
        view = bp.alt_response(status, description=text)(view)
    return bp.doc(security=SECURITY)(view)


@bp.route("/stations", methods=["POST"])
@bp.arguments(NewStationBody, location="json", as_kwargs=False)
@bp.response(201, WrittenStationSchema, description="Created; Location names it, ETag is its version")
@bp.alt_response(409, description="A live station has this id")
@_documented
@editing.translated
def create_station(body: dict[str, Any]):
    """Add a station."""
    from ..registers.rows import generated_id

    store = editing.store()
    assert store is not None
    station_id = str(body.get("id") or generated_id(body.get("name") or "", body.get("address") or ""))
    store.create(station_id, editing.edit_fields(body, full=True), actor=tokens.actor("api"),
                 reason=body.get("reason", ""))
    response = _answer(station_id, 201)
    response.headers["Location"] = external_url("api.one_station", station_id=station_id)
    return response


def _change(station_id: str, body: dict[str, Any], *, full: bool) -> Response:
    store = editing.store()
    assert store is not None
    expected = editing.expected_version(_current_version(station_id))
    if isinstance(expected, Response):
        return expected
    store.update(station_id, editing.edit_fields(body, full=full), expected_version=expected,
                 actor=tokens.actor("api"), reason=body.get("reason", ""))
    return _answer(station_id)


@bp.route("/stations/<station_id:station_id>", methods=["PUT"])
@bp.arguments(StationBody, location="json", as_kwargs=False)
@bp.response(200, WrittenStationSchema, description="Replaced; ETag is the new version")
@bp.alt_response(404, description="No station with that id")
@bp.alt_response(412, description="If-Match is not the station's version: it changed meanwhile")
@bp.alt_response(428, description="If-Match is missing")
@bp.doc(parameters=[IF_MATCH])
@_documented
@editing.translated
def replace_station(body: dict[str, Any], station_id: str):
    """Replace a station whole (fields left out take their defaults)."""
    return _change(station_id, body, full=True)


@bp.route("/stations/<station_id:station_id>", methods=["PATCH"])
@bp.arguments(StationBody, location="json", as_kwargs=False, content_type=MERGE_PATCH)
@bp.response(200, WrittenStationSchema, description="Changed; ETag is the new version")
@bp.alt_response(404, description="No station with that id")
@bp.alt_response(412, description="If-Match is not the station's version: it changed meanwhile")
@bp.alt_response(428, description="If-Match is missing")
@bp.doc(parameters=[IF_MATCH])
@_documented
@editing.translated
def patch_station(body: dict[str, Any], station_id: str):
    """Change some fields of a station (JSON merge patch, RFC 7396: null clears a field)."""
    return _change(station_id, body, full=False)


@bp.route("/stations/<station_id:station_id>", methods=["DELETE"])
@bp.response(204, description="Deleted (history keeps it); ETag is the deleting version")
@bp.alt_response(404, description="No station with that id")
@bp.alt_response(412, description="If-Match is not the station's version: it changed meanwhile")
@bp.alt_response(428, description="If-Match is missing")
@bp.doc(parameters=[IF_MATCH, {"in": "query", "name": "reason", "schema": {"type": "string"},
                               "description": "why: kept in the station's history"}])
@_documented
@editing.translated
def delete_station(station_id: str):
    """Remove a station (a soft delete: its history stays)."""
    store = editing.store()
    assert store is not None
    expected = editing.expected_version(_current_version(station_id))
    if isinstance(expected, Response):
        return expected
    version = store.delete(station_id, expected_version=expected, actor=tokens.actor("api"),
                           reason=request.args.get("reason", ""))
    return editing.with_etag(Response(status=204), version)


@bp.before_request
def _media_type():
    accepted = (MERGE_PATCH,) if request.method == "PATCH" else ("application/json",)
    return editing.require_media_type(*accepted)


def init_app(app: Flask) -> None:
    """Register the write routes and their bearer-token scheme on the API v1 document."""
    api = openapi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "a person's API token (`stationmap users token NAME`): their rights, no more"})
    api.register_blueprint(bp)
