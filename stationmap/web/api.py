"""JSON API v1: nearest, list, one station, along a route, metadata, health.

Views parse parameters (webargs, through flask-smorest, which also writes the OpenAPI
document), call the core, and return JSON. Nothing here computes anything itself.
"""

from __future__ import annotations

from functools import lru_cache, wraps
from typing import Any

import shapely
from flask import Flask, Response, current_app, request
from werkzeug.routing import BaseConverter

from .. import coords, hours, travel, vocab
from ..errors import InputError
from ..index import Filters
from ..records import feature, nearest_records, route_records, station_record
from . import problems, reports
from ._common import ApiBlueprint, current_dataset, json_response, language, openapi
from .fastargs import FastQuery
from .hosts import external_url
from .schemas import (
    AlongRouteBody,
    DistrictsArgs,
    LanguageArgs,
    MetaSchema,
    NearestArgs,
    NearestResponseSchema,
    RouteResponseSchema,
    StationsArgs,
    StationSchema,
    StationsResponseSchema,
)


class StationIdConverter(BaseConverter):
    """Any id but the names of the collection's own endpoints, so that ``GET
    /stations/along-route`` is a 405 and not a search for a station called "along-route".
    """

    regex = r"(?!(?:nearest|along-route)$)[^/]+"


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1",
                description="Nearest union rest stations for outdoor workers in China.")
health = ApiBlueprint("health", __name__, description="Liveness.")


def _json_or_geojson(schema) -> dict[str, Any]:
    """Documents both answers of ``f=json`` (default) and ``f=geojson`` (a FeatureCollection)."""
    return {"responses": {"200": {"description": "OK", "content": {
        "application/json": {"schema": schema},
        "application/geo+json": {"schema": {"type": "object", "description": "GeoJSON FeatureCollection"}}}}}}


def _filters_and_time(args: dict[str, Any]):
    open_at = "now" if args.get("open_now") else args.get("open_at")
    filters = Filters.build(types=args.get("type", ()), access=args.get("access", ()),
                            amenities=args.get("amenity", ()), open_at=open_at,
                            include_closed=args.get("include_closed", False))
    return filters, filters.open_at or hours.parse_when("now")


def _collection(records: list[dict[str, Any]], extra: dict[str, Any], f: str) -> Response:
    if f == "geojson":
        return json_response({"type": "FeatureCollection", **extra, "features": [feature(r) for r in records]},
                     mimetype="application/geo+json")
    return json_response({**extra, "count": len(records), "results": records})


def _fast_query(fast: FastQuery, answer):
    """Serve plain query strings through ``fast`` and ``answer``, all others through the
    decorated view (webargs + marshmallow: the same values, and every error message). The
    view's OpenAPI description is kept (``wraps`` copies it).
    """
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            parsed = fast.parse(request.args)
            return view(*args, **kwargs) if parsed is None else answer(parsed)
        return wrapper
    return decorator


def _nearest_answer(args: dict[str, Any]) -> Response:
    data = current_dataset()
    filters, when = _filters_and_time(args)
    lang, mode = language(args["lang"]), args["mode"]
    lon, lat = args["lon"], args["lat"]
    if args["coordsys"] != "wgs84":
        lon, lat = (float(v) for v in coords.to_wgs84(lon, lat, args["coordsys"]))
    found = data.index.nearest(lon, lat, k=args["k"], radius_m=args["radius_m"], filters=filters)
    records = reports.annotate(nearest_records(data.index, found, lon=lon, lat=lat, when=when, lang=lang, mode=mode),
                               lang, rank=True)
    gcj_lon, gcj_lat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    query = {"lon": args["lon"], "lat": args["lat"], "coordsys": args["coordsys"],
             "wgs84": [round(lon, 7), round(lat, 7)], "gcj02": [round(gcj_lon, 7), round(gcj_lat, 7)],
             "k": args["k"], "radius_m": args["radius_m"],
             "at": when.isoformat(), "mode": mode, "lang": lang, **_served_area(lon, lat, lang)}
    return _collection(records, {"query": query, "assumptions": travel.assumptions(mode, lang)}, args["f"])


def _served_area(lon: float, lat: float, lang: str) -> dict[str, Any]:
    """Whether the query point is inside the served area, and that area's name.

    A client tells a rider "outside the area this service covers (上海市)" from this instead of
    listing stations in the next province as if they were nearby.
    """
    from ..districts import area_contains

    area = str(current_app.config["DISTRICTS_ADCODE"])
    return {"in_served_area": area_contains(area, lon, lat),
            "served_area": {"adcode": area, "name": _area_name(area, lang)}}


@lru_cache(maxsize=16)
def _area_name(area: str, lang: str) -> str:
    """What to call the served area ("上海市"), worked out once per area and language."""
    from ..districts import load_districts
    from ..maps.picture import area_name

    return area_name(area, load_districts(area), lang) or area


@bp.route("/stations/nearest")
@_fast_query(FastQuery(NearestArgs(), slow=("open_now", "open_at")), _nearest_answer)
@bp.arguments(NearestArgs(), location="query", as_kwargs=False)
@bp.response(200, NearestResponseSchema)
@bp.doc(**_json_or_geojson(NearestResponseSchema))
def nearest(args):
    """The nearest stations to a point

    Distances are geodesic metres on WGS-84; `est_minutes` is an estimate (see `assumptions`).
    """
    return _nearest_answer(args)


