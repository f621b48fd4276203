"""The planner's coverage questions, answered once and kept for the next request.

A coverage page asks the same question several times in a row (the table, the gaps, then a
download or two), and a Shanghai report costs seconds, so finished answers are kept in a small
LRU (:class:`AnswerCache`) keyed by everything that changes them: area, radius, mode, the
minute of ``at``, the number of new sites, the cell budget and the dataset's version. One
lock per cache means a process computes one report at a time: the work a server does is
bounded by the cell budget (``max_cells``) times its workers, however many requests arrive.

:func:`summary` turns an answer into the JSON of ``GET /api/v1/coverage``; the files come from
:mod:`stationmap.reports` and :mod:`stationmap.maps.html`. Nothing here knows about HTTP.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import coords, hours
from .coverage import CoverageReport, Threshold, coverage_report, demand_covered
from .demand_files import DemandPoints
from .districts import load_districts
from .errors import InputError
from .index import StationIndex
from .reports import ordered

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def parse_at(value: str | None, now: datetime | None = None) -> datetime | None:
    """``HH:MM`` (today, China Standard Time) or ISO 8601, floored to the minute; empty: any time.

    Opening hours have minute resolution, so flooring changes no answer and lets answers be shared.

    Examples
    --------
    >>> parse_at("02:00", now=hours.parse_when("2026-11-24T15:31")).isoformat()
    '2026-11-24T02:00:00+08:00'
    >>> parse_at("25:00")
    Traceback (most recent call last):
    ...
    stationmap.errors.InputError: field 'at': '25:00' is not a time of day (00:00–23:59)
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    clock = _CLOCK.fullmatch(text)
    if clock:
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23 or minute > 59:
            raise InputError(f"{text!r} is not a time of day (00:00–23:59)", field="at")
        today = (now or hours.parse_when("now")).astimezone(hours.TIMEZONE)
        return today.replace(hour=hour, minute=minute, second=0, microsecond=0)
    try:
        moment = hours.parse_when(text)
    except ValueError:
        raise InputError(f"{text!r} is neither HH:MM nor an ISO 8601 date-time (e.g. 02:00 or "
                         "2026-11-24T02:00)", field="at") from None
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Question:
    """Everything that changes a coverage answer (and nothing that only changes its wording)."""

    adcode: str
    threshold: Threshold
    at: datetime | None = None
    recommend: int = 0
    max_cells: int = 400_000
    version: str = ""
    #: Demand the planner brought (:mod:`stationmap.demand_files`), keyed by its file's digest;
    #: ``None``: residents spread evenly over each district.
    demand: DemandPoints | None = None


@dataclass(frozen=True)
class Answer:
    """A computed coverage answer: the question, its districts, report and recommended sites."""

    question: Question
    districts: gpd.GeoDataFrame
    report: CoverageReport
    #: Recommended new sites (:func:`stationmap.recommend.recommend`), or ``None``.
    sites: pd.DataFrame | None
    #: With a demand layer: the whole area's figures on it (:func:`stationmap.coverage.demand_covered`).
    demand: dict[str, Any] | None = None


#: ``progress(stage, fraction, **detail)``: where a computation is (:func:`stationmap.jobs.progress`).
Progress = Callable[..., None]


def _quiet(stage: str, fraction: float | None = None, **detail: Any) -> None:
    """No one is watching."""


def compute(question: Question, index: StationIndex, progress: Progress | None = None) -> Answer:
    """The report (and sites) for ``question``, from scratch.

    ``progress`` hears the stages a planner waits through: ``districts`` (reading outlines),
    ``sampling`` (fraction of districts done, ``districts``/``total``/``cells`` sampled so
    far), then with sites ``solver`` (``limit_s``: the solver's time limit; the client counts
    the time) — so a long question can show a bar rather than "computing…".
    """
    say = progress or _quiet
    say("districts", 0.0)
    districts = load_districts(question.adcode)
    sampled = [0]

    def sampling(done: int, total: int, cells: int = 0) -> None:
        sampled[0] += cells
        say("sampling", done / total, districts=done, total=total, cells=sampled[0])

    say("sampling", 0.0, districts=0, total=len(districts), cells=0)
    demand = question.demand.frame() if question.demand is not None else None
    report = coverage_report(districts, index, question.threshold, at=question.at, max_cells=question.max_cells,
                             demand=demand, progress=sampling)
    sites = None
    if question.recommend:
        from .recommend import SOLVER_TIME_LIMIT_S, recommend

        say("solver", None, sites=question.recommend, cells=sampled[0], limit_s=SOLVER_TIME_LIMIT_S)
        sites = recommend(report, districts, question.recommend, demand=demand,
                          index=index if demand is not None else None)
    on_demand = demand_covered(demand, districts, index, report) if demand is not None else None
    return Answer(question, districts, report, sites, on_demand)


