"""The station form (``/admin/stations/<id>``, ``/admin/stations/new``) and its one-step actions:
"temporarily closed until …", "reopen", "verified today"; and the hours preview it asks for.

Every edit carries the station version the form was opened at. If someone else saved first the
store refuses (:class:`~stationmap.store.Conflict`) and the form comes back with both: yours
still in the fields, theirs listed beside, and the version moved on to theirs, so the next save
is a decision made with both in view, never a silent overwrite.

Buttons an account may not use are hidden (:func:`stationmap.permissions.may`), but that is
courtesy: the store checks the same rule inside the write transaction
(:func:`stationmap.permissions.authorise`), whatever the request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from .. import hours, vocab
from ..accounts import Account
from ..errors import DataFileError, InputError
from ..permissions import Forbidden, may
from ..registers.hours_zh import to_osm
from ..registers.rows import generated_id
from ..store import Conflict, NotFound, Store
from . import admin_fields, editing
from ._common import json_response, page_language, tile_settings
from .admin import admin_url, bp, district_names, notify, render
from .signin import current_account, signed_in


def _store() -> Store:
    store = editing.store()
    if store is None:            # the blueprint answers 503 before any view runs
        abort(503)
    return store


def may_create() -> bool:
    """Whether this account may add stations at all (an editor: in one of its own districts)."""
    account = current_account()
    return account is not None and any(may(account, "station.create", after={"adcode": code})
                                       for code in account.adcodes or ("",))


def _actor() -> Account:
    """The signed-in account as the store's ``actor``, with where the request came from (for the audit)."""
    account = current_account()
    if account is None:             # signed_in lets no anonymous request this far
        abort(401)
    return account.acting_from("admin", request.remote_addr or "")


def _may_update(record: dict[str, Any]) -> bool:
    account = current_account()
    return account is not None and may(account, "station.update", before=record)


def _today() -> str:
    return datetime.now(hours.TIMEZONE).date().isoformat()


def _preview(text: str, status: str, lang: str) -> dict[str, Any]:
    """The next seven days as the worker page shows them, for hours written either way."""
    expression, reason = to_osm(text) if text else ("", None)
    week = hours.week(expression, datetime.now(hours.TIMEZONE), lang) if status == "open" else []
    return {"expression": expression, "problem": reason if not expression else None, "week": week,
            "status": vocab.label(vocab.STATUSES, status, lang)}


def _context(values: dict[str, Any], record: dict[str, Any] | None, lang: str, **extra: Any) -> dict[str, Any]:
    layer = tile_settings()
    return {"values": values, "record": record, "new": record is None,
            "editable": may_create() if record is None else _may_update(record),
            "types": {c: vocab.label(vocab.STATION_TYPES, c, lang) for c in vocab.STATION_TYPES},
            "accesses": {c: vocab.label(vocab.ACCESS, c, lang) for c in vocab.ACCESS},
            "statuses": {c: vocab.label(vocab.STATUSES, c, lang) for c in vocab.STATUSES},
            "amenities": {c: vocab.label(vocab.AMENITIES, c, lang) for c in vocab.AMENITIES},
            "districts": district_names(lang), "preview": _preview(values["opening_hours"], values["status"] or "open",
                                                                    lang),
            "today": _today(), "errors": {}, "conflict": None,
            "settings": {"tiles": layer, "coordsys": values["coordsys"], "lang": lang,
                         "preview_url": admin_url("admin.hours_preview"), "hours_as": admin_text(lang)["hours_as"]},
            **extra}


@bp.get("/stations/new")
@signed_in
def new_station() -> BaseResponse:
    """A blank form for a new station."""
    from ..store import records

    lang = page_language()
    values = admin_fields.values_of(records.blank(), tile_settings()["coordsys"])
    values["id"] = ""
    return render("admin/station_form.html", **_context(values, None, lang))


@bp.get("/stations/<station_id>")
@signed_in
def station(station_id: str) -> BaseResponse:
    """The form of one station."""
    lang = page_language()
    try:
        record = _store().get(station_id)
    except NotFound:
        return render("admin/error.html", status=404, message=admin_text(lang)["not_found"].format(id=station_id))
    values = admin_fields.values_of(record, tile_settings()["coordsys"])
    return render("admin/station_form.html", **_context(values, record, lang))


def admin_text(lang: str) -> dict[str, str]:
    """The admin words in ``lang``."""
    from ..texts import ADMIN

    return ADMIN[lang]


