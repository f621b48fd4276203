"""Request parameters and response shapes of API v1, as marshmallow schemas.

The same classes validate requests (webargs) and document them (apispec, via flask-smorest), so
the OpenAPI document cannot drift from what the server accepts.
"""

from __future__ import annotations

import marshmallow as ma
from webargs import fields as webargs_fields

from .. import coords, hours, travel, vocab

_MAX_K = 50
_MAX_RADIUS_M = 50_000.0


def code_list(vocabulary, what: str):
    """A comma-separated list of codes from `vocabulary` (validated, documented with its choices)."""
    return webargs_fields.DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf(list(vocabulary),
                                                    error=f"unknown {what} {{input!r}}; use one of {{choices}}")),
        load_default=list,
        validate=ma.validate.Length(min=1, error="give at least one code, or leave the parameter out"),
        metadata={"description": f"{what} codes, comma-separated: {', '.join(vocabulary)}"})


def _check_when(value: str) -> None:
    try:
        hours.parse_when(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


class _Lenient(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class LanguageArgs(_Lenient):
    """The ``lang`` parameter every endpoint takes."""

    lang = ma.fields.String(validate=ma.validate.OneOf(vocab.LANGUAGES), load_default=None,
                            metadata={"description": "label language: zh (default) or en"})


class _WhenArgs(LanguageArgs):
    """Filters by time and status, shared by query strings and JSON bodies."""

    open_now = ma.fields.Boolean(load_default=False,
                                 metadata={"description": "only stations open now (China Standard Time)"})
    open_at = ma.fields.String(load_default=None, validate=_check_when,
                               metadata={"description": "only stations open at this ISO 8601 time "
                                                        "(no offset: China Standard Time)",
                                         "format": "date-time"})
    include_closed = ma.fields.Boolean(load_default=False,
                                       metadata={"description": "also return closed and temporarily closed stations"})

    @ma.validates_schema
    def _one_time(self, data, **kwargs):
        if data.get("open_now") and data.get("open_at"):
            raise ma.ValidationError("give either open_now or open_at, not both", field_name="open_at")


def _mode(default: str):
    return ma.fields.String(validate=ma.validate.OneOf(travel.MODES), load_default=default,
                            metadata={"description": "travel mode for est_minutes: walk or ebike"})


class FilterArgs(_WhenArgs):
    """The station filters of a query string (types, amenities, access, opening time, status) and the travel mode."""

    type = code_list(vocab.STATION_TYPES, "type")
    amenity = code_list(vocab.AMENITIES, "amenity")
    access = code_list(vocab.ACCESS, "access")
    mode = _mode("walk")


class NearestArgs(FilterArgs):
    """Parameters of ``/stations/nearest``: a point, how many, how far, and filters."""

    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90), metadata={"description": "latitude"})
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180), metadata={"description": "longitude"})
    coordsys = ma.fields.String(validate=ma.validate.OneOf(coords.COORDSYS), load_default="wgs84",
                                metadata={"description": "system of lat/lon: wgs84 (GPS), gcj02 (AMap, Tencent), "
                                                         "bd09 (Baidu)"})
    k = ma.fields.Integer(validate=ma.validate.Range(1, _MAX_K), load_default=5,
                          metadata={"description": f"how many stations, 1..{_MAX_K}"})
    radius_m = ma.fields.Float(validate=ma.validate.Range(1, _MAX_RADIUS_M), load_default=None,
                               metadata={"description": f"only stations within this many metres (≤ {_MAX_RADIUS_M:g})"})
    f = ma.fields.String(validate=ma.validate.OneOf(("json", "geojson")), load_default="json",
                         metadata={"description": "json (default) or geojson"})


class DistrictsArgs(LanguageArgs):
    """Parameters of ``/districts``: the system of the outlines."""

    coordsys = ma.fields.String(validate=ma.validate.OneOf(coords.COORDSYS), load_default="wgs84",
                                metadata={"description": "system of the outlines: wgs84, gcj02 (for AMap tiles) "
                                                         "or bd09"})