class AnswerCache:
    """The last ``size`` answers, least recently used dropped first; thread-safe.

    A cached answer is served at once, even while another question is being computed; a
    question already being computed is waited for, not computed twice; and a process computes
    one report at a time, so its work stays bounded by the cell budget.
    """

    def __init__(self, size: int = 6, max_bytes: int | None = None):
        self.size = size
        #: Bound on the answers' bytes (their cells and gaps): a Shanghai answer is tens of MB.
        self.max_bytes = max_bytes
        self._answers: OrderedDict[tuple[int, Question], Answer] = OrderedDict()
        self._pending: dict[tuple[int, Question], Future] = {}
        self._lock = threading.Lock()             # guards the two dicts, held only briefly
        self._computing = threading.Lock()        # one computation at a time
        #: How many answers were computed (not served from the cache): for tests and logs.
        self.computed = 0

    def get(self, question: Question, index: StationIndex, progress: Progress | None = None) -> Answer:
        """The answer to ``question`` over ``index``, computed once however many requests ask at once
        (``progress``: told the stages when it is computed here, see :func:`compute`).
        """
        # Keyed by the index's serial too (not the index, which the cache must not keep
        # alive): an answer about a swapped-out register is never served for the new one.
        key = (index.serial, question)
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()               # raises what the computation raised
        try:
            with self._computing:
                answer = compute(question, index) if progress is None else compute(question, index, progress)
        except BaseException as error:
            with self._lock:
                del self._pending[key]
            pending.set_exception(error)
            raise
        with self._lock:
            self.computed += 1
            self._answers[key] = answer
            while len(self._answers) > self.size or (
                    self.max_bytes is not None and len(self._answers) > 1
                    and sum(map(_answer_bytes, self._answers.values())) > self.max_bytes):
                self._answers.popitem(last=False)
            del self._pending[key]
        pending.set_result(answer)
        return answer


def _answer_bytes(answer: Answer) -> int:
    """About what ``answer`` holds in memory: its report's cells and gaps, its districts."""
    frames = [answer.report.cells, answer.report.gaps, answer.report.table, answer.districts]
    return int(sum(frame.memory_usage(deep=False).sum() for frame in frames if frame is not None))


def plain(value: Any) -> Any:
    """JSON-ready: NumPy scalars as Python numbers, NaN, inf and pandas' NA as ``None``."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _moved(lon: Any, lat: Any, coordsys: str) -> tuple[float | None, float | None]:
    if lon is None or lat is None or coordsys == "wgs84":
        return lon, lat
    x, y = coords.from_wgs84(float(lon), float(lat), coordsys)
    return round(float(x), 7), round(float(y), 7)


def _weighted(values: pd.Series, weights: pd.Series) -> float | None:
    known = values.notna() & weights.notna()
    total = float(weights[known].sum())
    return round(float((values[known] * weights[known]).sum()) / total, 2) if total > 0 else None


def totals(table: pd.DataFrame) -> dict[str, Any]:
    """The whole area: sums, and shares weighted by area (and by residents where known)."""
    population = table["population"]
    return {
        "stations": int(table["stations"].sum()),
        "area_km2": round(float(table["area_km2"].sum()), 3),
        "population": int(population.sum()) if population.notna().all() else None,
        "area_covered_pct": _weighted(table["area_covered_pct"].astype(float), table["area_km2"].astype(float)),
        "population_covered_pct": _weighted(table["population_covered_pct"].astype(float),
                                            pd.to_numeric(population, errors="coerce").astype(float)),
    }


def summary(answer: Answer, *, lang: str = "zh", coordsys: str = "wgs84", version: str = "",
            stations: int | None = None, query: dict[str, Any] | None = None,
            sites: pd.DataFrame | None = None) -> dict[str, Any]:
    """The JSON answer: echo, assumptions, dataset, one object per district, totals, new sites.

    Every coordinate (largest gap centres, sites' ``lon``/``lat``) is in ``coordsys``; the
    numbers are the report table's own. ``sites``: the answer's sites with their details
    (:func:`stationmap.sites.site_details`), sent instead of the bare ones.
    """
    table = ordered(answer.report.table)
    districts = []
    for record in table.to_dict(orient="records"):
        row = {key: plain(value) for key, value in record.items()}
        row["largest_gap_lon"], row["largest_gap_lat"] = _moved(row["largest_gap_lon"], row["largest_gap_lat"],
                                                                coordsys)
        districts.append(row)
    rows = []
    chosen = sites if sites is not None else answer.sites
    if chosen is not None:
        for record in chosen.to_dict(orient="records"):
            row = {key: plain(value) for key, value in record.items()}
            row["wgs84_lon"], row["wgs84_lat"] = row["lon"], row["lat"]
            row["lon"], row["lat"] = _moved(row["lon"], row["lat"], coordsys)
            rows.append(row)
    return {"query": query or {}, "assumptions": answer.report.assumptions(lang),
            "dataset": {"version": version, "stations": stations},
            "districts": districts, "totals": _totals(answer), "recommendations": rows}


def _totals(answer: Answer) -> dict[str, Any]:
    """:func:`totals`, with a demand layer's own share covered (and its figures) when there is one."""
    whole = totals(answer.report.table)
    if answer.demand is not None:
        whole["population_covered_pct"] = answer.demand["covered_pct"]
        whole["demand"] = answer.demand
    return whole


def file_stem(question: Question) -> str:
    """A file name that says what was asked, e.g. ``coverage-310100-walk15`` or ``…-962m-0200``."""
    threshold = question.threshold
    reach = (f"{threshold.mode}{threshold.minutes:g}" if threshold.minutes is not None
             else f"{threshold.radius_m:g}m")
    stem = f"coverage-{question.adcode}-{reach}"
    if question.at is not None:
        stem += question.at.strftime("-%Y%m%dT%H%M")
    if question.recommend:
        stem += f"-sites{question.recommend}"
    if question.demand is not None:
        stem += f"-demand{question.demand.digest[:8]}"
    return stem
