"""The admin's station list (``/admin/``): the account's districts (an admin's and a viewer's:
all), searched by name, address or id, filtered by type, status, "needs a location" and "not
verified for 180 days" and "reported by workers", a page at a time.

The list reads the store (:mod:`stationmap.store.listing`), so a station saved a moment ago, or
one still waiting for a position, is in it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request

from .. import hours, vocab
from ..store.listing import StationQuery, find
from . import admin_form, editing
from ._common import page_language
from .admin import admin_url, bp, district_names, render
from .signin import current_account, signed_in

#: Stations per page of the list.
PAGE_SIZE = 50
#: "Not verified for this many days": the union's own rule of thumb for a stale record.
STALE_DAYS = 180


def visible_districts() -> tuple[str, ...] | None:
    """The districts whose stations this account's list shows: an editor's own, else all (``None``)."""
    account = current_account()
    return tuple(account.adcodes) if account is not None and account.role == "editor" else None


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() else 1


def _query(page: int) -> StationQuery:
    args = request.args
    kind = args.get("type", "")
    status = args.get("status", "")
    return StationQuery(text=args.get("q", "")[:200], type=kind if kind in vocab.STATION_TYPES else "",
                        status=status if status in vocab.STATUSES else "",
                        needs_location=args.get("needs_location") == "1",
                        stale_days=STALE_DAYS if args.get("stale") == "1" else None,
                        reported=args.get("reported") == "1",
                        today=datetime.now(hours.TIMEZONE).date(),        # the union's day, not the server's
                        adcodes=visible_districts(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)


def _page_links(page: int, pages: int) -> dict[str, str | None]:
    args = {k: v for k, v in request.args.items() if k != "page"}
    return {"prev": admin_url("admin.stations", **args, page=page - 1) if page > 1 else None,
            "next": admin_url("admin.stations", **args, page=page + 1) if page < pages else None}


@bp.get("/")
@signed_in
def stations() -> Response:
    """The station list."""
    lang = page_language()
    page = _page_number()
    query = _query(page)
    store = editing.store()
    assert store is not None         # the blueprint answers 503 without one
    rows, total = find(store, query)
    pages = max(1, -(-total // PAGE_SIZE))
    names = district_names(lang)
    districts = visible_districts()
    context: dict[str, Any] = {
        "rows": rows, "total": total, "page": page, "pages": pages, "links": _page_links(page, pages),
        "args": request.args, "districts": names, "stale_days": STALE_DAYS,
        "scope": None if districts is None else "、".join(names.get(code, code) for code in districts),
        "types": {code: vocab.label(vocab.STATION_TYPES, code, lang) for code in vocab.STATION_TYPES},
        "statuses": {code: vocab.label(vocab.STATUSES, code, lang) for code in vocab.STATUSES},
        "may_create": admin_form.may_create(),
    }
    return render("admin/stations.html", **context)
