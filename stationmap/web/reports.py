"""Workers' reports over HTTP: ``POST /api/v1/stations/{id}/reports``, and the report summary
that station answers carry.

Anonymous on purpose (a rider has no account): no cookie, no token, hence exempt from CSRF
protection (nothing a browser sends on its own authorises it). Abuse is bounded by the rules
of :mod:`stationmap.station_reports` and the store (one vote per client per station per day: a
second is **409 Conflict**, never counted twice) and by a per-address rate limit
(``RATELIMIT_REPORTS``, default 10 an hour: 429 with ``Retry-After``, see
:mod:`~stationmap.web.ratelimits`).

Summaries: each worker process keeps the recent reports' tallies for every station, read from
the store at most every ``REPORTS_REFRESH_S`` seconds (and at once after it records a report),
so a nearest answer adds dictionary look-ups, not a query.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import Flask, current_app, request

from ..station_reports import CONTACT_MAX, KINDS, NOTE_MAX, Summary, Tally, Thresholds, check_report, summarise
from ..station_reports import rank_flagged_last as _rank
from ..store import NotFound
from ..store.reports import AlreadyReported
from . import editing, problems
from ._common import ApiBlueprint, json_response, language, openapi

bp = ApiBlueprint("reports", __name__, url_prefix="/api/v1",
                  description="Workers' reports: anonymous, one per station a day, rate-limited.")
bp.before_request(editing.read_only)
_TALLIES = "stationmap.report_tallies"


class ReportBody(ma.Schema):
    """What a worker reports."""

    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(KINDS)), metadata={
        "description": "confirm_open (\"it's open, I'm here\"), closed, moved, no_entry, missing_facility, other"})
    amenity = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64), metadata={
        "description": "for missing_facility: the amenity code (see /api/v1/meta)"})
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=NOTE_MAX), metadata={
        "description": f"optional, at most {NOTE_MAX} characters; shown to staff as text only"})
    contact = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=CONTACT_MAX), metadata={
        "description": "optional: how staff may reach the worker (seen by staff only)"})


class ReportSummarySchema(ma.Schema):
    """A station's report summary."""

    closed_reports = ma.fields.Integer(metadata={"description": "unresolved closure reports in the window"})
    closure_flagged = ma.fields.Boolean(metadata={
        "description": "at or above the threshold: the card says so and nearest answers rank it after "
                       "stations about as near"})
    confirmations = ma.fields.Integer(metadata={"description": "workers who confirmed it open recently"})
    last_verified = ma.fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    text = ma.fields.String(metadata={"description": "the summary line, in lang"})


class ReportCreatedSchema(ma.Schema):
    """The report as recorded."""

    id = ma.fields.Integer()
    station_id = ma.fields.String()
    station_version = ma.fields.Integer(metadata={"description": "the station version it was made against"})
    kind = ma.fields.String()
    status = ma.fields.String()
    made_at = ma.fields.String()
    reports = ma.fields.Nested(ReportSummarySchema)


def thresholds(config) -> Thresholds:
    """The configured thresholds."""
    return Thresholds(closed_hours=float(config["REPORTS_CLOSED_HOURS"]), closed_min=int(config["REPORTS_CLOSED_MIN"]),
                      confirm_days=int(config["REPORTS_CONFIRM_DAYS"]), tie_m=float(config["REPORTS_TIE_M"]))


class _Tallies:
    """The recent reports' tallies of every station, re-read at most every ``refresh`` seconds."""

    def __init__(self, refresh: float):
        self.refresh, self.loaded = refresh, -float("inf")
        self.values: dict[str, Tally] = {}
        self.lock = threading.Lock()

    def get(self, store, rules: Thresholds) -> dict[str, Tally]:
        if store is None:
            return {}
        if time.monotonic() - self.loaded > self.refresh:
            with self.lock:
                if time.monotonic() - self.loaded > self.refresh:
                    self.values = store.report_tallies(datetime.now(UTC), rules)
                    self.loaded = time.monotonic()
        return self.values

    def stale(self) -> None:
        self.loaded = -float("inf")