def _conflict(store: Store, station_id: str, values: dict[str, Any], lang: str) -> dict[str, Any]:
    """Theirs beside yours: the fields where the stored station differs from what was submitted."""
    theirs = store.get(station_id)
    shown = admin_fields.values_of(theirs, values["coordsys"] or tile_settings()["coordsys"])
    words = admin_text(lang)
    rows = []
    for name in admin_fields.FIELDS:
        if name in ("id", "location"):
            mine, stored = (f"{values['lon']}, {values['lat']}".strip(", "),
                            f"{shown['lon']}, {shown['lat']}".strip(", ")) if name == "location" else ("", "")
        elif name == "amenities":
            mine, stored = ("、".join(sorted(values[name])), "、".join(sorted(shown[name])))
        else:
            mine, stored = values[name], shown[name]
        if mine != stored:
            rows.append({"field": words[f"f_{name}"], "yours": mine, "theirs": stored})
    history = store.history(station_id)
    who = history[-1].who if history else "?"
    values["version"] = str(theirs["version"])
    values["lon0"], values["lat0"] = shown["lon"], shown["lat"]
    return {"who": who, "version": theirs["version"], "rows": rows}


def _save(store: Store, station_id: str | None, values: dict[str, Any], lang: str) -> BaseResponse:
    """Create or update from the submitted ``values``; the form again with what went wrong."""
    account = _actor()
    record = None if station_id is None else store.get(station_id)
    fields, errors = admin_fields.edit_of(values, lang, record)
    status = 422
    conflict = None
    if errors:            # every problem at once: the rule book's too, for the other fields
        errors = {**admin_fields.check(record, fields, values["id"] or station_id or "new", lang), **errors}
    else:
        try:
            if station_id is None:
                new_id = values["id"] or generated_id(values["name"], values["address"])
                version = store.create(new_id, fields, actor=account, reason=values["reason"])
                notify("created", id=new_id)
                return redirect(admin_url("admin.station", station_id=new_id), 303)
            expected = int(values["version"]) if values["version"].isdigit() else -1
            version = store.update(station_id, fields, expected_version=expected, actor=account,
                                   reason=values["reason"])
            notify("saved" if version != expected else "unchanged", v=version)
            return redirect(admin_url("admin.station", station_id=station_id), 303)
        except (DataFileError, InputError) as problem:
            errors = admin_fields.field_errors(problem, lang)
        except Conflict as stale:
            if stale.expected is None:                  # a new station's id is taken
                errors = {"id": admin_fields.message(str(stale), lang)}
            else:
                conflict, status = _conflict(store, stale.station_id, values, lang), 409
        except Forbidden:
            words = admin_text(lang)
            return render("admin/station_form.html", status=403, **_context(
                values, record, lang, notices=[("error", words["forbidden"])]))
    words = admin_text(lang)
    notices = [("error", words["conflict"].format(who=conflict["who"], v=conflict["version"]))] if conflict else \
        [("error", words["fix"].format(n=len(errors)))]
    return render("admin/station_form.html", status=status, **_context(values, record, lang, errors=errors,
                                                                        conflict=conflict, notices=notices))


@bp.post("/stations/new")
@signed_in
def create_station() -> BaseResponse:
    """Add a station from the form."""
    return _save(_store(), None, admin_fields.submitted(request.form), page_language())


@bp.post("/stations/<station_id>")
@signed_in
def update_station(station_id: str) -> BaseResponse:
    """Save the form of one station (with the version it was opened at)."""
    store = _store()
    try:
        store.get(station_id)
    except NotFound:
        abort(404)
    return _save(store, station_id, admin_fields.submitted(request.form), page_language())


def _quick(station_id: str, fields: dict[str, Any], done: str, **params: Any) -> BaseResponse:
    """One step (close, reopen, verified today) at the version the page showed."""
    store = _store()
    raw = request.form.get("version", "")
    try:
        version = store.update(station_id, fields, expected_version=int(raw) if raw.isdigit() else -1,
                               actor=_actor(), reason=request.form.get("reason", "").strip())
        notify(done, v=version, **params)
    except Conflict as stale:
        notify("quick_conflict", "error", v=stale.actual)
    except (DataFileError, InputError) as problem:
        lang = page_language()
        notify("fix", "error", n=len(admin_fields.field_errors(problem, lang)))
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    return redirect(admin_url("admin.station", station_id=station_id), 303)


@bp.post("/stations/<station_id>/close")
@signed_in
def close_station(station_id: str) -> BaseResponse:
    """Temporarily closed until a day, in one step."""
    until = request.form.get("until", "").strip()
    return _quick(station_id, {"status": "temporarily_closed", "closed_until": until}, "closed_done", d=until)


@bp.post("/stations/<station_id>/reopen")
@signed_in
def reopen_station(station_id: str) -> BaseResponse:
    """Open again, in one step."""
    return _quick(station_id, {"status": "open", "closed_until": ""}, "reopened")


@bp.post("/stations/<station_id>/verified")
@signed_in
def verified_today(station_id: str) -> BaseResponse:
    """"Verified today" (China Standard Time), in one step."""
    today = _today()
    return _quick(station_id, {"last_verified": today}, "verified_done", d=today)


@bp.get("/hours-preview")
@signed_in
def hours_preview() -> BaseResponse:
    """The next seven days for hours typed in the form (``?text=&status=``), as JSON."""
    status = request.args.get("status", "open")
    return json_response(_preview(request.args.get("text", "")[:500],
                                  status if status in vocab.STATUSES else "open", page_language()))
