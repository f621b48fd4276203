"""Maps for union news pages: ``/embed/map`` goes in an ``<iframe>``, ``/embed`` writes that iframe.

A popular article brings a spike of readers, so the map is one light page whose stations are
inline, with an ETag (dataset version + query + language + code) and ``Cache-Control: public``:
a repeat view is a 304 decided before anything is built. Which sites may frame it is
:mod:`stationmap.web.framing`'s business.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import marshmallow as ma
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from .. import __version__, coords, vocab
from ..districts import load_districts, outlines
from ..errors import InputError
from ..index import Filters
from ..maps import tiles
from ..maps.station_rows import area_positions, sources, station_rows
from ..texts import EMBED_BUILDER, EMBED_MAP
from . import problems, security
from ._common import content_language, current_dataset, language, served_adcode, tile_settings
from .hosts import external_url
from .schemas import code_list

bp = Blueprint("embed", __name__)

#: Seconds a browser or a newsroom's proxy may reuse a map without asking again.
MAX_AGE = 300
#: Outline simplification for embedded maps (about 50 m: invisible at city scale, a third fewer bytes).
OUTLINE_TOLERANCE_DEG = 0.0005
LAYERS = ("stations", "coverage")
#: Most stations one embedded map carries (about 20 bytes each gzipped): beyond this the page
#: would outgrow its 150 KB budget, and a reader could not see the stations for the clusters.
MAX_STATIONS = 3_000
#: Our own static files: their digest versions the URLs and the ETag, so a new release is seen at once.
ASSETS = ("common.js", "base.css", "embed.js", "embed.css", "builder.js", "builder.css")




class _Centre(ma.fields.Field):
    """``lon,lat`` in WGS-84."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            lon, lat = (float(v) for v in str(value).split(","))
        except ValueError:
            raise ma.ValidationError("give lon,lat in WGS-84, e.g. 121.47,31.23") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ma.ValidationError(f"{value!r} is not a longitude,latitude pair")
        return [lon, lat]


class EmbedMapArgs(ma.Schema):
    """The parameters of /embed/map, checked by marshmallow."""

    class Meta:
        unknown = ma.EXCLUDE

    adcode = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$", error="give a 6-digit adcode"))
    type = code_list(vocab.STATION_TYPES, "type")
    amenity = code_list(vocab.AMENITIES, "amenity")
    layer = ma.fields.String(load_default="stations", validate=ma.validate.OneOf(LAYERS))
    lang = ma.fields.String(load_default=None, validate=ma.validate.OneOf(vocab.LANGUAGES))
    tiles = ma.fields.String(load_default=None, validate=ma.validate.OneOf(list(tiles.PROVIDERS)))
    center = _Centre(load_default=None)
    zoom = ma.fields.Integer(load_default=None, validate=ma.validate.Range(1, 19))


