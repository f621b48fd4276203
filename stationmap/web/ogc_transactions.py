"""OGC API – Features Part 4 (Create, Replace, Update, Delete) on ``/ogc/collections/stations/items``.

The same rules as the JSON write API (:mod:`stationmap.web.writes`): a bearer token checked by
:func:`stationmap.web.tokens.authorise`, ``If-Match`` with the feature's ETag (the station's
version) on replace, update and delete (412 stale, 428 missing), values checked by the station
rules (400 naming the property). Bodies are GeoJSON features in CRS84 (WGS-84 lon/lat):

- ``POST …/items`` (``application/geo+json``): create; 201 with ``Location`` and ``ETag``;
- ``PUT …/items/{id}`` (``application/geo+json``): replace whole; properties left out take their
  defaults, a ``null`` geometry means "needs a location";
- ``PATCH …/items/{id}`` (``application/merge-patch+json``): a merge patch of the feature:
  ``properties`` members change (``null`` clears one), a ``geometry`` member replaces the point;
- ``DELETE …/items/{id}``: a soft delete (history keeps it).

Successful replace, update and delete answer 204 with the new ETag. The derived properties a GET
returns (``gcj02_lon``, ``gcj02_lat``, ``version``) may be sent back and are ignored, so a GIS
client can write back the feature it read. ``reason`` (a property, or the query parameter of a
DELETE) goes into history.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request

from ..errors import InputError
from . import editing, ogc, problems, tokens
from .hosts import external_url

bp = Blueprint("ogc_transactions", __name__, url_prefix="/ogc")
bp.before_request(tokens.authorise)          # the one token check every write passes through
bp.before_request(editing.read_only)

CONFORMANCE = [f"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/{name}"
               for name in ("create-replace-delete", "update", "optimistic-locking-etags", "features")]
GEOJSON = ("application/geo+json", "application/json")
MERGE_PATCH = "application/merge-patch+json"
#: Properties a GET adds that are not station fields: accepted back, never written.
DERIVED = ("gcj02_lon", "gcj02_lat", "version")


@bp.before_request
def _media_type():
    return editing.require_media_type(*((MERGE_PATCH,) if request.method == "PATCH" else GEOJSON))


def _feature_body(*, patch: bool) -> dict[str, Any]:
    """The station body (as :func:`editing.edit_fields` takes it) of the request's feature."""
    feature = request.get_json(silent=True)
    if not isinstance(feature, dict):
        raise InputError("the body must be a GeoJSON Feature object", field="body")
    if not patch and feature.get("type") != "Feature":
        raise InputError("must be \"Feature\"", field="type")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise InputError("must be an object", field="properties")
    body = {k: v for k, v in properties.items() if k not in DERIVED}
    for name, value in body.items():
        if value is not None and name != "amenities" and not isinstance(value, str):
            raise InputError("must be text", field=f"properties.{name}")
    if "geometry" in feature or not patch:
        body.update(_position(feature.get("geometry")))
    return body


def _position(geometry: Any) -> dict[str, Any]:
    if geometry is None:
        return {"lon": None, "lat": None}
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if (not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(coordinates, list)
            or len(coordinates) not in (2, 3)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in coordinates)):
        raise InputError("must be a GeoJSON Point [lon, lat] in CRS84, or null (needs a location)", field="geometry")
    return {"lon": float(coordinates[0]), "lat": float(coordinates[1]), "coordsys": "wgs84"}


def _unknown(collection_id: str) -> Response | None:
    if collection_id != ogc.COLLECTION:
        return problems_404(collection_id)
    return None


def problems_404(collection_id: str) -> Response:
    """404: the only collection is ``stations``."""
    return problems.problem(404, "Not Found", f"no collection {collection_id!r}; there is {ogc.COLLECTION!r}")


@bp.post("/collections/<collection_id>/items")
@editing.translated
def create(collection_id: str):
    """Create: a GeoJSON feature becomes a new station (201, Location, ETag)."""
    from ..registers.rows import generated_id

    missing = _unknown(collection_id)
    if missing:
        return missing
    store = editing.store()
    assert store is not None
    feature = request.get_json(silent=True)
    body = _feature_body(patch=False)
    given = feature.get("id") if isinstance(feature, dict) else None
    station_id = str(given or generated_id(body.get("name") or "", body.get("address") or ""))
    version = store.create(station_id, editing.edit_fields(body, full=True), actor=tokens.actor("ogc"),
                           reason=str(body.get("reason") or ""))
    response = Response(status=201)
    response.headers["Location"] = external_url("ogc.item", collection_id=ogc.COLLECTION, feature_id=station_id)
    return editing.with_etag(response, version)


def _change(collection_id: str, feature_id: str, *, patch: bool | None) -> Response:
    missing = _unknown(collection_id)
    if missing:
        return missing
    store = editing.store()
    assert store is not None
    expected = editing.expected_version(int(store.get(feature_id)["version"]))
    if isinstance(expected, Response):
        return expected
    if patch is None:
        version = store.delete(feature_id, expected_version=expected, actor=tokens.actor("ogc"),
                               reason=request.args.get("reason", ""))
    else:
        body = _feature_body(patch=patch)
        version = store.update(feature_id, editing.edit_fields(body, full=not patch), expected_version=expected,
                               actor=tokens.actor("ogc"), reason=str(body.pop("reason", "") or ""))
    return editing.with_etag(Response(status=204), version)


@bp.put("/collections/<collection_id>/items/<feature_id>")
@editing.translated
def replace(collection_id: str, feature_id: str):
    """Replace a feature whole (204, new ETag)."""
    return _change(collection_id, feature_id, patch=False)


@bp.patch("/collections/<collection_id>/items/<feature_id>")
@editing.translated
def update(collection_id: str, feature_id: str):
    """Update a feature by a merge patch (204, new ETag)."""
    return _change(collection_id, feature_id, patch=True)


@bp.delete("/collections/<collection_id>/items/<feature_id>")
@editing.translated
def delete(collection_id: str, feature_id: str):
    """Delete a feature: a soft delete (204)."""
    return _change(collection_id, feature_id, patch=None)


def init_app(app: Flask) -> None:
    """Register the transactions and declare their conformance classes (with a store only)."""
    if app.extensions.get(editing.STORE) is not None:
        app.extensions[ogc.EXTRA_CONFORMANCE] = CONFORMANCE
    app.register_blueprint(bp)
