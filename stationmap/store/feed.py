"""The changes feed: which stations changed after a register version, each with its state now.

A system that mirrors the register (a city app, a newspaper's map) keeps the register version it
last saw and asks for what changed since. Each station appears once, with its current record (or
only its id when it was deleted), ordered by the register version of its last change and then by
its row: a cursor (version, row) pages through any number of changes, even one import that
touched thousands of stations in a single version. A station changed again while a client pages
moves to the end, so it is still seen; nothing committed after the answer's ``register_version``
is included, so asking again with ``since=register_version`` misses nothing. The version and the
page are read as one snapshot (:func:`stationmap.store.engine.snapshot`), and the page is also
bounded by ``changed_in <= register_version``: a commit landing meanwhile is never half in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import records
from .engine import snapshot
from .schema import history, register, stations

if TYPE_CHECKING:
    from .register import Store


@dataclass(frozen=True)
class Page:
    """One page of the feed: the register version it reflects, the changes, and the cursor of
    the next page (``None``: this was the last).
    """

    register_version: int
    changes: list[dict[str, Any]]
    next_cursor: tuple[int, int] | None


def changed_since(store: Store, since: int, *, after: tuple[int, int] | None = None, limit: int = 100) -> Page:
    """Stations created, updated or deleted after register version ``since``.

    ``after`` continues from the previous page's cursor ``(register version, row)``; ``since``
    stays the one the client first asked with, which decides "created" or "updated".
    """
    created_after = sa.exists().where(history.c.station_id == stations.c.id,
                                      history.c.action.in_(("created", "restored")),
                                      history.c.register_version > since)
    if after is None:
        window = stations.c.changed_in > since
    else:
        window = sa.or_(stations.c.changed_in > after[0],
                        sa.and_(stations.c.changed_in == after[0], stations.c.fid > after[1]))
    with snapshot(store.engine) as c:
        version = int(c.execute(sa.select(register.c.version)).scalar_one())
        query = (sa.select(stations, created_after.label("is_new"))
                 .where(window, stations.c.changed_in <= version)
                 .order_by(stations.c.changed_in, stations.c.fid).limit(limit + 1))
        rows = c.execute(query).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = []
    for row in rows:
        record = records.from_row(row)
        action = "deleted" if record["deleted"] else ("created" if row["is_new"] else "updated")
        changes.append({"action": action, "id": record["id"], "version": record["version"],
                        "register_version": record["changed_in"],
                        "station": None if record["deleted"] else record, "fid": row["fid"]})
    cursor = (changes[-1]["register_version"], changes[-1]["fid"]) if more and changes else None
    for change in changes:
        del change["fid"]
    return Page(version, changes, cursor)