@lru_cache(maxsize=1)
def _asset_digest(folder: str) -> str:
    digest = hashlib.sha256()
    for name in ASSETS:
        with open(f"{folder}/{name}", "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:10]


def _asset_version() -> str:
    return f"{current_dataset().version}-{_asset_digest(current_app.static_folder)}"


def _districts(coordsys: str) -> dict:
    return outlines(current_app.config["DISTRICTS_ADCODE"], coordsys, OUTLINE_TOLERANCE_DEG)


def _bad_request(errors: list[dict[str, str]], lang: str) -> Response:
    """problem+json for programs; a readable page for a person looking at a broken iframe."""
    best = request.accept_mimetypes.best_match([problems.MIMETYPE, "application/json", "text/html"])
    if best == "text/html":
        html = render_template("embed_error.html", lang=lang, title=EMBED_MAP[lang]["bad_request"], errors=errors)
        return Response(html, status=400, mimetype="text/html")
    return problems.problem(400, "Invalid request parameters", None, errors)


def _parse(lang: str) -> dict[str, Any] | Response:
    """The map's parameters, checked; or the 400 answer naming every bad one."""
    try:
        args = EmbedMapArgs().load(request.args.to_dict())
    except ma.ValidationError as error:
        return _bad_request(problems.flatten(error.messages), lang)
    try:
        adcode = served_adcode(args["adcode"])
    except InputError as error:
        return _bad_request([{"parameter": error.field or "adcode", "reason": error.reason}], lang)
    args["adcode"] = None if adcode == str(current_app.config["DISTRICTS_ADCODE"]) else adcode
    args["type"], args["amenity"] = sorted(args["type"]), sorted(args["amenity"])
    return args


def _etag(parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def _not_modified(tag: str) -> Response | None:
    """A 304 when the browser already holds this tag (Flask-Compress adds ``:gzip`` to what it sent)."""
    if request.if_none_match.contains(tag) or request.if_none_match.contains(f"{tag}:gzip"):
        response = Response(status=304)
        sent = f"{tag}:gzip" if request.if_none_match.contains(f"{tag}:gzip") else tag
        response.set_etag(sent)
        _cacheable(response)
        return response
    return None


def content_policy(tile_url: str | None) -> str:
    """The page policy of :mod:`stationmap.web.security`, with no form anywhere in an embed.

    >>> content_policy("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}")  # doctest: +NORMALIZE_WHITESPACE
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';
     img-src 'self' data: https://*.is.autonavi.com; connect-src 'self'; base-uri 'none'; form-action 'none'"
    """
    return security.content_policy(tile_url, form_action="'none'")


def _cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _display_center(center: list[float] | None, display: str) -> list[float] | None:
    """The requested WGS-84 centre in the tiles' system, rounded to about 0.1 m."""
    if not center:
        return None
    lon, lat = center
    return [round(float(v), 6) for v in coords.from_wgs84(lon, lat, display)]


@bp.get("/embed/map")
def embed_map() -> Response:
    """The map for an iframe: stations (clustered) or coverage by district, with caption and link."""
    args = _parse(language(request.args.get("lang")))
    if isinstance(args, Response):
        return args
    lang = language(args["lang"])
    config = current_app.config
    tile_name = args["tiles"] or config["TILES"]
    version = _asset_version()
    tag = _etag([__version__, version, args, lang, tile_name, bool(config["TIANDITU_KEY"]),
                 config["DISTRICTS_ADCODE"], config["DEFAULT_LANG"]])
    layer = tile_settings(tile_name)
    cached = _not_modified(tag)
    if cached is not None:
        cached.headers["Content-Security-Policy"] = content_policy(layer["url"])
        return cached

    data = current_dataset()
    display = layer["coordsys"]
    districts = _districts(display)
    if args["adcode"]:
        districts = {**districts, "features": [f for f in districts["features"] if f["id"] == args["adcode"]]}
    settings: dict[str, Any] = {
        "lang": lang, "text": EMBED_MAP[lang], "layer": args["layer"], "tiles": layer,
        "adcode": args["adcode"] or config["DISTRICTS_ADCODE"],
        "zoom": args["zoom"], "outlines": districts,
        "center": _display_center(args["center"], display),
        "types": [vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES],
    }
    if args["layer"] == "stations":
        filters = Filters.build(types=args["type"], amenities=args["amenity"])
        positions = area_positions(data.index, load_districts(args["adcode"] or config["DISTRICTS_ADCODE"]), filters)
        if len(positions) > MAX_STATIONS:
            return _bad_request([{"parameter": "adcode", "reason": f"{len(positions)} stations are too many for one "
                                  f"embedded map (at most {MAX_STATIONS}): choose a district or a station type"}], lang)
        settings["stations"] = station_rows(data.index, positions, display, lang)
    else:
        from ..maps.style import palette

        settings["palette"] = palette()          # the planner page's heat language (stationmap/maps/style.py)
    full = url_for("worker.worker_page", lang=lang) if args["layer"] == "stations" else f"/coverage?lang={lang}"
    caption = {"sources": sources(data.index), "modified": data.modified.date().isoformat(),
               "verified": data.latest_verified}
    html = render_template("embed_map.html", lang=lang, text=EMBED_MAP[lang], settings=settings, caption=caption,
                           full_map=full, version=version,
                           title=EMBED_MAP[lang]["title_stations" if args["layer"] == "stations" else "title_coverage"])
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    response.set_etag(tag)
    response.headers["Content-Security-Policy"] = content_policy(layer["url"])
    return _cacheable(response)


@bp.get("/embed")
def builder() -> Response:
    """The page where an editor chooses a map and copies its ``<iframe>``."""
    lang = language(request.args.get("lang"))
    text = EMBED_BUILDER[lang]
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": (f["properties"]["name"] if lang == "zh"
                           else f["properties"]["name_en"] or f["properties"]["name"])}
                 for f in _districts("wgs84")["features"]]
    settings = {"lang": lang, "text": text, "map_url": external_url("embed.embed_map"),
                "image_url": "/api/v1/maps/image.png",
                "titles": {code: {layer: EMBED_MAP[code][f"title_{layer}"] for layer in LAYERS}
                           for code in vocab.LANGUAGES},
                "default_tiles": current_app.config["TILES"]}
    html = render_template("embed_builder.html", lang=lang, text=text, settings=settings, districts=districts,
                           tiles=list(tiles.PROVIDERS),
                           types=[(c, vocab.label(vocab.STATION_TYPES, c, lang)) for c in vocab.STATION_TYPES],
                           default_tiles=current_app.config["TILES"], other_lang="en" if lang == "zh" else "zh",
                           version=_asset_version())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    return response


def init_app(app: Flask) -> None:
    """Register the embed blueprint on ``app``."""
    app.register_blueprint(bp)
