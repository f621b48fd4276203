"""A station's versions as the admin pages show them: ``templates/admin/_history.html``.

The station form (``admin`` blueprint) and the audit page both include that template; it
calls :func:`station_history`, registered as a template global, so a page that includes it
only needs ``station_id`` in its context. Each version lists its field changes old → new, who,
when (China Standard Time), why, and an "undo this change" form (``POST
/admin/changes/<id>/<version>/undo`` with the station's current version, a reason and the CSRF
token) when the signed-in account may undo it — the store decides again on the POST.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from ..audit_export import history_changes
from ..permissions import may
from ..registers.plan_report import _field_label
from ..store import NotFound
from . import editing
from ._common import page_language
from .signin import current_account

#: Times are shown as union offices read them.
CHINA = ZoneInfo("Asia/Shanghai")


def shown_time(value: datetime | str) -> str:
    """A time as China Standard Time, to the second.

    >>> shown_time("2026-11-25T12:05:03+00:00"), shown_time(datetime(2026, 11, 25, 12, 5, 3))
    ('2026-11-25 20:05:03', '2026-11-25 20:05:03')
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:             # the store writes UTC; SQLite gives it back without a zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def labelled(changes: list[tuple[str, str, str]], lang: str) -> list[tuple[str, str, str]]:
    """Field changes with each field's name as the union's sheets write it (``location``: lon,lat)."""
    return [(_field_label("geometry" if name == "location" else name, lang), old, new) for name, old, new in changes]


def station_history(station_id: str) -> dict[str, Any]:
    """Everything ``_history.html`` shows for one station (empty when there is no such station)."""
    store = editing.store()
    account = current_account()
    if store is None or account is None:
        return {"rows": [], "current": None}
    try:
        station = store.get(station_id, include_deleted=True)
    except NotFound:
        return {"rows": [], "current": None}
    lang = page_language()
    undo = may(account, "change.undo", before={**station, "id": station_id}, after={**station, "id": station_id})
    rows = []
    for change in reversed(store.history(station_id)):
        rows.append({"version": change.version, "at": shown_time(change.at), "who": change.who,
                     "action": change.action, "reason": change.reason, "import_id": change.import_id,
                     "changes": labelled(history_changes(change.changes), lang),
                     "undo": undo})
    return {"rows": rows, "current": int(station["version"]), "station_id": station_id}


def init_app(app: Flask) -> None:
    """Make :func:`station_history` and :func:`shown_time` available to every template."""
    app.add_template_global(station_history, "station_history")
    app.add_template_global(shown_time, "shown_time")
