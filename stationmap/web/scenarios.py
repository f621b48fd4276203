"""Scenarios side by side on the web: ``GET /api/v1/coverage/compare``.

Scenario A is asked as ``/api/v1/coverage`` asks a question (area, mode, minutes, time);
scenario B is A with what the planner changes (``b_mode``, ``b_minutes``, ``b_at``) and,
with ``b_sites``, that many recommended sites added; with ``b_version``, B is asked of the
register as it stood at that register version (today vs an earlier version; it combines with
the other B fields), read from the store by replaying history backwards
(:mod:`stationmap.store.past`) and kept per process for the next question; that comparison
runs in the request's worker, not the pool (see :func:`compare`). The comparison itself is
:mod:`stationmap.scenarios`; it runs in the server's bounded heavy-work pool
(:func:`stationmap.web.heavy.run`), once per server for the same question on the same
register version, like every heavy answer.
"""

from __future__ import annotations

import dataclasses

from flask import Flask, Response

from .. import planner, scenarios
from ..coverage import Threshold
from ..dataset import register_label
from ..heavy import compare_body
from ..store.past import check_version
from . import heavy
from ._common import ApiBlueprint, current_dataset, language, openapi
from .editing import store as current_store
from .planner import MIMETYPES, answer_cache, question_for
from .schemas import CompareArgs, CompareResponseSchema

bp = ApiBlueprint("coverage_compare", __name__, url_prefix="/api/v1",
                  description="Two coverage questions side by side: cells gained and lost, per-district changes.")

_FORMATS = {"description": "OK", "content": {
    "application/json": {"schema": {"anyOf": [CompareResponseSchema,
                                              {"type": "object", "description": "f=cells: the difference map"}]}},
    "application/geo+json": {"schema": {"type": "object",
                                        "description": "GeoJSON FeatureCollection of the gained and lost cells"}},
    "text/csv": {"schema": {"type": "string"}},
    MIMETYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}


def questions(args: dict) -> tuple[planner.Question, planner.Question]:
    """Scenario A's question and B's (A with B's changes), from the parsed parameters."""
    a = question_for({**args, "radius_m": None, "recommend": 0})
    mode = args["b_mode"] or a.threshold.mode or "walk"
    minutes = args["b_minutes"] if args["b_minutes"] is not None else a.threshold.minutes
    at = a.at if args["b_at"] is None else planner.parse_at(args["b_at"])
    b = dataclasses.replace(a, threshold=Threshold.walking(minutes if minutes is not None else 15, mode), at=at)
    if args.get("b_version") is not None:
        b = dataclasses.replace(b, version=register_label(args["b_version"]))
    return a, b


@bp.route("/coverage/compare")
@bp.arguments(CompareArgs(), location="query", as_kwargs=False)
@bp.response(200, CompareResponseSchema)
@bp.doc(responses={"200": _FORMATS})
def compare(args):
    """Compare two coverage questions: day vs night, 10 vs 15 minutes, new sites, an earlier register

    Both are measured on one H3 grid (the finer of the two), so every cell is gained, lost,
    covered in both or a gap in both. `f` picks the answer: the per-district changes as JSON
    (shares and people covered in A and B, and the deltas), the difference map (`cells`), the
    changed cells as GeoJSON, or the table as CSV or Excel. With `b_version`, B is asked of the
    register as it stood at that version (with any other `b_` changes), and the files' names
    carry both versions (`…-walk15-v131-vs-walk15-v118.csv`).
    """
    a, b = questions(args)
    lang, f, coordsys = language(args["lang"]), args["f"], args["coordsys"]
    version, store = args["b_version"], current_store()
    now_version = None
    if version is not None:
        check_version(version, None if store is None else store.register_version(), "b_version")
        now_version = current_dataset().register_version
    if version is None:
        body = heavy.run(("compare", a, b, args["b_sites"], f, lang, coordsys), compare_body,
                         (a, b, args["b_sites"], f, lang, coordsys), cache=answer_cache())
    else:
        # Not in the pool: its workers are forked from a process whose watcher thread uses SQLite,
        # and libsqlite3's own mutexes can be inherited locked (a first read of the past register
        # there hung about one time in three). This request worker was forked before any such
        # thread ran, as every store read of the web layer is; the past register is kept here.
        body = compare_body(current_dataset(), a, b, args["b_sites"], f, lang, coordsys, version, store=store,
                            cache=answer_cache())
    if f in ("json", "cells"):
        return Response(body, mimetype=MIMETYPES["json"])
    stem = scenarios.file_stem(a.adcode, scenarios.Side(a.threshold, a.at, register=now_version),
                               scenarios.Side(b.threshold, b.at, register=version),
                               "changes" if f == "geojson" else "compare", b_sites=args["b_sites"])
    response = Response(body, mimetype="application/geo+json" if f == "geojson" else MIMETYPES[f])
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{f}"'
    return response


def init_app(app: Flask) -> None:
    """Register the comparison route on ``app``."""
    openapi(app).register_blueprint(bp)
