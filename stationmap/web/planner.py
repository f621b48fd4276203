"""The planner's page and API: ``GET /api/v1/coverage`` and the ``/coverage`` page.

The view parses parameters, asks the app's :class:`~stationmap.planner.AnswerCache`, and sends
the answer in the asked format; computing and caching live in :mod:`stationmap.planner`,
files in :mod:`stationmap.reports` and :mod:`stationmap.maps.html`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template

from .. import planner, reports, scenarios, sites, vocab
from ..coverage import Threshold
from ..districts import outlines
from ..heavy import PAGE_PARTS, coverage_body, coverage_parts
from ..maps.style import COVERAGE_CLASSES, palette
from ..texts import PLANNER
from . import heavy
from ._common import (
    ApiBlueprint,
    content_language,
    current_dataset,
    language,
    openapi,
    page_language,
    served_adcode,
    tile_settings,
)
from .schemas import CoverageArgs, CoverageResponseSchema, HeatCellsSchema

CACHE = "stationmap.coverage"
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html", "geojson": "application/geo+json", "json": "application/json",
             "cells": "application/json"}

#: The per-district changes the page shows when two scenarios are compared (all are in the downloads).
CHANGE_COLUMNS = ("name", "area_covered_pct_a", "area_covered_pct_b", "area_covered_pct_delta",
                  "population_covered_a", "population_covered_b", "population_covered_delta", "gained_km2", "lost_km2")

bp = ApiBlueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage by district for union planners.")
pages = Blueprint("coverage_page", __name__)


def _cache() -> planner.AnswerCache:
    extensions = current_app.extensions
    if CACHE not in extensions:
        extensions[CACHE] = planner.AnswerCache(int(current_app.config["COVERAGE_CACHE_SIZE"]))
    return extensions[CACHE]


def answer_cache() -> planner.AnswerCache:
    """The coverage answers of this worker, when heavy work runs in the request (no pool): shared
    with the pictures' coverage layer.
    """
    return _cache()


def question_for(args: dict[str, Any]) -> planner.Question:
    """The coverage question a request's parsed parameters ask (shared with the job routes)."""
    adcode = served_adcode(args["adcode"])
    threshold = (Threshold.radius(args["radius_m"]) if args["radius_m"] is not None
                 else Threshold.walking(args["minutes"] if args["minutes"] is not None else 15, args["mode"]))
    return planner.Question(adcode=adcode, threshold=threshold, at=planner.parse_at(args["at"]),
                            recommend=args["recommend"], max_cells=int(current_app.config["COVERAGE_MAX_CELLS"]),
                            version=current_dataset().version)


def page_key(question: planner.Question, lang: str, coordsys: str, tiles: str, key: str) -> tuple:
    """The pool's key of the page's answers (:func:`stationmap.heavy.coverage_parts`) to ``question``."""
    return ("coverage-page", question, lang, coordsys, tiles, key)


def walking_answer(adcode: str) -> planner.Answer:
    """The default question's answer (15 minutes' walk, any time) for ``adcode``, from the same
    cache as the API's: what the coverage picture draws.
    """
    data = current_dataset()
    return _cache().get(planner.Question(adcode=adcode, threshold=Threshold.walking(15),
                                         max_cells=int(current_app.config["COVERAGE_MAX_CELLS"]),
                                         version=data.version), data.index)


def _attachment(body: bytes | str, f: str, stem: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[f])
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{f}"'
    return response


_FORMATS = {"description": "OK", "content": {
    # f=json (the table) or f=cells (the heat layer): both are JSON.
    "application/json": {"schema": {"oneOf": [CoverageResponseSchema, HeatCellsSchema]}},
    "application/geo+json": {"schema": {"type": "object", "description": "GeoJSON FeatureCollection of the gaps"}},
    "text/csv": {"schema": {"type": "string"}},
    MIMETYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    "text/html": {"schema": {"type": "string", "description": "self-contained map"}}}}


@bp.route("/coverage")
@bp.arguments(CoverageArgs(), location="query", as_kwargs=False)
@bp.response(200, CoverageResponseSchema)
@bp.doc(responses={"200": _FORMATS})
def coverage(args):
    """Coverage by district: stations, covered shares, distances, largest gaps, new sites

    Covered means within reach (`minutes` by `mode`, or `radius_m` in a straight line) of a
    station open at `at`. `f` picks the answer: the JSON table, the gaps as GeoJSON, the CSV or
    Excel file of `stationmap coverage`, or its HTML map. Answers are cached per worker.
    """
    question = question_for(args)
    lang = language(args["lang"])
    f, coordsys = args["f"], args["coordsys"]
    tiles, key = current_app.config["TILES"], current_app.config["TIANDITU_KEY"]
    if f in PAGE_PARTS and heavy.pool() is not None:
        # The page's three answers are one job in the pool (the one /api/v1/coverage/jobs starts):
        # computed once, in one process, whichever of them is asked first.
        body = heavy.run(page_key(question, lang, coordsys, tiles, key), coverage_parts,
                         (question, lang, coordsys, tiles, key))[f]
    else:
        body = heavy.run(("coverage", question, f, lang, coordsys, tiles, key), coverage_body,
                         (question, f, lang, coordsys, tiles, key), cache=_cache())
    stem = planner.file_stem(question)
    if f in ("csv", "xlsx"):
        return _attachment(body, f, stem)
    if f == "html":
        return _attachment(body, f, stem.replace("coverage-", "coverage-map-", 1))
    if f in sites.SITE_FORMATS:
        threshold = question.threshold
        kind = sites.SITE_FORMATS[f]
        response = _attachment(body, kind, sites.sites_stem(question.adcode, threshold.mode, threshold.minutes,
                                                            threshold.radius_m, question.at))
        if kind == "geojson":
            response.mimetype = "application/geo+json"
        return response
    return Response(body, mimetype=MIMETYPES[f])


@pages.get("/coverage")
def coverage_page() -> Response:
    """The planners' coverage page: the map, the table and the downloads."""
    lang = page_language()
    layer = tile_settings()
    data = current_dataset()
    area = str(current_app.config["DISTRICTS_ADCODE"])
    which = 0 if lang == "zh" else 1
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": (f["properties"]["name"] if lang == "zh"
                           else f["properties"]["name_en"] or f["properties"]["name"])}
                 for f in outlines(area)["features"]]
    columns = [{"key": key, "label": label[which]} for key, label in reports.HEADERS.items()]
    changes = [{"key": key, "label": scenarios.COLUMNS[key][which]} for key in CHANGE_COLUMNS]
    text = dict(PLANNER[lang])
    newest = data.register_version          # None: a stations file, which has no earlier versions
    text["version_now"] = text["no_history"] if newest is None else text["version_now"].format(n=newest)
    text["bad_b_version"] = text["no_history"] if newest is None else text["bad_b_version"].format(n=newest)
    settings = {"lang": lang, "text": text, "tiles": layer, "area": area, "districts": districts,
                "register_version": newest,
                "columns": columns, "changes": changes, "classes": COVERAGE_CLASSES, "palette": palette(),
                "jobs": heavy.pool() is not None,
                "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES}}
    html = render_template("coverage.html", lang=lang, text=text, settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    return response


def init_app(app: Flask) -> None:
    """Register the planner page and API on ``app``."""
    openapi(app).register_blueprint(bp)
    app.register_blueprint(pages)

