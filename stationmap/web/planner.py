"""The planner's page and API: ``GET /api/v1/coverage`` and the ``/coverage`` page.

The view parses parameters, asks the app's :class:`~stationmap.planner.AnswerCache`, and sends
the answer in the asked format; computing and caching live in :mod:`stationmap.planner`,
files in :mod:`stationmap.reports` and :mod:`stationmap.render`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template

from .. import planner, reports, vocab
from ..coverage import Threshold
from ..districts import outlines
from ..texts import PLANNER
from ..render import COVERAGE_CLASSES, coverage_map, map_html
from ._common import (ApiBlueprint, content_language, current_dataset, json_response, language, openapi, page_language,
                      served_adcode, tile_settings)
from .schemas import CoverageArgs, CoverageResponseSchema

CACHE = "stationmap.coverage"
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html", "geojson": "application/geo+json", "json": "application/json"}

bp = ApiBlueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage by district for union planners.")
pages = Blueprint("coverage_page", __name__)


def _cache() -> planner.AnswerCache:
    extensions = current_app.extensions
    if CACHE not in extensions:
        extensions[CACHE] = planner.AnswerCache(int(current_app.config["COVERAGE_CACHE_SIZE"]))
    return extensions[CACHE]


def _question(args: dict[str, Any]) -> planner.Question:
    adcode = served_adcode(args["adcode"])
    threshold = (Threshold.radius(args["radius_m"]) if args["radius_m"] is not None
                 else Threshold.walking(args["minutes"] if args["minutes"] is not None else 15, args["mode"]))
    return planner.Question(adcode=adcode, threshold=threshold, at=planner.parse_at(args["at"]),
                            recommend=args["recommend"], max_cells=int(current_app.config["COVERAGE_MAX_CELLS"]),
                            version=current_dataset().version)


def walking_answer(adcode: str) -> planner.Answer:
    """The default question's answer (15 minutes' walk, any time) for ``adcode``, from the same
    cache as the API's: what the coverage picture draws."""
    data = current_dataset()
    return _cache().get(planner.Question(adcode=adcode, threshold=Threshold.walking(15),
                                         max_cells=int(current_app.config["COVERAGE_MAX_CELLS"]),
                                         version=data.version), data.index)


def _attachment(body: bytes | str, f: str, stem: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[f])
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{f}"'
    return response


_FORMATS = {"description": "OK", "content": {
    "application/json": {"schema": CoverageResponseSchema},
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
    data = current_dataset()
    question = _question(args)
    answer = _cache().get(question, data.index)
    lang = language(args["lang"])
    f, coordsys = args["f"], args["coordsys"]
    stem = planner.file_stem(question)
    if f == "csv":
        return _attachment(reports.coverage_csv(answer.report, lang), f, stem)
    if f == "xlsx":
        return _attachment(reports.coverage_xlsx(answer.report, lang), f, stem)
    if f == "html":
        m = coverage_map(answer.report, answer.districts, data.index, tile_provider=current_app.config["TILES"], lang=lang,
                         tianditu_key=current_app.config["TIANDITU_KEY"], sites=answer.sites)
        return _attachment(map_html(m), f, stem.replace("coverage-", "coverage-map-", 1))
    if f == "geojson":
        return json_response(reports.gaps_geojson(answer.report, lang, coordsys), mimetype="application/geo+json")
    threshold = question.threshold
    query = {"adcode": question.adcode, "mode": threshold.mode, "minutes": threshold.minutes,
             "radius_m": round(threshold.radius_m, 1), "at": question.at.isoformat() if question.at else None,
             "recommend": question.recommend, "lang": lang, "coordsys": coordsys, "max_cells": question.max_cells}
    return json_response(planner.summary(answer, lang=lang, coordsys=coordsys, version=data.version,
                                 stations=data.count, query=query))




@pages.get("/coverage")
def coverage_page() -> Response:
    lang = page_language()
    layer = tile_settings()
    data = current_dataset()
    area = str(current_app.config["DISTRICTS_ADCODE"])
    which = 0 if lang == "zh" else 1
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": f["properties"]["name"] if lang == "zh" else (f["properties"]["name_en"] or f["properties"]["name"])}
                 for f in outlines(area)["features"]]
    columns = [{"key": key, "label": label[which]} for key, label in reports.HEADERS.items()]
    settings = {"lang": lang, "text": PLANNER[lang], "tiles": layer, "area": area, "districts": districts,
                "columns": columns, "classes": COVERAGE_CLASSES,
                "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES}}
    html = render_template("coverage.html", lang=lang, text=PLANNER[lang], settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = content_language(lang)
    return response


def init_app(app: Flask) -> None:
    openapi(app).register_blueprint(bp)
    app.register_blueprint(pages)

