"""JSON API v1: the changes feed, ``GET /api/v1/changes?since=VERSION`` (see
:mod:`stationmap.store.feed`), for systems that mirror the register without downloading it whole.

Public, like every read: the register is open data. A mirror keeps ``register_version`` from
the last page it read and asks ``since=`` that next time; ``next`` links page through one answer.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, request

from ..store.feed import changed_since
from . import editing, problems
from ._common import ApiBlueprint, json_response, openapi
from .hosts import external_url

bp = ApiBlueprint("changes", __name__, url_prefix="/api/v1", description="What changed in the register.")


class ChangesArgs(ma.Schema):
    """Query parameters of the feed."""

    class Meta:
        unknown = ma.EXCLUDE

    since = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 2**53), metadata={
        "description": "a register version (0: everything); the answer lists what changed after it"})
    after = ma.fields.String(load_default=None, validate=ma.validate.Regexp(
        r"^[0-9]{1,15}-[0-9]{1,15}$", error="a cursor from a `next` link (VERSION-ROW)"), metadata={
        "description": "paging cursor: set by the `next` link, not by hand"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000))


class ChangeSchema(ma.Schema):
    """One changed station."""

    action = ma.fields.String(metadata={"description": "created, updated or deleted"})
    id = ma.fields.String()
    version = ma.fields.Integer(metadata={"description": "the station's version now"})
    register_version = ma.fields.Integer(metadata={"description": "the register version of its last change"})
    station = ma.fields.Dict(allow_none=True, metadata={
        "description": "the station's record now (location as [lon, lat] WGS-84, or null: needs a location); "
                       "null when deleted"})


class ChangesSchema(ma.Schema):
    """A page of the feed."""

    since = ma.fields.Integer()
    register_version = ma.fields.Integer(metadata={"description": "the register version this page reflects: "
                                                                  "after the last page, ask since= it next time"})
    count = ma.fields.Integer()
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    next = ma.fields.String(allow_none=True)


@bp.route("/changes")
@bp.arguments(ChangesArgs, location="query", as_kwargs=False)
@bp.response(200, ChangesSchema)
@bp.alt_response(404, description="This server answers from a file, which has no history")
def changes(args: dict[str, Any]):
    """Stations created, updated or deleted since a register version, a page at a time."""
    store = editing.store()
    if store is None:
        return problems.problem(404, "Not Found", "this server answers from a stations file, which has no "
                                "changes feed; the store (STATIONMAP_DATABASE_URL) has one")
    after = tuple(int(part) for part in args["after"].split("-")) if args["after"] else None
    page = changed_since(store, args["since"], after=after, limit=args["limit"])  # type: ignore[arg-type]
    following = None
    if page.next_cursor is not None:
        query = request.args.to_dict() | {"after": f"{page.next_cursor[0]}-{page.next_cursor[1]}"}
        following = external_url("changes.changes", **query)
    return json_response({"since": args["since"], "register_version": page.register_version, "count": len(page.changes),
                  "changes": page.changes, "next": following})


def init_app(app: Flask) -> None:
    """Register the feed on the API v1 document."""
    openapi(app).register_blueprint(bp)
