"""Map pictures for articles that cannot embed a live map: ``/api/v1/maps/image.png|svg``.

Drawn without any tile server (:mod:`stationmap.maps.picture`), kept in memory per worker (a second
or more each to draw) and cached by browsers and proxies by ETag: an article's readers arrive
together.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, current_app, request

from .. import __version__
from ..errors import InputError
from ..heavy import picture_body
from . import heavy
from ._common import ApiBlueprint, current_dataset, language, openapi, served_adcode
from .planner import answer_cache
from .schemas import MapImageArgs

bp = ApiBlueprint("pictures", __name__, url_prefix="/api/v1",
                  description="Map pictures (PNG, SVG) for articles.")

#: Pictures are cached by browsers and proxies for an hour: an article's readers arrive together.
IMAGE_MAX_AGE = 3600
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _picture(version: str, fmt: str, adcode: str, layer: str, types: tuple[str, ...], title: str | None,
             lang: str, width: int) -> bytes:
    """A picture from the server's heavy-work pool (:mod:`stationmap.web.heavy`), which keeps
    the last few drawn for every worker, bounded by count and bytes (a second or more each to
    draw). The coverage layer's report comes from the planner's cache, under its cell budget.
    """
    args = (fmt, adcode, layer, types, title, lang, width, int(current_app.config["COVERAGE_MAX_CELLS"]))
    return heavy.run(("picture", version, *args), picture_body, args, cache=answer_cache())


def _image(args: dict[str, Any], fmt: str) -> Response:
    data = current_dataset()
    adcode = served_adcode(args["adcode"])
    widest = int(current_app.config["IMAGE_MAX_WIDTH"])
    if args["width"] > widest:
        raise InputError(f"at most {widest} pixels on this server (`stationmap export-image` draws up to 6000)",
                         field="width")
    key = (data.version, fmt, adcode, args["layer"], tuple(sorted(set(args["type"]))), args["title"],
           language(args["lang"]), args["width"])
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


def init_app(app: Flask) -> None:
    """Register the picture endpoints on ``app``."""
    openapi(app).register_blueprint(bp)
