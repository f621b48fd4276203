"""JSON API v1: nearest, list, one station, along a route, metadata, health.

Views parse parameters (webargs, through flask-smorest, which also writes the OpenAPI
document), call the core, and return JSON. Nothing here computes anything itself.
"""

from __future__ import annotations

import hashlib
import http
import json
from functools import lru_cache
from typing import Any

import shapely
from flask import Response, current_app, request, url_for
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from .. import __version__, coords, hours, travel, vocab
from ..districts import area_codes
from ..errors import InputError
from ..index import Filters
from ..records import feature, nearest_records, route_records, station_record
from . import dataset, problems
from .schemas import (AlongRouteBody, DistrictsArgs, LanguageArgs, MapImageArgs, MetaSchema, NearestArgs, NearestResponseSchema,
                      ProblemSchema, RouteResponseSchema, StationSchema, StationsArgs, StationsResponseSchema)


class _Parser(FlaskParser):
    """Invalid parameters are a client's bad request (400), not webargs' 422."""

    DEFAULT_VALIDATION_STATUS = 400


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


class _Api(Api):
    """flask-smorest, with errors documented (and sent) as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass            # create_app registers problems.from_http_exception for every blueprint

    def _register_responses(self):
        for status in [*http.HTTPStatus, "DEFAULT_ERROR"]:
            name = status.name if isinstance(status, http.HTTPStatus) else status
            response = {"description": status.phrase if isinstance(status, http.HTTPStatus) else "Error"}
            if name == "DEFAULT_ERROR" or not (100 <= status < 200 or status in (204, 304)):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MIMETYPE)
            self.spec.components.response(name, response, lazy=True)


class StationIdConverter(BaseConverter):
    """Any id but the names of the collection's own endpoints, so that ``GET
    /stations/along-route`` is a 405 and not a search for a station called "along-route"."""

    regex = r"(?!(?:nearest|along-route)$)[^/]+"


bp = _Blueprint("api", __name__, url_prefix="/api/v1",
                description="Nearest union rest stations for outdoor workers in China.")
health = _Blueprint("health", __name__, description="Liveness.")


def _json_or_geojson(schema) -> dict[str, Any]:
    """Documents both answers of ``f=json`` (default) and ``f=geojson`` (a FeatureCollection)."""
    return {"responses": {"200": {"description": "OK", "content": {
        "application/json": {"schema": schema},
        "application/geo+json": {"schema": {"type": "object", "description": "GeoJSON FeatureCollection"}}}}}}


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, mimetype=mimetype)


def _lang(args: dict[str, Any]) -> str:
    return args.get("lang") or current_app.config["DEFAULT_LANG"]


def _filters_and_time(args: dict[str, Any]):
    open_at = "now" if args.get("open_now") else args.get("open_at")
    filters = Filters.build(types=args.get("type", ()), access=args.get("access", ()),
                            amenities=args.get("amenity", ()), open_at=open_at,
                            include_closed=args.get("include_closed", False))
    return filters, filters.open_at or hours.parse_when("now")


def _collection(records: list[dict[str, Any]], extra: dict[str, Any], f: str) -> Response:
    if f == "geojson":
        return _json({"type": "FeatureCollection", **extra, "features": [feature(r) for r in records]},
                     mimetype="application/geo+json")
    return _json({**extra, "count": len(records), "results": records})


@bp.route("/stations/nearest")
@bp.arguments(NearestArgs(), location="query", as_kwargs=False)
@bp.response(200, NearestResponseSchema)
@bp.doc(**_json_or_geojson(NearestResponseSchema))
def nearest(args):
    """The nearest stations to a point

    Distances are geodesic metres on WGS-84; `est_minutes` is an estimate (see `assumptions`).
    """
    data = dataset()
    filters, when = _filters_and_time(args)
    lang, mode = _lang(args), args["mode"]
    lon, lat = args["lon"], args["lat"]
    if args["coordsys"] != "wgs84":
        lon, lat = (float(v) for v in coords.to_wgs84(lon, lat, args["coordsys"]))
    found = data.index.nearest(lon, lat, k=args["k"], radius_m=args["radius_m"], filters=filters)
    records = nearest_records(data.index, found, lon=lon, lat=lat, when=when, lang=lang, mode=mode)
    gcj_lon, gcj_lat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    query = {"lon": args["lon"], "lat": args["lat"], "coordsys": args["coordsys"],
             "wgs84": [round(lon, 7), round(lat, 7)], "gcj02": [round(gcj_lon, 7), round(gcj_lat, 7)],
             "k": args["k"], "radius_m": args["radius_m"],
             "at": when.isoformat(), "mode": mode, "lang": lang}
    return _collection(records, {"query": query, "assumptions": travel.assumptions(mode, lang)}, args["f"])


@bp.route("/stations")
@bp.arguments(StationsArgs(), location="query", as_kwargs=False)
@bp.response(200, StationsResponseSchema)
@bp.doc(**_json_or_geojson(StationsResponseSchema))
def stations(args):
    """Stations in a bounding box (or all), a page at a time"""
    data = dataset()
    filters, when = _filters_and_time(args)
    box = args["bbox"] or (-180.0, -90.0, 180.0, 90.0)
    positions = data.index.within_bbox(*box, filters=filters)
    if args.get("updated_since") is not None:
        positions = _updated_since(data.index, positions, args["updated_since"])
    start, stop = args["offset"], args["offset"] + args["limit"]
    lang = _lang(args)
    records = [station_record(data.index, p, when=when, lang=lang, mode=args["mode"]) for p in positions[start:stop]]
    following = None
    if stop < len(positions):
        query = request.args.to_dict()
        query["offset"] = str(stop)
        following = url_for("api.stations", _external=True, **query)
    return _collection(records, {"matched": int(len(positions)), "limit": args["limit"],
                                 "offset": args["offset"], "next": following}, args["f"])


def _updated_since(index, positions, since: int):
    """The stations among ``positions`` changed after register version ``since``."""
    import numpy as np

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
    data = dataset()
    position = data.index.position(station_id)
    if position is None:
        return problems.problem(404, "Not Found", f"no station with id {station_id!r}")
    record = station_record(data.index, position, when=hours.parse_when("now"), lang=_lang(args))
    response = _json(record)
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
    data = dataset()
    coordinates = [c[:2] for c in body["route"]["coordinates"]]
    for i, (x, y) in enumerate(coordinates):
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            return problems.problem(400, "Invalid request parameters", None, [
                {"parameter": f"route.coordinates.{i}", "reason": f"[{x}, {y}] is not a longitude, latitude pair"}])
    route = shapely.LineString(coordinates)
    if route.length == 0:
        return problems.problem(400, "Invalid request parameters", None, [
            {"parameter": "route.coordinates", "reason": "the route has no length"}])
    filters, when = _filters_and_time(body)
    lang, mode = _lang(body), body["mode"]
    matches = data.index.along_route(route, body["distance_m"], filters=filters, coordsys=body["coordsys"])
    records = route_records(data.index, matches, when=when, lang=lang, mode=mode)
    return _json({"route_length_m": round(matches.route_length_m, 1), "distance_m": body["distance_m"],
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
    """District outlines (simplified to about 20 m) with names, population and a label point"""
    from ..districts import outlines

    return _json(outlines(current_app.config["DISTRICTS_ADCODE"], args["coordsys"]),
                 mimetype="application/geo+json")


#: Pictures are cached by browsers and proxies for an hour: an article's readers arrive together.
IMAGE_MAX_AGE = 3600
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@lru_cache(maxsize=12)
def _picture(version: str, fmt: str, adcode: str, layer: str, types: tuple[str, ...], title: str | None,
             lang: str, width: int) -> bytes:
    """Rendered pictures, the last few kept in memory (a second or more each to draw). The
    coverage layer's report comes from the planner's cache, under its cell budget."""
    from ..districts import load_districts
    from ..picture import render_picture
    from .coverage import walking_answer

    report = walking_answer(adcode).report if layer == "coverage" else None
    return render_picture(load_districts(adcode), dataset(), layer=layer, types=types, title=title, lang=lang,
                          width=width, fmt=fmt, adcode=adcode, report=report)


def _image(args: dict[str, Any], fmt: str) -> Response:
    data = dataset()
    area = current_app.config["DISTRICTS_ADCODE"]
    adcode = args["adcode"] or area
    if adcode not in area_codes(str(area)):
        return problems.problem(400, "Invalid request parameters", None, [
            {"parameter": "adcode", "reason": f"{adcode} is not this service's area ({area}) or one of its districts"}])
    widest = int(current_app.config["IMAGE_MAX_WIDTH"])
    if args["width"] > widest:
        return problems.problem(400, "Invalid request parameters", None, [
            {"parameter": "width", "reason": f"at most {widest} pixels on this server "
                                             "(`stationmap export-image` draws up to 6000)"}])
    key = (data.version, fmt, adcode, args["layer"], tuple(sorted(set(args["type"]))), args["title"], _lang(args),
           args["width"])
    etag = hashlib.sha256(repr((__version__, *key)).encode()).hexdigest()[:24]   # a new drawing code: new pictures
    if request.if_none_match.contains(etag) or request.if_none_match.contains(f"{etag}:gzip"):
        response = Response(status=304)
    else:
        response = Response(_picture(*key), mimetype=IMAGE_TYPES[fmt])
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = IMAGE_MAX_AGE
    return response


@bp.route("/maps/image.png")
@bp.arguments(MapImageArgs(), location="query", as_kwargs=False)
@bp.response(200, description="PNG picture, exactly `width` pixels wide", content_type="image/png")
@bp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
def map_image_png(args):
    """A map picture (PNG) for articles that cannot embed a live map

    Drawn without any tile server. ETag from the dataset's version and the parameters.
    """
    return _image(args, "png")


@bp.route("/maps/image.svg")
@bp.arguments(MapImageArgs(), location="query", as_kwargs=False)
@bp.response(200, description="SVG picture; text stays text, so the title is searchable", content_type="image/svg+xml")
@bp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
def map_image_svg(args):
    """A map picture (SVG) for articles that cannot embed a live map"""
    return _image(args, "svg")


@bp.route("/meta")
@bp.response(200, MetaSchema)
def meta():
    """Vocabularies with zh/en labels, travel assumptions, and the dataset's version"""
    data = dataset()
    return _json({
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
    return _json({"status": "ok", "stations": dataset().count})


def init_app(app) -> Api:
    app.url_map.converters["station_id"] = StationIdConverter
    api = _Api(app, spec_kwargs={"info": {"description": "stationmap API v1. Errors are application/problem+json "
                                                          "(RFC 9457) with one reason per invalid parameter."}})
    api.register_converter(StationIdConverter, lambda converter: {"type": "string"})
    api.register_blueprint(bp)
    api.register_blueprint(health)
    return api
