"""``GET /api/v1/search``: stations, roads and districts by name, address or pinyin.

The view parses parameters (marshmallow, so the OpenAPI document says the same), converts the
position to WGS-84, asks :mod:`stationmap.search` and writes each result with a point in WGS-84
and GCJ-02, and for stations the full station record.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from .. import coords, hours
from ..records import station_record
from ..search import KINDS, MAX_QUERY, Match, for_index
from ._common import EXTENSION, ApiBlueprint, current_dataset, json_response, language, openapi
from .schemas import LanguageArgs, StationSchema

MAX_LIMIT = 50


class SearchArgs(LanguageArgs):
    """Parameters of ``GET /api/v1/search``."""

    q = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_QUERY),
                         metadata={"description": "what to find: part of a station's name or address, a road, a "
                                                  "district; in Chinese (路/道/街 interchangeable, full-width "
                                                  "accepted), full pinyin (xuhui) or initials (xhq). Words "
                                                  "separated by spaces must all match.", "example": "徐汇"})
    lat = ma.fields.Float(load_default=None, validate=ma.validate.Range(-90, 90),
                          metadata={"description": "latitude of the rider: equal matches come nearest first"})
    lon = ma.fields.Float(load_default=None, validate=ma.validate.Range(-180, 180),
                          metadata={"description": "longitude of the rider (with lat)"})
    coordsys = ma.fields.String(validate=ma.validate.OneOf(coords.COORDSYS), load_default="wgs84",
                                metadata={"description": "system of lat/lon: wgs84 (GPS), gcj02 (AMap, Tencent), "
                                                         "bd09 (Baidu)"})
    limit = ma.fields.Integer(validate=ma.validate.Range(1, MAX_LIMIT), load_default=10,
                              metadata={"description": f"how many results, 1..{MAX_LIMIT}"})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS), load_default=None,
                            metadata={"description": "only this kind: station, road or district"})

    @ma.validates_schema
    def _both_or_neither(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lon") is None):
            missing = "lon" if data.get("lon") is None else "lat"
            raise ma.ValidationError({missing: ["give both lat and lon, or neither"]})


class _MatchSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "what matched: name, pinyin, initials or address"})
    rank = ma.fields.Integer(metadata={"description": "match quality, lower is better"})


class SearchResultSchema(ma.Schema):
    """One search result (documentation: the view builds the JSON)."""

    kind = ma.fields.String(metadata={"description": "station, road or district"})
    id = ma.fields.String(allow_none=True, metadata={"description": "station id, or district adcode; null for roads"})
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    adcode = ma.fields.String(allow_none=True)
    district = ma.fields.String(allow_none=True, metadata={"description": "name of the district it lies in"})
    lon = ma.fields.Float(metadata={"description": "WGS-84"})
    lat = ma.fields.Float(metadata={"description": "WGS-84"})
    gcj02 = ma.fields.List(ma.fields.Float(), metadata={"description": "[lon, lat] in GCJ-02 (AMap, Tencent)"})
    distance_m = ma.fields.Float(allow_none=True, metadata={"description": "geodesic metres from lat/lon, if given"})
    stations = ma.fields.Integer(metadata={"description": "stations it stands for (1 for a station)"})
    match = ma.fields.Nested(_MatchSchema)
    station = ma.fields.Nested(StationSchema, allow_none=True,
                               metadata={"description": "the station record (stations only)"})


class SearchResponseSchema(ma.Schema):
    """The search answer (documentation)."""

    query = ma.fields.Dict()
    count = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(SearchResultSchema))


bp = ApiBlueprint("search", __name__, url_prefix="/api/v1", description="Find stations, roads and districts by name.")


def _result(match: Match, districts: dict[str, tuple[str, str | None]], lang: str, when) -> dict[str, Any]:
    index = current_dataset().index
    gcj_lon, gcj_lat = (float(v) for v in coords.wgs84_to_gcj02(match.lon, match.lat))
    names = districts.get(match.adcode or "")
    district = None if names is None else (names[1] or names[0]) if lang == "en" else names[0]
    return {
        "kind": match.kind,
        "id": index.ids[match.ref] if match.kind == "station" else match.ref,
        "name": match.name, "name_en": match.name_en, "adcode": match.adcode, "district": district,
        "lon": round(match.lon, 7), "lat": round(match.lat, 7), "gcj02": [round(gcj_lon, 7), round(gcj_lat, 7)],
        "distance_m": match.distance_m, "stations": match.stations,
        "match": {"field": match.field, "rank": match.rank},
        "station": station_record(index, int(match.ref), when=when, lang=lang)          # type: ignore[arg-type]
        if match.kind == "station" else None,
    }


@bp.route("/search")
@bp.arguments(SearchArgs(), location="query", as_kwargs=False)
@bp.response(200, SearchResponseSchema)
def search(args):
    """Stations, roads and districts by name, address, pinyin or initials

    Ranked by how well they match (whole name, then part of a name, a 路/道/街 variant, full
    pinyin, initials, address) and, given `lat`/`lon`, nearest first among equals (geodesic
    metres on WGS-84). Without a position: districts, then roads, then stations.
    """
    area = current_app.config["DISTRICTS_ADCODE"]
    finder = for_index(current_dataset().index, str(area) if area else None)
    lon, lat = args["lon"], args["lat"]
    if lon is not None and args["coordsys"] != "wgs84":
        lon, lat = (float(v) for v in coords.to_wgs84(lon, lat, args["coordsys"]))
    kinds = [args["kind"]] if args["kind"] else KINDS
    matches = finder.find(args["q"], lon=lon, lat=lat, limit=args["limit"], kinds=kinds)
    lang, when = language(args["lang"]), hours.parse_when("now")
    results = [_result(m, finder.districts, lang, when) for m in matches]
    query = {"q": args["q"], "lat": args["lat"], "lon": args["lon"], "coordsys": args["coordsys"],
             "wgs84": None if lon is None else [round(lon, 7), round(lat, 7)], "limit": args["limit"],
             "kind": args["kind"], "lang": lang}
    return json_response({"query": query, "count": len(results), "results": results})


def init_app(app) -> None:
    """Register the search on the API (its OpenAPI document) and build the search now, so
    that gunicorn's preloaded app shares it with every worker.
    """
    openapi(app).register_blueprint(bp)
    area = str(app.config["DISTRICTS_ADCODE"] or "") or None
    live = app.extensions[EXTENSION]
    for_index(live.current.index, area)
    live.before_swap(lambda new: for_index(new.index, area))    # a changed register: built before the swap
