"""Undoing one change of one station, as a new version: history is never rewritten.

The undo puts back the fields that change altered. If a later version changed one of those
fields again, undoing would silently throw that later edit away, so it is refused
(:class:`~stationmap.store.refusals.UndoConflict`, naming the later versions); undo those first, or edit by hand.
Undoing a creation deletes the station (softly); undoing a deletion restores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..accounts import Account
from ..permissions import authorise, authorise_role
from . import audit, records
from .schema import history, stations

if TYPE_CHECKING:
    from .register import Store


def before(change: Mapping[str, Any]) -> tuple[dict[str, Any], bool | None]:
    """What a history entry says the station was before it: the old value of every field it
    changed (``location`` as ``[lon, lat]`` or ``None``), and whether it was deleted (``None``:
    the entry does not say).

    The one reading of ``{field: [old, new]}`` backwards, shared by the undo and by the
    register as it stood at an earlier version (:mod:`.past`).
    """
    changes = dict(change["changes"])
    deleted = bool(changes["deleted"][0]) if "deleted" in changes else None
    return {f: old for f, (old, _new) in changes.items() if f != "deleted"}, deleted


def _plan(change: Any, current: dict[str, Any]) -> tuple[dict[str, Any], bool | None]:
    """The fields to put back and the deleted flag to set (``None``: unchanged); fields of a
    deleted station may still be put back, and it stays deleted.
    """
    if change["action"] == "created":
        return {}, True
    return before(change)


def undo_change(store: Store, station_id: str, version: int, *, expected_version: int | None, actor: Account,
                reason: str = "") -> int:
    """Undo version ``version`` of ``station_id``; returns the station's new version.

    ``expected_version`` is the station's current version as the person saw it (``None`` skips
    the check): a stale one raises :class:`~stationmap.store.refusals.Conflict`.
    """
    from .register import Conflict, NotFound, UndoConflict

    with store.guarded(actor, "station", station_id, reason) as (c, register_version, now):
        authorise_role(actor, "change.undo")        # before anything is looked up and answered
        row = c.execute(sa.select(stations).where(stations.c.id == station_id)).mappings().first()
        change = c.execute(sa.select(history).where(history.c.station_id == station_id,
                                                    history.c.version == version)).mappings().first()
        if row is None or change is None:
            raise NotFound(f"no version {version} of station {station_id!r}")
        current = records.from_row(row)
        fields, deleted = _plan(change, current)
        target = records.merge(current, fields, station_id=station_id) if fields else dict(current)
        authorise(actor, "change.undo", before={**current, "id": station_id}, after={**target, "id": station_id})
        if expected_version is not None and current["version"] != expected_version:
            raise Conflict(station_id, expected_version, current["version"])
        touched = set(change["changes"]) | ({"deleted"} if change["action"] == "created" else set())
        later: dict[int, list[str]] = {}
        for entry in c.execute(sa.select(history).where(history.c.station_id == station_id,
                                                        history.c.version > version)).mappings():
            overlap = sorted(touched & (set(entry["changes"]) | ({"deleted"} if entry["action"] == "created"
                                                                  else set())))
            if overlap or change["action"] == "created":
                later[int(entry["version"])] = overlap or ["*"]
        if later:
            raise UndoConflict(station_id, version, later, int(current["version"]))
        changes = records.diff(current, target)
        if deleted is not None and deleted != current["deleted"]:
            changes["deleted"] = [current["deleted"], deleted]
        new_version = int(current["version"]) + 1
        values: dict[str, Any] = {**records.to_row(target), "version": new_version, "changed_in": register_version}
        if deleted is not None:
            values["deleted"] = deleted
        c.execute(stations.update().where(stations.c.id == station_id).values(**values))
        action = ("deleted" if values.get("deleted") and not current["deleted"] else
                  "restored" if deleted is False and current["deleted"] else "updated")
        text = f"undo of version {version}" + (f": {reason}" if reason else "")
        store._record(c, station_id, new_version, register_version, now, action, changes, actor.who, text)
        audit.write(c, actor, "change.undo", "station", station_id,
                    before={f: old for f, (old, _new) in changes.items()},
                    after={f: new for f, (_old, new) in changes.items()} | {"undone_version": version},
                    reason=text, register_version=register_version, at=now)
    return new_version