@bp.route("/stations")
@bp.arguments(StationsArgs(), location="query", as_kwargs=False)
@bp.response(200, StationsResponseSchema)
@bp.doc(**_json_or_geojson(StationsResponseSchema))
def stations(args):
    """Stations in a bounding box (or all), a page at a time"""
    data = current_dataset()
    filters, when = _filters_and_time(args)
    box = args["bbox"] or (-180.0, -90.0, 180.0, 90.0)
    positions = data.index.within_bbox(*box, filters=filters)
    if args.get("updated_since") is not None:
        positions = _updated_since(data.index, positions, args["updated_since"])
    start, stop = args["offset"], args["offset"] + args["limit"]
    lang = language(args["lang"])
    records = [station_record(data.index, p, when=when, lang=lang, mode=args["mode"]) for p in positions[start:stop]]
    following = None
    if stop < len(positions):
        query = request.args.to_dict()
        query["offset"] = str(stop)
        following = external_url("api.stations", **query)
    return _collection(records, {"matched": len(positions), "limit": args["limit"],
                                 "offset": args["offset"], "next": following}, args["f"])


def _updated_since(index, positions, since: int):
    """The stations among ``positions`` changed after register version ``since``."""
    if "changed_in" not in index.stations.columns:
        raise InputError("this server answers from a stations file, which has no versions; "
                         "the store (STATIONMAP_DATABASE_URL) has them", field="updated_since")
    changed = index.stations["changed_in"].to_numpy()
    return positions[changed[positions] > since]


@bp.route("/stations/<station_id:station_id>")
@bp.arguments(LanguageArgs(), location="query", as_kwargs=False)
@bp.response(200, StationSchema)
@bp.alt_response(404, description="No station with that id")
def one_station(args, station_id: str):
    """One station by id"""
    data = current_dataset()
    position = data.index.position(station_id)
    if position is None:
        return problems.problem(404, "Not Found", f"no station with id {station_id!r}")
    lang = language(args["lang"])
    record = station_record(data.index, position, when=hours.parse_when("now"), lang=lang)
    reports.annotate([record], lang)
    response = json_response(record)
    if record.get("version") is not None:          # the ETag a write's If-Match names
        response.set_etag(str(record["version"]))
    return response


@bp.route("/stations/along-route", methods=["POST"])
@bp.arguments(AlongRouteBody(), location="json", as_kwargs=False)
@bp.response(200, RouteResponseSchema)
@bp.alt_response(415, description="The body is not JSON")
def along_route(body):
    """Stations within a distance of a route, in the order the route meets them

    For riders and truck drivers: `route` is a GeoJSON LineString in `coordsys`.
    """
    data = current_dataset()
    coordinates = [c[:2] for c in body["route"]["coordinates"]]
    for i, (x, y) in enumerate(coordinates):
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(f"[{x}, {y}] is not a longitude, latitude pair", field=f"route.coordinates.{i}")
    route = shapely.LineString(coordinates)
    if route.length == 0:
        raise InputError("the route has no length", field="route.coordinates")
    filters, when = _filters_and_time(body)
    lang, mode = language(body["lang"]), body["mode"]
    matches = data.index.along_route(route, body["distance_m"], filters=filters, coordsys=body["coordsys"])
    records = reports.annotate(route_records(data.index, matches, when=when, lang=lang, mode=mode), lang)
    return json_response({"route_length_m": round(matches.route_length_m, 1), "distance_m": body["distance_m"],
                  "assumptions": travel.assumptions(mode, lang), "count": len(records), "results": records})


@bp.before_request
def _require_json_body():
    if request.method == "POST" and not request.is_json:
        return problems.problem(415, "Unsupported Media Type", "send the body as application/json")
    return None


@bp.route("/districts")
@bp.arguments(DistrictsArgs(), location="query", as_kwargs=False)
@bp.response(200, description="GeoJSON FeatureCollection", content_type="application/geo+json")
def districts(args):
    """District outlines (simplified to about 20 m) with names, population and a label point

    Stable between releases: an ETag and `Cache-Control` (web/security.py) let phones on a
    weak signal keep them; the worker page's offline copy revalidates them.
    """
    from ..districts import outlines

    return json_response(outlines(current_app.config["DISTRICTS_ADCODE"], args["coordsys"]),
                         mimetype="application/geo+json")


@bp.route("/meta")
@bp.response(200, MetaSchema)
def meta():
    """Vocabularies with zh/en labels, travel assumptions, and the dataset's version"""
    data = current_dataset()
    return json_response({
        "dataset": {"version": data.version, "stations": data.count, "file": data.path.name,
                    "modified": data.modified.isoformat(), "latest_verified": data.latest_verified},
        "types": vocab.STATION_TYPES, "access": vocab.ACCESS, "amenities": vocab.AMENITIES,
        "statuses": vocab.STATUSES,
        "modes": {m: {"speed_kmh": travel.SPEEDS_KMH[m], "detour_factor": travel.DETOUR_FACTOR,
                      "assumptions": {lang: travel.assumptions(m, lang) for lang in vocab.LANGUAGES}}
                  for m in travel.MODES},
        "coordsys": list(coords.COORDSYS),
    })


@health.route("/healthz")
@health.response(200)
def healthz():
    """Liveness: the index is loaded"""
    return json_response({"status": "ok", "stations": current_dataset().count})


def init_app(app: Flask) -> None:
    """Register the API's blueprint on ``app``."""
    app.url_map.converters["station_id"] = StationIdConverter
    api = openapi(app)
    api.register_converter(StationIdConverter, lambda converter: {"type": "string"})
    api.register_blueprint(bp)
    api.register_blueprint(health)
