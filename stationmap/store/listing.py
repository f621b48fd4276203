"""Finding stations in the store for the people who keep them: search, filters, one page at a time.

The admin's station list asks the store, not the in-memory index the riders' answers come
from: the list must show stations that need a location (the index leaves them out), and must
show an edit the moment it is committed, not when the watcher swaps the next register in.

Examples
--------
>>> query = StationQuery(text="解放路", adcodes=("310109",), stale_days=180)
>>> query.text, query.adcodes, query.limit
('解放路', ('310109',), 50)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import records
from .schema import reports, stations

if TYPE_CHECKING:
    from .register import Store

#: Columns the list shows (the form reads the whole record with ``Store.get``).
LISTED = ("id", "name", "address", "type", "status", "adcode", "last_verified", "version", "location")


@dataclass(frozen=True)
class StationQuery:
    """What to list.

    Parameters
    ----------
    text
        Words that must each appear in the name, English name, address or id (case-insensitive
        for Latin letters; Chinese as written).
    type, status
        Codes from :mod:`stationmap.vocab`; empty: any.
    needs_location
        Only stations without a position.
    stale_days
        Only stations not verified within this many days (or never); ``None``: any.
    reported
        Only stations with a problem reported by workers that staff have not answered yet (an open
        report of any kind but "it's open, I'm here").
    adcodes
        Only stations of these districts; ``None``: every district (an admin, a viewer).
    limit, offset
        One page of the list, in id order.
    today
        The day "not verified for N days" counts from (default: today).
    """

    text: str = ""
    type: str = ""
    status: str = ""
    needs_location: bool = False
    stale_days: int | None = None
    reported: bool = False
    adcodes: tuple[str, ...] | None = None
    limit: int = 50
    offset: int = 0
    today: date | None = None


def _matches(word: str) -> sa.ColumnElement[bool]:
    needle = word.lower()
    return sa.or_(*(sa.func.lower(column).contains(needle, autoescape=True)
                    for column in (stations.c.id, stations.c.name, stations.c.name_en, stations.c.address)))


def conditions(query: StationQuery) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions of ``query`` (live stations only)."""
    where: list[sa.ColumnElement[bool]] = [~stations.c.deleted]
    where += [_matches(word) for word in query.text.split()]
    if query.type:
        where.append(stations.c.type == query.type)
    if query.status:
        where.append(stations.c.status == query.status)
    if query.needs_location:
        where.append(stations.c.location.is_(None))
    if query.stale_days is not None:
        cutoff = ((query.today or date.today()) - timedelta(days=query.stale_days)).isoformat()
        # ISO dates compare as text; "" (never verified) is below every date.
        where.append(stations.c.last_verified < cutoff)
    if query.reported:
        where.append(stations.c.id.in_(sa.select(reports.c.station_id).where(
            reports.c.status == "open", reports.c.kind != "confirm_open")))
    if query.adcodes is not None:
        where.append(stations.c.adcode.in_(query.adcodes) if query.adcodes else sa.false())
    return where


def find(store: Store, query: StationQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of the stations ``query`` selects, in id order, and how many it selects in all."""
    where = conditions(query)
    columns = [stations.c[name] for name in LISTED]
    page = sa.select(*columns).where(*where).order_by(stations.c.id).limit(query.limit).offset(query.offset)
    total = sa.select(sa.func.count()).select_from(stations).where(*where)
    with store.engine.connect() as c:
        rows = c.execute(page).mappings().all()
        count = int(c.execute(total).scalar_one())
    return [{**dict(row), "location": records.location_of(row["location"])} for row in rows], count
