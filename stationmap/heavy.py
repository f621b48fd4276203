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

import dataclasses
import gc
import json
import threading
from collections import OrderedDict
from typing import Any

from . import jobs, planner, reports, scenarios
from .coverage import Threshold
from .dataset import Dataset, LiveDataset, china_today

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


#: Earlier register versions kept per process (:func:`past_register`), newest use last: each is a
#: whole index (about as much memory as the current one), so only two.
PAST_KEPT = 2
_PAST: OrderedDict[tuple, Dataset] = OrderedDict()
_PAST_LOCK = threading.Lock()


def past_register(data: Dataset | LiveDataset, version: int, store: Any = None, *,
                  field: str = "b_version") -> Dataset:
    """The register as it stood at register ``version`` (:meth:`Dataset.as_of`), kept per process
    for the next question (:data:`PAST_KEPT`, per store, version and day: a past version never
    changes, but a station closed until a date reopens on that day, as today's register answers it).

    ``store``: where to read it. Never call this in a pool worker: those are forked from a process
    whose watcher thread uses the store, and a SQLite library mutex inherited locked hangs the
    read (the web layer answers ``b_version`` in the request's worker). Without a store (a
    stations file) or for a version the register never had, an
    :class:`~stationmap.errors.InputError` names ``field``.
    """
    from .store.past import check_version

    if store is None:
        check_version(version, None, field)
    current, today = _current(data), china_today()
    key = (str(store.engine.url), version, today)
    with _PAST_LOCK:
        if key in _PAST:
            _PAST.move_to_end(key)
            return _PAST[key]
        jobs.progress("past_register", None, version=version)
        past = Dataset.as_of(store, version, current=current, field=field, today=today)
        _PAST[key] = past
        while len(_PAST) > PAST_KEPT:
            _PAST.popitem(last=False)
        return past


#: Comparisons kept per process (:func:`comparison`): the page asks for a comparison's table and
#: its difference map one after the other.
_COMPARISONS: OrderedDict[tuple, tuple] = OrderedDict()
_COMPARING = threading.Lock()


def comparison(data: Dataset | LiveDataset, a: planner.Question, b: planner.Question, b_sites: int, *,
               b_version: int | None = None, store: Any = None,
               cache: planner.AnswerCache | None = None) -> tuple[scenarios.Comparison, planner.Answer | None]:
    """Question ``a`` against ``b`` (the same area), with ``b_sites`` sites recommended for ``b``
    added to it; and the answer those sites came from. Kept for the next request (two per process).

    ``b_version``: ``b`` is asked of the register as it stood at that version (sites included),
    read from ``store`` (see :func:`past_register`).
    """
    current = _current(data)
    b_data = current if b_version is None else past_register(data, b_version, store)
    key = (current.index.serial, b_data.index.serial, a, b, b_sites)
    with _COMPARING:
        if key in _COMPARISONS:
            _COMPARISONS.move_to_end(key)
            return _COMPARISONS[key]
        with_sites = None
        side_a = scenarios.Side(a.threshold, a.at, register=None if b_version is None else current.register_version)
        side_b = scenarios.Side(b.threshold, b.at, register=b_version)
        if b_sites:
            with_sites = (cache or ANSWERS).get(dataclasses.replace(b, recommend=b_sites), b_data.index,
                                                jobs.progress)
            sites = with_sites.sites
            if sites is not None and len(sites):
                side_b = dataclasses.replace(side_b, sites_lon=tuple(map(float, sites["lon"])),
                                             sites_lat=tuple(map(float, sites["lat"])))

        def sampling(done: int, total: int, cells: int = 0) -> None:
            jobs.progress("sampling", done / total, districts=done, total=total)

        from .districts import load_districts

        jobs.progress("comparing", None)
        result = scenarios.compare(load_districts(a.adcode), current.index, side_a, side_b, max_cells=a.max_cells,
                                   progress=sampling, b_index=b_data.index), with_sites
        _COMPARISONS[key] = result
        while len(_COMPARISONS) > 2:
            _COMPARISONS.popitem(last=False)
        return result


def compare_body(data: Dataset | LiveDataset, a: planner.Question, b: planner.Question, b_sites: int, f: str,
                 lang: str, coordsys: str, b_version: int | None = None, *, store: Any = None,
                 cache: planner.AnswerCache | None = None) -> bytes:
    """``GET /api/v1/coverage/compare``'s answer in format ``f`` (json, cells: the difference map,
    geojson: the changed cells, csv, xlsx: the per-district changes); ``b_version``: B is asked
    of the register as it stood at that version, read from ``store`` in this process (see
    :func:`past_register`: never in a pool worker).
    """
    current = _current(data)
    found, with_sites = comparison(data, a, b, b_sites, b_version=b_version, store=store, cache=cache)
    jobs.progress("formatting", None)
    if f == "csv":
        return scenarios.changes_csv(found, lang)
    if f == "xlsx":
        return scenarios.changes_xlsx(found, lang)
    if f == "geojson":
        return _json_bytes(scenarios.difference_geojson(found, lang, coordsys))
    if f == "cells":
        return _json_bytes(scenarios.difference_payload(found, coordsys))
    sites: list = []
    if with_sites is not None and with_sites.sites is not None:
        from .sites import site_details

        b_index = current.index if b_version is None else past_register(data, b_version, store).index
        table = site_details(with_sites.sites, with_sites.districts, b_index, with_sites.report.filters, lang)
        sites = planner.summary(with_sites, lang=lang, coordsys=coordsys, sites=table)["recommendations"]
    rows = [{key: planner.plain(value) for key, value in record.items()}
            for record in found.table.to_dict(orient="records")]
    described = {"a": found.a, "b": found.b}
    return _json_bytes({
        "query": {"adcode": a.adcode, "lang": lang, "coordsys": coordsys, "max_cells": a.max_cells, "b_sites": b_sites,
                  "b_version": b_version},
        "scenarios": {k: {"mode": q.threshold.mode, "minutes": q.threshold.minutes,
                          "radius_m": round(q.threshold.radius_m, 1), "at": q.at.isoformat() if q.at else None,
                          "sites": len(described[k].sites_lon), "label": described[k].describe(lang),
                          "register_version": described[k].register or current.register_version}
                      for k, q in (("a", a), ("b", b))},
        "assumptions": found.assumptions(lang),
        "dataset": {"version": current.version, "stations": current.count,
                    "register_version": current.register_version},
        "districts": rows, "totals": scenarios.totals(found), "legend": scenarios.legend(lang), "sites": sites})


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