class MapImageArgs(LanguageArgs):
    """What a map picture shows (see :func:`stationmap.maps.picture.render_picture`)."""

    adcode = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$", error="must be a 6-digit administrative code"),
                              load_default=None,
                              metadata={"description": "the service's area (default) or one of its districts"})
    layer = ma.fields.String(validate=ma.validate.OneOf(("stations", "coverage")), load_default="stations",
                             metadata={"description": "stations by type, or districts by area within a 15-minute walk"})
    type = code_list(vocab.STATION_TYPES, "type")
    title = ma.fields.String(validate=ma.validate.Length(1, 120), load_default=None,
                             metadata={"description": "title (default: one per language and area)"})
    width = ma.fields.Integer(validate=ma.validate.Range(300, 6000), load_default=1200,
                              metadata={"description": "width in pixels, 300 up to the server's IMAGE_MAX_WIDTH "
                                                             "(default 3000); the height follows the area"})


class BBoxField(ma.fields.Field):
    """``minlon,minlat,maxlon,maxlat`` in WGS-84."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = str(value).split(",")
        if len(parts) != 4:
            raise ma.ValidationError("must be minlon,minlat,maxlon,maxlat")
        try:
            box = [float(p) for p in parts]
        except ValueError:
            raise ma.ValidationError("must be four numbers: minlon,minlat,maxlon,maxlat") from None
        min_lon, min_lat, max_lon, max_lat = box
        if not all(map(_finite, box)):
            raise ma.ValidationError("numbers must be finite")
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ma.ValidationError("needs -180 ≤ minlon ≤ maxlon ≤ 180 and -90 ≤ minlat ≤ maxlat ≤ 90")
        return box


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


class StationsArgs(FilterArgs):
    """Parameters of ``/stations``: filters and a bounding box."""

    bbox = BBoxField(load_default=None, metadata={"description": "minlon,minlat,maxlon,maxlat (WGS-84)",
                                                  "type": "string", "example": "121.4,31.1,121.6,31.3"})
    limit = ma.fields.Integer(validate=ma.validate.Range(1, 1000), load_default=100)
    offset = ma.fields.Integer(validate=ma.validate.Range(0, 10_000_000), load_default=0)
    f = ma.fields.String(validate=ma.validate.OneOf(("json", "geojson")), load_default="json")
    updated_since = ma.fields.Integer(validate=ma.validate.Range(0, 2**53), load_default=None, metadata={
        "description": "only stations created or changed after this register version (see /api/v1/changes, "
                       "which also lists deletions)"})


class LineStringSchema(ma.Schema):
    """A GeoJSON LineString in WGS-84 (the route of ``along-route``)."""

    type = ma.fields.String(required=True, validate=ma.validate.Equal("LineString"))
    coordinates = ma.fields.List(
        ma.fields.List(ma.fields.Float(), validate=ma.validate.Length(2, 3)),
        required=True, validate=ma.validate.Length(2, 10_000))


class AlongRouteBody(_WhenArgs):
    """The JSON body of ``/stations/along-route``: the route, the distance off it, and filters."""

    route = ma.fields.Nested(LineStringSchema, required=True,
                             metadata={"description": "GeoJSON LineString geometry"})
    coordsys = ma.fields.String(validate=ma.validate.OneOf(coords.COORDSYS), load_default="wgs84")
    distance_m = ma.fields.Float(validate=ma.validate.Range(1, _MAX_RADIUS_M), load_default=500.0)
    type = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(list(vocab.STATION_TYPES))), load_default=list)
    amenity = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(list(vocab.AMENITIES))), load_default=list)
    access = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(list(vocab.ACCESS))), load_default=list)
    mode = _mode("ebike")          # riders and drivers on a route are rarely on foot


def _check_at(value: str) -> None:
    from ..planner import parse_at

    try:
        parse_at(value)
    except ValueError as exc:
        raise ma.ValidationError(getattr(exc, "reason", str(exc))) from None


COVERAGE_FORMATS = ("json", "geojson", "csv", "xlsx", "html", "cells", "sites-csv", "sites-xlsx", "sites-geojson")


class CoverageArgs(LanguageArgs):
    """Parameters of ``/coverage``: area, threshold, time of day, new sites to propose, output system and format."""

    adcode = ma.fields.String(load_default=None,
                              validate=ma.validate.Regexp(r"^\d{6}$", error="must be a 6-digit code"),
                              metadata={"description": "the configured area (default, e.g. 310100) "
                                                       "or one of its districts (e.g. 310115)",
                                        "example": "310115"})
    mode = ma.fields.String(validate=ma.validate.OneOf(travel.MODES), load_default="walk",
                            metadata={"description": "walk or ebike: what `minutes` of travel reach"})
    minutes = ma.fields.Float(validate=ma.validate.Range(1, 60), load_default=None,
                              metadata={"description": "covered within this many minutes by `mode` (1–60, default 15)"})
    radius_m = ma.fields.Float(validate=ma.validate.Range(0, 20_000, min_inclusive=False), load_default=None,
                               metadata={"description": "or: covered within this many straight-line metres (≤ 20000)"})
    at = ma.fields.String(load_default=None, validate=_check_at,
                          metadata={"description": "only stations open then: HH:MM today or ISO 8601 "
                                                   "(China Standard Time unless an offset is given); empty: any time",
                                    "example": "02:00"})
    recommend = ma.fields.Integer(validate=ma.validate.Range(0, 20), load_default=0,
                                  metadata={"description": "also propose this many new sites (0–20)"})
    coordsys = ma.fields.String(validate=ma.validate.OneOf(("wgs84", "gcj02")), load_default="wgs84",
                                metadata={"description": "system of every output coordinate: wgs84 "
                                                         "or gcj02 (AMap tiles)"})
    f = ma.fields.String(validate=ma.validate.OneOf(COVERAGE_FORMATS), load_default="json",
                         metadata={"description": "json (default), geojson (the gaps), csv, xlsx, html (the map), "
                                                  "cells (the heat layer: minutes per H3 cell, compact), sites-csv, "
                                                  "sites-xlsx, sites-geojson (the recommended sites with district, "
                                                  "nearest station, links)"})

    @ma.validates_schema
    def _one_reach(self, data, **kwargs):
        if data.get("minutes") is not None and data.get("radius_m") is not None:
            reason = "give either minutes or radius_m, not both"
            raise ma.ValidationError({"minutes": [reason], "radius_m": [reason]})


COMPARE_FORMATS = ("json", "cells", "geojson", "csv", "xlsx")


def _check_b_at(value: str) -> None:
    if value.strip():                     # empty: any time (absent: as scenario A)
        _check_at(value)


def _check_b_version(value: int) -> None:
    if value < 1:                         # beyond the current version: refused by the view, which knows it
        from ..store.past import below_one

        raise ma.ValidationError(below_one(value))


class CompareArgs(LanguageArgs):
    """Parameters of ``/coverage/compare``: scenario A as ``/coverage`` asks it, and what differs in B."""

    adcode = CoverageArgs._declared_fields["adcode"]
    mode = CoverageArgs._declared_fields["mode"]
    minutes = CoverageArgs._declared_fields["minutes"]
    at = CoverageArgs._declared_fields["at"]
    b_mode = ma.fields.String(validate=ma.validate.OneOf(travel.MODES), load_default=None,
                              metadata={"description": "scenario B's travel mode (default: A's)"})
    b_minutes = ma.fields.Float(validate=ma.validate.Range(1, 60), load_default=None,
                                metadata={"description": "scenario B's minutes (1–60, default: A's)"})
    b_at = ma.fields.String(load_default=None, validate=_check_b_at,
                            metadata={"description": "scenario B's moment: HH:MM or ISO 8601; empty: any time; "
                                                     "absent: A's", "example": "02:00"})
    b_sites = ma.fields.Integer(validate=ma.validate.Range(0, 20), load_default=0,
                                metadata={"description": "add this many sites recommended for B's question to B, "
                                                         "counted as open at every hour (0–20): today vs with the "
                                                         "recommended sites"})
    b_version = ma.fields.Integer(load_default=None, validate=_check_b_version, metadata={
        "minimum": 1, "example": 1,
        "description": "ask B of the register as it stood at this register version (1 to the current one, "
                       "`dataset.register_version` in the answer): today vs an earlier version. Combines with "
                       "the other b_ fields (B is B's question asked of that register: its mode, minutes, time "
                       "and sites). Refused (400) by a server reading a stations file (--stations): a file "
                       "keeps no history"})
    coordsys = CoverageArgs._declared_fields["coordsys"]
    f = ma.fields.String(validate=ma.validate.OneOf(COMPARE_FORMATS), load_default="json",
                         metadata={"description": "json (default: per-district changes, totals, legend), cells (the "
                                                  "difference map: one change per H3 cell, compact), geojson (the "
                                                  "gained and lost cells as polygons), csv, xlsx (the per-district "
                                                  "changes)"})


# -- responses (documentation; views build the JSON directly) ---------------------------------

class ProblemDetailSchema(ma.Schema):
    """One bad parameter of a problem: its name and the reason."""

    parameter = ma.fields.String()
    reason = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with one ``errors`` entry per invalid parameter."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(ProblemDetailSchema))


class AmenitySchema(ma.Schema):
    """An amenity code with its label in the requested language."""

    code = ma.fields.String()
    label = ma.fields.String()


class LinksSchema(ma.Schema):
    """Links of a station: AMap and Baidu markers and navigation, and a ``geo:`` URI."""

    amap_marker = ma.fields.String()
    amap_navigation = ma.fields.String()
    baidu_marker = ma.fields.String()
    geo = ma.fields.String()


class StationSchema(ma.Schema):
    """A station as the API returns it."""

    id = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    type = ma.fields.String()
    type_label = ma.fields.String()
    access = ma.fields.String()
    access_label = ma.fields.String()
    amenities = ma.fields.List(ma.fields.Nested(AmenitySchema))
    opening_hours = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    open_now = ma.fields.Boolean()
    hours_state = ma.fields.String(metadata={"description": "open, closed or unknown"})
    next_change = ma.fields.String(allow_none=True,
                                   metadata={"description": "ISO 8601 time of the next opening or closing"})
    next_change_text = ma.fields.String(allow_none=True, metadata={"description": "e.g. 'closes 17:00'"})
    reopens = ma.fields.String(allow_none=True, metadata={
        "description": "YYYY-MM-DD: a temporarily closed station reopens by itself on that day (China time)"})
    operator = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    adcode = ma.fields.String(allow_none=True)
    last_verified = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(allow_none=True, metadata={
        "description": "the station's version in the store (its ETag for If-Match); null when served from a file"})
    lon = ma.fields.Float(metadata={"description": "WGS-84"})
    lat = ma.fields.Float(metadata={"description": "WGS-84"})
    gcj02 = ma.fields.List(ma.fields.Float(), metadata={"description": "[lon, lat] in GCJ-02 (AMap, Tencent)"})
    links = ma.fields.Nested(LinksSchema)
    reports = ma.fields.Dict(metadata={
        "description": "workers' reports summary (one station, nearest answers): closed_reports, closure_flagged "
                       "(ranked after stations about as near), confirmations, last_verified, text"})


class NearestResultSchema(StationSchema):
    """A station in a nearest answer: with rank, distance, bearing and travel time."""

    rank = ma.fields.Integer()
    distance_m = ma.fields.Float(metadata={"description": "geodesic metres on WGS-84"})
    bearing_deg = ma.fields.Float(metadata={"description": "from the query point, clockwise from north"})
    est_minutes = ma.fields.Float(metadata={"description": "estimate; see assumptions"})
    week_hours = ma.fields.List(ma.fields.Dict(), allow_none=True, metadata={
        "description": "an open station's hours for the next seven days: {date, day, hours} (words in lang)"})


class RouteResultSchema(StationSchema):
    """A station along a route: with its distance off the route and along it."""

    distance_m = ma.fields.Float(metadata={"description": "geodesic metres from the route"})
    along_m = ma.fields.Float(metadata={"description": "metres along the route from its start"})
    est_minutes = ma.fields.Float(metadata={"description": "detour estimate from the route and back is not included"})
    detour_minutes = ma.fields.Float(metadata={"description": "estimate of leaving the route and rejoining it: "
                                                              "2 × distance_m by the mode's assumptions"})
    week_hours = ma.fields.List(ma.fields.Dict(), allow_none=True, metadata={
        "description": "an open station's hours for the next seven days: {date, day, hours} (words in lang)"})


class NearestResponseSchema(ma.Schema):
    """The answer of ``/stations/nearest``: the query echoed and the results."""

    query = ma.fields.Dict()
    assumptions = ma.fields.String()
    count = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(NearestResultSchema))


class StationsResponseSchema(ma.Schema):
    """The answer of ``/stations``: one page of matching stations, with counts and the next page."""

    matched = ma.fields.Integer()
    count = ma.fields.Integer()
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()
    next = ma.fields.String(allow_none=True)
    results = ma.fields.List(ma.fields.Nested(StationSchema))


class RouteResponseSchema(ma.Schema):
    """The answer of ``/stations/along-route``: the results, nearest to the start first."""

    route_length_m = ma.fields.Float()
    distance_m = ma.fields.Float()
    assumptions = ma.fields.String()
    count = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(RouteResultSchema))


class MetaSchema(ma.Schema):
    """The answer of ``/meta``: the register and every vocabulary with its labels."""

    dataset = ma.fields.Dict()
    types = ma.fields.Dict()
    access = ma.fields.Dict()
    amenities = ma.fields.Dict()
    statuses = ma.fields.Dict()
    modes = ma.fields.Dict()
    coordsys = ma.fields.List(ma.fields.String())


class HeatCellsSchema(ma.Schema):
    """The answer of ``/coverage?f=cells``: the heat layer, compact (see :func:`stationmap.heat.heat_cells`)."""

    unit = ma.fields.String(metadata={"description": "minutes or metres"})
    threshold = ma.fields.Float()
    coordsys = ma.fields.String()
    step_deg = ma.fields.Float(metadata={"description": "the grid step positions are counted in"})
    bands = ma.fields.List(ma.fields.List(ma.fields.Raw()), metadata={"description": "[from, to or null, colour]"})
    origin = ma.fields.List(ma.fields.Integer())
    shapes = ma.fields.List(ma.fields.List(ma.fields.List(ma.fields.Integer())))
    count = ma.fields.Integer()
    cells = ma.fields.List(ma.fields.Integer(), metadata={"description": "dx, dy, tenths, shape per cell"})


class CoverageResponseSchema(ma.Schema):
    """The answer of ``/coverage`` as JSON: assumptions, one row per district, totals and recommendations."""

    query = ma.fields.Dict()
    assumptions = ma.fields.String()
    dataset = ma.fields.Dict()
    districts = ma.fields.List(ma.fields.Dict(), metadata={"description": "one row per district: the report's columns"})
    totals = ma.fields.Dict()
    recommendations = ma.fields.List(ma.fields.Dict())


class CompareResponseSchema(ma.Schema):
    """The answer of ``/coverage/compare`` as JSON: both scenarios, per-district changes, totals, legend."""

    query = ma.fields.Dict()
    scenarios = ma.fields.Dict(metadata={"description": "a and b: each scenario's question and its words"})
    assumptions = ma.fields.String()
    dataset = ma.fields.Dict()
    districts = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "one row per district: area_covered_pct_a/_b/_delta, population_covered_a/_b/_delta, "
                       "gained_km2, lost_km2"})
    totals = ma.fields.Dict()
    legend = ma.fields.List(ma.fields.Dict(), metadata={"description": "key, colour and label of each change"})
    sites = ma.fields.List(ma.fields.Dict(), metadata={"description": "the sites added to scenario B"})
