"""The planner's coverage: ``GET /api/v1/coverage`` and the ``/coverage`` page.

The view parses parameters, asks the app's :class:`~stationmap.planner.AnswerCache`, and sends
the answer in the asked format; computing and caching live in :mod:`stationmap.planner`,
files in :mod:`stationmap.reports` and :mod:`stationmap.render`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint as PageBlueprint
from flask import Response, current_app, render_template

from .. import planner, reports, vocab
from ..coverage import Threshold
from ..districts import area_codes, outlines
from ..errors import InputError
from ..heavy import coverage_body
from ..render import COVERAGE_CLASSES
from . import dataset, heavy
from .api import _Blueprint
from .pages import page_language, tile_settings
from .schemas import CoverageArgs, CoverageResponseSchema

CACHE = "stationmap.coverage"
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html", "geojson": "application/geo+json", "json": "application/json"}

bp = _Blueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage by district for union planners.")
pages = PageBlueprint("coverage_page", __name__)


def _cache() -> planner.AnswerCache:
    extensions = current_app.extensions
    if CACHE not in extensions:
        extensions[CACHE] = planner.AnswerCache(int(current_app.config["COVERAGE_CACHE_SIZE"]))
    return extensions[CACHE]


def _question(args: dict[str, Any]) -> planner.Question:
    area = str(current_app.config["DISTRICTS_ADCODE"])
    adcode = args["adcode"] or area
    if adcode not in area_codes(area):
        raise InputError(f"{adcode!r} is neither this service's area ({area}) nor one of its districts", field="adcode")
    threshold = (Threshold.radius(args["radius_m"]) if args["radius_m"] is not None
                 else Threshold.walking(args["minutes"] if args["minutes"] is not None else 15, args["mode"]))
    return planner.Question(adcode=adcode, threshold=threshold, at=planner.parse_at(args["at"]),
                            recommend=args["recommend"], max_cells=int(current_app.config["COVERAGE_MAX_CELLS"]),
                            version=dataset().version)


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
    question = _question(args)
    lang = args["lang"] or current_app.config["DEFAULT_LANG"]
    f, coordsys = args["f"], args["coordsys"]
    tiles, key = current_app.config["TILES"], current_app.config["TIANDITU_KEY"]
    body = heavy.run(("coverage", question, f, lang, coordsys, tiles, key), coverage_body,
                     (question, f, lang, coordsys, tiles, key), cache=_cache())
    stem = planner.file_stem(question)
    if f in ("csv", "xlsx"):
        return _attachment(body, f, stem)
    if f == "html":
        return _attachment(body, f, stem.replace("coverage-", "coverage-map-", 1))
    return Response(body, mimetype=MIMETYPES[f])


#: Every string the planner page shows, in both languages.
TEXT = {
    "zh": {"title": "工会驿站覆盖分析", "subtitle": "给规划人员：哪里缺站点、建在哪里", "switch": "English",
           "area": "范围", "whole": "全市", "mode": "出行方式", "walk": "步行", "ebike": "电动车",
           "minutes": "分钟", "at": "时间（留空=任何时间）", "recommend": "建议新建站点数", "apply": "计算",
           "computing": "正在计算…", "done": "已完成：{n} 个区", "error": "计算失败",
           "show_stations": "显示站点", "downloads": "下载", "csv": "CSV 表格", "xlsx": "Excel 表格",
           "geojson": "空白区 GeoJSON", "html": "HTML 地图", "totals": "合计", "covered": "面积覆盖率",
           "gaps": "未覆盖区域", "sites": "建议新建站点", "site": "建议站点", "gain": "新增覆盖人口",
           "stations": "站点", "table_label": "各区覆盖率（点击表头排序）", "map_label": "覆盖地图",
           "no_tiles": "离线底图：只显示区界。", "worker_page": "找附近站点"},
    "en": {"title": "Union station coverage", "subtitle": "For planners: where stations are missing, where to build",
           "switch": "中文", "area": "Area", "whole": "Whole city", "mode": "Travel mode", "walk": "Walk",
           "ebike": "E-bike", "minutes": "Minutes", "at": "Time of day (empty = any time)",
           "recommend": "New sites to propose", "apply": "Compute", "computing": "Computing…",
           "done": "Done: {n} district(s)", "error": "The computation failed", "show_stations": "Show stations",
           "downloads": "Download", "csv": "CSV table", "xlsx": "Excel table", "geojson": "Gaps GeoJSON",
           "html": "HTML map", "totals": "Total", "covered": "Area covered", "gaps": "Uncovered area",
           "sites": "Recommended sites", "site": "Site", "gain": "Residents added", "stations": "Stations",
           "table_label": "Coverage by district (click a header to sort)", "map_label": "Coverage map",
           "no_tiles": "Offline base map: district outlines only.", "worker_page": "Find a station"},
}


@pages.get("/coverage")
def coverage_page() -> Response:
    lang = page_language()
    layer = tile_settings()
    data = dataset()
    area = str(current_app.config["DISTRICTS_ADCODE"])
    which = 0 if lang == "zh" else 1
    districts = [{"adcode": f["properties"]["adcode"],
                  "name": f["properties"]["name"] if lang == "zh" else (f["properties"]["name_en"] or f["properties"]["name"])}
                 for f in outlines(area)["features"]]
    columns = [{"key": key, "label": label[which]} for key, label in reports.HEADERS.items()]
    settings = {"lang": lang, "text": TEXT[lang], "tiles": layer, "area": area, "districts": districts,
                "columns": columns, "classes": COVERAGE_CLASSES,
                "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES}}
    html = render_template("coverage.html", lang=lang, text=TEXT[lang], settings=settings,
                           other_lang="en" if lang == "zh" else "zh", version=data.version)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    return response


def init_app(app, api) -> None:
    api.register_blueprint(bp)
    app.register_blueprint(pages)

