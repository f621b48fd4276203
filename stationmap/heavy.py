"""The heavy answers of the web API as job functions for :mod:`stationmap.jobs`.

Each function takes the dataset first (the pool's context) and plain, picklable arguments,
and returns the bytes to send: results cross a process boundary, so they are made small
here (a coverage answer's cells are hundreds of MB of objects; its CSV is kilobytes).

A pool worker keeps the last few coverage answers (:class:`~stationmap.planner.AnswerCache`,
bounded by count and bytes), so the planner page's JSON, then its CSV, then its picture, reuse
one report when they land on the same worker; finished *bytes* are kept per server by the
pool itself.
"""

from __future__ import annotations

import gc
import json
from typing import Any

from . import jobs, planner, reports
from .coverage import Threshold
from .dataset import Dataset, LiveDataset

#: Coverage answers kept per process (each can be tens of MB: the cells of the report).
ANSWERS = planner.AnswerCache(4, max_bytes=400 * 2**20)


def _current(data: Dataset | LiveDataset) -> Dataset:
    """The register to answer from: the pool's context is the app's :class:`LiveDataset`."""
    return data.current if isinstance(data, LiveDataset) else data


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def coverage_body(data: Dataset | LiveDataset, question: planner.Question, f: str, lang: str, coordsys: str,
                  tiles: str = "osm", tianditu_key: str = "", *, cache: planner.AnswerCache | None = None) -> bytes:
    """``GET /api/v1/coverage``'s answer in format ``f`` (json, geojson, csv, xlsx, html, cells:
    the heat layer, sites-csv/-xlsx/-geojson: the recommended sites with their details);
    ``cache``: where answers are kept (default: this process's :data:`ANSWERS`).
    """
    data = _current(data)
    jobs.progress("coverage", None)
    answer = (cache or ANSWERS).get(question, data.index, jobs.progress)
    jobs.progress("formatting", None)
    if f == "csv":
        return reports.coverage_csv(answer.report, lang)
    if f == "xlsx":
        return reports.coverage_xlsx(answer.report, lang)
    if f == "html":
        from .maps.html import coverage_map, map_html

        m = coverage_map(answer.report, answer.districts, data.index, tile_provider=tiles, lang=lang,
                         tianditu_key=tianditu_key, sites=answer.sites)
        return map_html(m).encode("utf-8")
    if f == "geojson":
        return _json_bytes(reports.gaps_geojson(answer.report, lang, coordsys))
    if f == "cells":
        from .heat import heat_payload

        return _json_bytes(heat_payload(answer.report, coordsys))
    from .sites import SITE_FORMATS, site_details, site_file

    table = (site_details(answer.sites, answer.districts, data.index, answer.report.filters, lang)
             if answer.sites is not None else None)
    if f in SITE_FORMATS:
        return site_file(table, answer.report.assumptions(lang), f, lang, coordsys)
    threshold = question.threshold
    query = {"adcode": question.adcode, "mode": threshold.mode, "minutes": threshold.minutes,
             "radius_m": round(threshold.radius_m, 1), "at": question.at.isoformat() if question.at else None,
             "recommend": question.recommend, "lang": lang, "coordsys": coordsys, "max_cells": question.max_cells,
             "demand": None if question.demand is None else {
                 "file": question.demand.name, "points": len(question.demand),
                 "weight": round(float(question.demand.weight.sum()), 3), "sha256": question.demand.digest}}
    return _json_bytes(planner.summary(answer, lang=lang, coordsys=coordsys, version=data.version,
                                       stations=data.count, query=query, sites=table))


#: What the planner page draws from one question (its table, heat layer and the gaps' edges) and
#: the tables it offers to download: with a demand upload, the job is the only place they exist.
PAGE_PARTS = ("json", "cells", "geojson", "csv", "xlsx")


def coverage_parts(data: Dataset | LiveDataset, question: planner.Question, lang: str, coordsys: str,
                   tiles: str = "osm", tianditu_key: str = "") -> dict[str, bytes]:
    """The page's answers (:data:`PAGE_PARTS`) from one computation, as one job: the three
    are made in the same worker process, so a long question is computed once, and its
    progress and cancel cover everything the page waits for.
    """
    return {f: coverage_body(data, question, f, lang, coordsys, tiles, tianditu_key) for f in PAGE_PARTS}


def picture_body(data: Dataset | LiveDataset, fmt: str, adcode: str, layer: str, types: tuple[str, ...],
                 title: str | None, lang: str, width: int, max_cells: int, *,
                 cache: planner.AnswerCache | None = None) -> bytes:
    """A map picture (``/api/v1/maps/image.*``); the coverage layer draws 15 minutes' walk."""
    data = _current(data)
    from .districts import load_districts
    from .maps.picture import render_picture

    report = None
    if layer == "coverage":
        jobs.progress("coverage", None)
        question = planner.Question(adcode=adcode, threshold=Threshold.walking(15), max_cells=max_cells,
                                    version=data.version)
        report = (cache or ANSWERS).get(question, data.index).report
    jobs.progress("drawing", None)
    try:
        return render_picture(load_districts(adcode), data, layer=layer, types=types, title=title, lang=lang,
                              width=width, fmt=fmt, adcode=adcode, report=report)
    finally:
        gc.collect()                      # a drawing's objects are cyclic: give their memory back now