def _tallies() -> dict[str, Tally]:
    return current_app.extensions[_TALLIES].get(editing.store(), thresholds(current_app.config))


def summary(record: dict[str, Any], tallies: dict[str, Tally], rules: Thresholds, now: datetime) -> Summary:
    """The summary of one station record."""
    return summarise(tallies.get(record["id"], Tally()), record.get("last_verified"), now, rules)


def annotate(records: list[dict[str, Any]], lang: str, *, rank: bool = False) -> list[dict[str, Any]]:
    """``records`` with their ``reports`` summary; ``rank=True`` (nearest answers) also moves
    stations with unresolved closure reports after stations about as near
    (:func:`stationmap.station_reports.rank_flagged_last`) and renumbers ``rank``.
    """
    if not records:
        return records
    rules, now = thresholds(current_app.config), datetime.now(UTC)
    tallies = _tallies()
    for record in records:
        record["reports"] = summary(record, tallies, rules, now).as_json(lang)
    flags = [r["reports"]["closure_flagged"] for r in records]
    if rank and any(flags):
        order = _rank([r["distance_m"] for r in records], flags, rules.tie_m)
        records = [records[i] for i in order]
        for number, record in enumerate(records, 1):
            record["rank"] = number
    return records


@bp.route("/stations/<station_id:station_id>/reports", methods=["POST"])
@bp.arguments(ReportBody, location="json", as_kwargs=False)
@bp.response(201, ReportCreatedSchema, description="Recorded; `reports` is the station's summary now")
@bp.alt_response(400, description="A field is invalid (each named)")
@bp.alt_response(404, description="No station with that id")
@bp.alt_response(405, description="This server is read-only (answers from a file)")
@bp.alt_response(409, description="This client already reported on this station today: not counted again")
@bp.alt_response(415, description="The body is not JSON")
@bp.alt_response(429, description="Too many reports from this client: wait `Retry-After` seconds")
@bp.doc(parameters=[{"in": "query", "name": "lang", "schema": {"type": "string", "enum": ["zh", "en"]},
                     "description": "language of the summary text"}])
def create_report(body: dict[str, Any], station_id: str):
    """Report on a station: open ("I'm here"), closed, moved, cannot get in, a facility missing, other.

    No account needed. One report per client per station per day counts (a second is a 409);
    at most `RATELIMIT_REPORTS` per client (default 10 an hour, then 429 with `Retry-After`).
    The client is stored only as a keyed hash rotated daily: no address, no position.
    """
    store = editing.store()
    assert store is not None
    new = check_report(body)
    try:
        made = store.add_report(station_id, new, address=request.remote_addr or "",
                                agent=request.user_agent.string[:256])
    except AlreadyReported:
        return problems.problem(409, "Conflict", "this phone already reported on this station today; one report "
                                "a day counts (今天已经报告过这个站点，每天每个站点只计一次)")
    except NotFound:
        return problems.problem(404, "Not Found", f"no station with id {station_id!r}")
    current_app.extensions[_TALLIES].stale()
    lang = language(request.args.get("lang"))
    record = {"id": station_id, "last_verified": store.get(station_id).get("last_verified") or None}
    answer = {"id": made.id, "station_id": made.station_id, "station_version": made.station_version,
              "kind": made.kind, "status": made.status, "made_at": made.made_at.isoformat(),
              "reports": summary(record, _tallies(), thresholds(current_app.config),
                                 datetime.now(UTC)).as_json(lang)}
    return json_response(answer, 201)


@bp.before_request
def _json_only():
    return editing.require_media_type("application/json")


def init_app(app: Flask) -> None:
    """Register the report route and each process's tallies."""
    app.extensions[_TALLIES] = _Tallies(float(app.config["REPORTS_REFRESH_S"]))
    openapi(app).register_blueprint(bp)
