"""OGC API – Features, Part 1 (Core, GeoJSON): the register for GIS tools (QGIS, GDAL, OWSLib).

One collection, ``stations``, with every station, closed ones included (with their
``status``): analysts want the whole register, not only where a worker can go now. Features
are flat (GIS tables have columns, not nested objects) and in CRS84 (WGS-84 lon/lat); the
GCJ-02 position is given as two extra properties for AMap users.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
from flask import Blueprint, Flask, Response, current_app, request

from .. import vocab
from ..dataset import Dataset
from ..errors import InputError
from ..index import Filters
from . import problems
from ._common import current_dataset, json_response
from .hosts import external_url

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
               "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"]
COLLECTION = "stations"
EXTRA_CONFORMANCE = "stationmap.ogc.conformance"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
#: Queryable properties: equality filters on a column of the register.
QUERYABLES = {"type": vocab.STATION_TYPES, "access": vocab.ACCESS, "status": vocab.STATUSES, "adcode": None}
PROPERTIES = ("name", "name_en", "type", "access", "amenities", "opening_hours", "operator", "address",
              "phone", "adcode", "status", "last_verified", "source")
GEOJSON = "application/geo+json"


def _link(endpoint: str, rel: str, mimetype: str, title: str | None = None, **values) -> dict[str, str]:
    link = {"href": external_url(endpoint, **values), "rel": rel, "type": mimetype}
    if title:
        link["title"] = title
    return link


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """The OGC API landing page: links to the API definition, conformance and collections."""
    return json_response({
        "title": "stationmap",
        "description": "Union rest stations for outdoor workers in China (OGC API - Features)",
        "links": [_link("ogc.landing", "self", "application/json", "This document"),
                  _link("ogc.conformance", "conformance", "application/json", "Conformance classes"),
                  _link("ogc.collections", "data", "application/json", "Collections")],
    })


@bp.get("/conformance")
def conformance() -> Response:
    """The OGC API conformance classes this service implements (Part 4 too when it can write)."""
    extra = current_app.extensions.get(EXTRA_CONFORMANCE, [])
    return json_response({"conformsTo": CONFORMANCE + extra})


def _collection_document(data: Dataset) -> dict[str, Any]:
    index = data.index
    bbox = [float(index.lon.min()), float(index.lat.min()), float(index.lon.max()), float(index.lat.max())] \
        if len(index) else [-180.0, -90.0, 180.0, 90.0]
    return {
        "id": COLLECTION,
        "title": "Union service stations",
        "description": ("户外劳动者服务站点、司机之家、职工之家 … "
                        "with type, access, amenities, opening hours and status"),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [_link("ogc.collection", "self", "application/json", collection_id=COLLECTION),
                  _link("ogc.items", "items", GEOJSON, "Stations", collection_id=COLLECTION)],
    }


@bp.get("/collections")
def collections() -> Response:
    """The one collection (stations), with its extent and links."""
    return json_response({"links": [_link("ogc.collections", "self", "application/json")],
                  "collections": [_collection_document(current_dataset())]})


def _unknown_collection(collection_id: str) -> Response | None:
    if collection_id != COLLECTION:
        return problems.problem(404, "Not Found", f"no collection {collection_id!r}; there is {COLLECTION!r}")
    return None


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """The stations collection's document, or a 404 for any other id."""
    return _unknown_collection(collection_id) or json_response(_collection_document(current_dataset()))


def _feature(data: Dataset, p: int) -> dict[str, Any]:
    index = data.index
    col = index.columns
    properties = {name: (col[name][p] or None) for name in PROPERTIES}
    properties["gcj02_lon"] = round(col["gcj02_lon"][p], 7)
    properties["gcj02_lat"] = round(col["gcj02_lat"][p], 7)
    properties["version"] = int(col["version"][p]) if "version" in col else None    # the item's ETag
    return {"type": "Feature", "id": col["id"][p],
            "geometry": {"type": "Point", "coordinates": [round(index._lon_list[p], 7), round(index._lat_list[p], 7)]},
            "properties": properties}


