"""The staff queue of workers' reports: ``/admin/reports`` (blueprint ``admin_reports``).

An editor sees the reports of their own districts, an admin and a viewer every district. Staff
accept a report (the station is changed through the store's audited edit, as the signed-in
person: a closure report makes the station temporarily closed, a confirmation refreshes
``last_verified``), reject it, or merge it into another report on the same station. The rule of
who may decide is :func:`stationmap.permissions.authorise` (``report.resolve``), checked by the
store inside the decision; the page only hides the buttons of reports one may not resolve.

Workers' notes and contacts are untrusted text: the template escapes them, never ``|safe``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from .. import vocab
from ..errors import InputError, StationmapError
from ..hours import TIMEZONE
from ..permissions import Forbidden, may
from ..station_reports import KINDS, STATUSES
from ..store import NotFound
from ..store.reports import Report, ReportResolved
from ..texts import ADMIN_REPORTS
from . import admin, editing, problems, signin
from ._common import current_dataset, page_language

bp = Blueprint("admin_reports", __name__, url_prefix="/admin/reports")
#: The outcomes a decision redirects with (``?done=…``), each a sentence of ADMIN_REPORTS.
OUTCOMES = ("accepted", "rejected", "merged", "forbidden", "resolved", "invalid", "missing")


@bp.before_request
def _available() -> Response | None:
    """As every admin page: off without a secret key in production, and on a read-only server."""
    if current_app.config.get(signin.ADMIN_OFF) or editing.store() is None:
        return problems.problem(503, "Service Unavailable", "the admin pages are off on this server (管理页面未启用)")
    return None


def _visible(account) -> tuple[str, ...] | None:
    return tuple(account.adcodes) if account.role == "editor" else None


def _row(report: Report, lang: str, account, names: dict[str, str]) -> dict[str, Any]:
    index = current_dataset().index
    position = index.position(report.station_id)
    station = index.columns["name"][position] if position is not None else report.station_id
    current = (int(index.columns["version"][position])
               if position is not None and "version" in index.columns else None)
    return {"report": report, "station": station, "kind": KINDS[report.kind][lang],
            "amenity": vocab.label(vocab.AMENITIES, report.amenity, lang) if report.amenity else "",
            "made_at": report.made_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
            "district": names.get(report.adcode, report.adcode),
            "changed_since": current is not None and current != report.station_version, "current_version": current,
            "may_resolve": report.status == "open" and may(account, "report.resolve",
                                                            before={"id": report.station_id, "adcode": report.adcode},
                                                            after={"id": report.station_id, "adcode": report.adcode})}


@bp.get("/")
@signin.signed_in
def queue() -> Response:
    """The reports of the signed-in person's districts, newest first (``?status=open`` by default)."""
    account = signin.current_account()
    assert account is not None
    lang = page_language()
    words = ADMIN_REPORTS[lang]
    status = request.args.get("status", "open")
    store = editing.store()
    assert store is not None
    found = store.reports(adcodes=_visible(account), status=status if status in STATUSES else None, limit=500)
    names = admin.district_names(lang)
    rows = [_row(r, lang, account, names) for r in found]
    open_by_station: dict[str, list[int]] = {}
    for r in found:
        if r.status == "open":
            open_by_station.setdefault(r.station_id, []).append(r.id)
    done = request.args.get("done")
    notices = [("error" if done in ("forbidden", "invalid", "missing", "resolved") else "ok",
                words[f"done_{done}"].format(id=request.args.get("report", "")))] if done in OUTCOMES else []
    scope = None if _visible(account) is None else "、".join(names.get(a, a) for a in account.adcodes)
    return admin.render("admin/reports.html", words=words, rows=rows, shown=status, statuses=STATUSES,
                        open_by_station=open_by_station, scope=scope, notices=notices)


@bp.post("/<int(max=2147483647):report_id>")
@signin.signed_in
def decide(report_id: int) -> BaseResponse:
    """Accept, reject or merge one report (a form on the queue), then back to the queue."""
    account = signin.current_account()
    store = editing.store()
    assert account is not None and store is not None
    decision = request.form.get("decision", "")
    merge_into = request.form.get("merge_into", "")
    try:
        store.resolve_report(report_id, decision, actor=account.acting_from("admin", request.remote_addr or ""),
                             reason=request.form.get("reason", "")[:300],
                             merge_into=int(merge_into) if merge_into.isdigit() else None)
        done = {"accept": "accepted", "reject": "rejected", "merge": "merged"}[decision]
    except Forbidden:
        done = "forbidden"
    except ReportResolved:
        done = "resolved"
    except NotFound:
        done = "missing"
    except (InputError, StationmapError):
        done = "invalid"
    return redirect(admin.admin_url("admin_reports.queue", done=done, report=report_id), 303)


def init_app(app: Flask) -> None:
    """Register the reports queue."""
    app.register_blueprint(bp)
