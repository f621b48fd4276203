"""The audit as one person may read it, page by page, with what an undo button needs.

Who sees what (the rule is here, not in a page, so the page and its CSV/Excel exports agree):

* ``admin`` and ``viewer`` (the city office and its auditors): every entry — stations,
  imports, accounts, and every refusal.
* ``editor`` (a district union): entries about stations that are, or were, in their
  districts (the station's current district, or a district named in the entry's before or
  after: a station moved out of Xuhui stays visible to Xuhui), including other people's
  refused attempts on those stations; and every entry they made themselves (their imports,
  their own refusals, changes to their own account). Not other people's accounts, imports or
  refusals elsewhere: those name colleagues and districts that are not theirs to watch.

Store entries carry the register version of a change; an undo needs the station's own version,
which :func:`station_versions` finds in the station's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .schema import history, imports, stations

if TYPE_CHECKING:
    from ..accounts import Account
    from .audit import AuditEntry
    from .register import Store

#: Entries read from the store per round while filtering an editor's view.
_BATCH = 500
#: At most this many entries are scanned for one editor's page (then the page says "older").
_SCAN_LIMIT = 50_000


def _codes(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        code = value.get("adcode")
        if isinstance(code, str):
            return {code}
    return set()


def station_districts(store: Store, ids: Iterable[str]) -> dict[str, str]:
    """The current district of each station id (deleted stations included)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with store.engine.connect() as c:
        rows = c.execute(sa.select(stations.c.id, stations.c.adcode).where(stations.c.id.in_(wanted))).all()
    return {str(r.id): str(r.adcode or "") for r in rows}


def visible(actor: Account, entry: AuditEntry, districts: Mapping[str, str]) -> bool:
    """Whether ``actor`` may read ``entry`` (see the module's rule)."""
    if actor.role in ("admin", "viewer") and not actor.disabled:
        return True
    if actor.disabled or actor.role != "editor":
        return False
    if entry.who == actor.who:
        return True
    if entry.target_kind == "account":
        return entry.target_id == actor.name
    if entry.target_kind != "station":
        return False
    mine = set(actor.adcodes)
    codes = _codes(entry.before) | _codes(entry.after) | {districts.get(entry.target_id, "")}
    return bool(codes & mine)


def page(store: Store, actor: Account, *, limit: int, offset: int = 0,
         **filters: Any) -> tuple[list[AuditEntry], bool]:
    """One page of the audit ``actor`` may read (newest first) and whether older entries follow.

    ``filters`` are those of :meth:`Store.audit` (station_id, who, action, outcome, since, until).
    """
    if actor.role in ("admin", "viewer") and not actor.disabled:
        found = store.audit(limit=limit + 1, offset=offset, **filters)
        return found[:limit], len(found) > limit
    shown: list[AuditEntry] = []
    skipped = scanned = 0
    while scanned < _SCAN_LIMIT:
        batch = store.audit(limit=_BATCH, offset=scanned, **filters)
        scanned += len(batch)
        districts = station_districts(store, (e.target_id for e in batch if e.target_kind == "station"))
        for entry in batch:
            if not visible(actor, entry, districts):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(shown) == limit:
                return shown, True
            shown.append(entry)
        if len(batch) < _BATCH:
            break
    return shown, scanned >= _SCAN_LIMIT


def everything(store: Store, actor: Account, *, most: int, **filters: Any) -> list[AuditEntry]:
    """Every entry ``actor`` may read under ``filters``, newest first, at most ``most`` (for exports)."""
    return page(store, actor, limit=most, **filters)[0]


def station_versions(store: Store, entries: Iterable[AuditEntry]) -> dict[tuple[str, int], int]:
    """``(station id, register version) → station version`` of the station changes among ``entries``."""
    pairs = {(e.target_id, e.register_version) for e in entries
             if e.target_kind == "station" and e.outcome == "done" and e.register_version is not None}
    if not pairs:
        return {}
    with store.engine.connect() as c:
        rows = c.execute(sa.select(history.c.station_id, history.c.register_version, history.c.version).where(
            history.c.register_version.in_(sorted({rv for _, rv in pairs})),
            history.c.station_id.in_(sorted({s for s, _ in pairs})))).all()
    return {(str(r.station_id), int(r.register_version)): int(r.version) for r in rows
            if (str(r.station_id), int(r.register_version)) in pairs}


def reverted_imports(store: Store, ids: Iterable[int]) -> dict[int, bool]:
    """Whether each import has been reverted already (unknown ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with store.engine.connect() as c:
        rows = c.execute(sa.select(imports.c.id, imports.c.reverted).where(imports.c.id.in_(wanted))).all()
    return {int(r.id): bool(r.reverted) for r in rows}