def _parse_bbox(raw: str) -> list[float]:
    def bad(reason: str) -> InputError:
        return InputError(reason, field="bbox")

    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise bad("must be 4 numbers (or 6 with heights): minlon,minlat,maxlon,maxlat")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise bad("must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise bad("numbers must be finite")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    west, south, east, north = values
    if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
        raise bad("needs -90 ≤ minlat ≤ maxlat ≤ 90 and longitudes within ±180")
    return values


def _parse_int(name: str, default: int, minimum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{raw!r} is not a whole number", field=name) from None
    if value < minimum:
        raise InputError(f"must be ≥ {minimum}", field=name)
    return value


def _matching(data: Dataset, args) -> np.ndarray:
    index = data.index
    amenities = [a for a in args.get("amenity", "").split(",") if a]
    filters = Filters.build(amenities=amenities, include_closed=True)   # raises InputError(field="amenity")
    if "bbox" in args:
        west, south, east, north = _parse_bbox(args["bbox"])
        if west <= east:
            boxes = [(west, south, east, north)]
        else:                                     # across the antimeridian: the two halves
            boxes = [(west, south, 180, north), (-180, south, east, north)]
        positions = np.unique(np.concatenate([index.within_bbox(*b, filters=filters) for b in boxes]))
    else:
        positions = np.arange(len(index))
        positions = positions[index.admitted(positions, filters)]
    for name, vocabulary in QUERYABLES.items():
        value = args.get(name)
        if value is None:
            continue
        if vocabulary is not None and value not in vocabulary:
            raise InputError(f"unknown value {value!r}; use one of {', '.join(vocabulary)}", field=name)
        column = index.column(name)
        positions = positions[column[positions] == value]
    return positions


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """Stations as GeoJSON features, filtered by bbox and paged by limit/offset."""
    missing = _unknown_collection(collection_id)
    if missing:
        return missing
    data = current_dataset()
    args = request.args
    if args.get("bbox-crs", CRS84) != CRS84:
        raise InputError(f"only {CRS84} is supported", field="bbox-crs")
    limit = min(_parse_int("limit", DEFAULT_LIMIT, 1), MAX_LIMIT)     # the standard: clamp, not refuse
    offset = _parse_int("offset", 0, 0)
    positions = _matching(data, args)
    page = positions[offset:offset + limit]
    query = {k: v for k, v in args.items() if k not in ("offset", "limit")}
    links = [_link("ogc.items", "self", GEOJSON, collection_id=COLLECTION, offset=offset, limit=limit, **query),
             _link("ogc.collection", "collection", "application/json", collection_id=COLLECTION)]
    if offset + limit < len(positions):
        links.append(_link("ogc.items", "next", GEOJSON, "Next page", collection_id=COLLECTION,
                           offset=offset + limit, limit=limit, **query))
    if offset > 0:
        links.append(_link("ogc.items", "prev", GEOJSON, "Previous page", collection_id=COLLECTION,
                           offset=max(0, offset - limit), limit=limit, **query))
    return json_response({
        "type": "FeatureCollection",
        "features": [_feature(data, int(p)) for p in page],
        "numberMatched": int(len(positions)),
        "numberReturned": int(len(page)),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }, mimetype=GEOJSON)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """One station as a GeoJSON feature, or a 404."""
    missing = _unknown_collection(collection_id)
    if missing:
        return missing
    data = current_dataset()
    position = data.index.position(feature_id)
    if position is None:
        return problems.problem(404, "Not Found", f"no station with id {feature_id!r}")
    feature = _feature(data, position)
    feature["links"] = [
        _link("ogc.item", "self", GEOJSON, collection_id=COLLECTION, feature_id=feature_id),
        _link("ogc.collection", "collection", "application/json", collection_id=COLLECTION)]
    response = json_response(feature, mimetype=GEOJSON)
    if feature["properties"]["version"] is not None:
        response.set_etag(str(feature["properties"]["version"]))
    return response


def init_app(app: Flask) -> None:
    """Register the OGC API blueprint on ``app``."""
    app.register_blueprint(bp)
