"""The audit page: every change to stations, imports and accounts, and every refusal, filtered and
exported; one station's record with its versions and their undo buttons.

``GET /admin/audit`` (filters ``station``, ``who``, ``action``, ``outcome``, ``since``,
``until`` — dates in China Standard Time, both days included — and ``page``),
``/admin/audit.csv`` and ``/admin/audit.xlsx`` (the same filters, every matching entry up to
``AUDIT_EXPORT_MAX``). Who sees what is :mod:`stationmap.store.audit_views`'s rule: admins and
viewers everything, editors their districts' stations and their own actions. Untrusted text
(names, reasons) is escaped by the templates and written as text in the files
(:mod:`stationmap.audit_export`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from .. import audit_export
from ..accounts import Account
from ..errors import InputError
from ..permissions import ACTIONS, Forbidden, authorise
from ..store import NotFound, audit_views
from . import admin_register
from .admin_history import CHINA, labelled, shown_time
from .admin_register import actor, lang_url, page, refusal, store, words
from .signin import signed_in

bp = Blueprint("admin_audit", __name__, url_prefix="/admin")
admin_register.share_the_admin_shell(bp)

PAGE_SIZE = 50
DEFAULTS = {"AUDIT_EXPORT_MAX": 100_000}
OUTCOMES = ("done", "refused")


def _day(name: str, problems: list[str]) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name}: {text!r} is not a date YYYY-MM-DD (日期格式应为 YYYY-MM-DD)")
        return None


def filters() -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The store's filters from the query, the values to show back in the form, and the problems."""
    problems: list[str] = []
    shown = {k: (request.args.get(k) or "").strip()[:200] for k in ("station", "who", "action", "outcome",
                                                                      "since", "until")}
    chosen: dict[str, Any] = {}
    if shown["station"]:
        chosen["station_id"] = shown["station"]
    if shown["who"]:
        chosen["who"] = shown["who"]
    if shown["action"]:
        if shown["action"] in ACTIONS:
            chosen["action"] = shown["action"]
        else:
            problems.append(f"action: {shown['action']!r} is not one of {', '.join(ACTIONS)}")
    if shown["outcome"]:
        if shown["outcome"] in OUTCOMES:
            chosen["outcome"] = shown["outcome"]
        else:
            problems.append("outcome: must be done or refused (结果只能是 done 或 refused)")
    since, until = _day("since", problems), _day("until", problems)
    if since:
        chosen["since"] = datetime.combine(since, time(), CHINA)
    if until:
        chosen["until"] = datetime.combine(until + timedelta(days=1), time(), CHINA)
    return chosen, shown, problems


def _may_read(who: Account) -> None:
    authorise(who, "audit.read")


def _rows(entries: list, who: Account, lang: str) -> list[dict[str, Any]]:
    """Each entry as the page shows it, with the undo buttons that apply."""
    versions = audit_views.station_versions(store(), entries)
    imports = [int(e.target_id) for e in entries
               if e.target_kind == "import" and e.action == "import.apply" and e.target_id.isdigit()]
    reverted = audit_views.reverted_imports(store(), imports)
    writer = who.role in ("admin", "editor") and not who.disabled
    out = []
    for e in entries:
        version = versions.get((e.target_id, e.register_version or -1))
        import_id = int(e.target_id) if e.target_kind == "import" and e.target_id.isdigit() else None
        out.append({"entry": e, "at": shown_time(e.at),
                    "changes": labelled(audit_export.field_changes(e.before, e.after), lang),
                    "undo_version": version if writer and e.outcome == "done" else None,
                    "revert_id": import_id if writer and e.outcome == "done" and import_id is not None
                    and e.action == "import.apply" and reverted.get(import_id) is False else None})
    return out


def _current_versions(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The current version of each station with an undo button (the form's ``expected_version``)."""
    out = {}
    for row in rows:
        sid = row["entry"].target_id
        if row["undo_version"] is not None and sid not in out:
            try:
                out[sid] = int(store().get(sid, include_deleted=True)["version"])
            except NotFound:
                row["undo_version"] = None
    return out


def _reader() -> tuple[str, dict[str, str], Account, Response | None]:
    """The page's language and words, who asks, and the 403 page if they may not read the audit."""
    lang, t = words("admin_audit")
    who = actor()
    try:
        _may_read(who)
    except Forbidden as error:
        return lang, t, who, refusal(403, t["forbidden_title"], admin_register.forbidden_text(error, lang), "/admin/")
    return lang, t, who, None


@bp.get("/audit")
@signed_in
def audit():
    """The audit page (whole register, or one station with ``?station=``)."""
    lang, t, who, refused = _reader()
    if refused is not None:
        return refused
    chosen, shown, problems = filters()
    number = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)  # SQLite: 64-bit offsets
    entries, more = audit_views.page(store(), who, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, **chosen)
    rows = _rows(entries, who, lang)
    station = None
    if shown["station"]:
        try:
            station = store().get(shown["station"], include_deleted=True)
        except NotFound:
            station = None
    query = {k: v for k, v in shown.items() if v} | ({"lang": "en"} if request.args.get("lang") == "en" else {})
    return page("admin/audit.html", 400 if problems else 200, words="admin_audit", rows=rows, shown=shown,
                problems=problems, more=more, number=number, query=query, station=station,
                current=_current_versions(rows), actions=ACTIONS, outcomes=OUTCOMES, who=who,
                done=_done(t), writer=who.role in ("admin", "editor"),
                station_visible=station is not None and _station_visible(who, station))


def _station_visible(who: Account, station: dict[str, Any]) -> bool:
    return who.role != "editor" or station.get("adcode") in who.adcodes


def _done(t: dict[str, str]) -> str:
    """The confirmation after an undo (fixed words; only numbers and the station id from the query)."""
    done = request.args.get("done")
    version = request.args.get("done_version", type=int)
    if done == "undone" and version:
        return t["undone"].format(id=request.args.get("station", ""), version=version)
    if done == "reverted" and version:
        return t["reverted"].format(id=request.args.get("done_id", type=int), version=version)
    return ""


def file_name(shown: dict[str, str], suffix: str) -> str:
    """An export's name saying what it holds: ``audit_station-X_since-…_until-…_as-of-DATE.csv``."""
    parts = ["audit"] + [f"{k}-{v}" for k, v in shown.items() if v]
    parts.append(f"as-of-{datetime.now(CHINA).date().isoformat()}")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join(parts))[:180] + suffix


def _export(kind: str) -> Response:
    lang, t, who, refused = _reader()
    if refused is not None:
        return refused
    chosen, shown, problems = filters()
    if problems:
        raise InputError("; ".join(problems), field="filter")
    entries = audit_views.everything(store(), who, most=int(current_app.config["AUDIT_EXPORT_MAX"]), **chosen)
    plain = [e.as_json() | {"at": shown_time(e.at)} for e in entries]
    if kind == "csv":
        body, mimetype = audit_export.to_csv(plain), "text/csv; charset=utf-8"
    else:
        body = audit_export.to_xlsx(plain)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(shown, "." + kind)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/audit.csv")
@signed_in
def audit_csv():
    """The filtered audit as CSV (UTF-8 with BOM; Chinese and English headers)."""
    return _export("csv")


@bp.get("/audit.xlsx")
@signed_in
def audit_xlsx():
    """The filtered audit as an Excel workbook."""
    return _export("xlsx")


def init_app(app: Flask) -> None:
    """Register the audit page and its exports."""
    for name, default in DEFAULTS.items():
        value = app.config.setdefault(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"must be a whole number ≥ 1, not {value!r}", field=name)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app", "lang_url"]
