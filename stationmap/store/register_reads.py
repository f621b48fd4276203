"""The reads of the register: its version and date, its stations (all of them, or those changed
after a version), one station, and the history of changes.

A server labels what it reads with the register version, and next asks for what changed after
it: :meth:`RegisterReads.read` reads the stations and the :class:`RegisterInfo` that labels them
in one snapshot (:func:`.engine.snapshot`), and :func:`read_info` is the one query for that label,
so a read made inside another snapshot (:mod:`.past`) is labelled the same way.

:class:`~stationmap.store.register.Store` is these reads plus opening, writing and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import sqlalchemy as sa

from . import reading, records
from .engine import snapshot
from .refusals import NotFound
from .schema import history, register, stations

#: The stations a full load answers from: not deleted, and located.
_LIVE = sa.and_(~stations.c.deleted, stations.c.location.is_not(None))


@dataclass(frozen=True)
class Change:
    """One version of one station: who changed what, when and why."""

    station_id: str
    version: int
    register_version: int
    who: str
    at: datetime
    action: str                          # created | updated | deleted | restored
    changes: dict[str, list[Any]]        # field -> [old, new]
    reason: str
    import_id: int | None

    def as_json(self) -> dict[str, Any]:
        """The change as JSON-ready data (time in ISO 8601), as ``stationmap station history`` prints it."""
        return {"station_id": self.station_id, "version": self.version, "register_version": self.register_version,
                "who": self.who, "at": self.at.isoformat(), "action": self.action, "changes": self.changes,
                "reason": self.reason, "import_id": self.import_id}


@dataclass(frozen=True)
class RegisterInfo:
    """The register as a whole: its version (bumped by every change), when it last changed, and
    whether it still holds the synthetic sample (so pages can say the stations are not real).
    """

    version: int
    changed: datetime
    is_sample: bool


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_info(c: sa.Connection) -> RegisterInfo:
    """The :class:`RegisterInfo` as ``c`` sees it (one query: inside a :func:`.engine.snapshot`,
    the version, date and sample flag of the state the snapshot's other reads see).
    """
    row = c.execute(sa.select(register.c.version, register.c.changed, register.c.is_sample)).one()
    return RegisterInfo(int(row.version), _utc(row.changed), bool(row.is_sample))


class RegisterReads:
    """The reading half of :class:`~stationmap.store.register.Store`: each answer is read in one
    statement, or in one snapshot when it takes more than one.
    """

    engine: sa.Engine
    #: The engine's dialect name: ``sqlite`` or ``postgresql``.
    backend: str

    def info(self) -> RegisterInfo:
        """The register's version, last change and sample flag, read in one query."""
        with self.engine.connect() as c:
            return read_info(c)

    def register_version(self) -> int:
        """The register version: cheap enough to ask every second."""
        with self.engine.connect() as c:
            return int(c.execute(sa.select(register.c.version)).scalar_one())

    def load(self, *, since: int | None = None, with_fid: bool = False) -> tuple[gpd.GeoDataFrame, int]:
        """Every live, located station (the columns of ``COLUMNS`` plus ``closed_until``, ``version``
        and ``changed_in``, the register version of its last change) and the register version they belong to, read as
        one snapshot (see :meth:`read`).

        ``since``: instead, every station changed after that register version, live or not,
        located or not (``live`` column: whether it belongs in the answers; unlocated ones get an
        empty point) — what a server needs to bring a dataset of version ``since`` up to date
        without reading the whole register. ``with_fid`` adds the ``fid`` column (the row order
        of a full load).
        """
        rows, info = self.read(since)
        frame = reading.rows_frame(rows)
        if since is None:
            del frame["live"]
        if not with_fid:
            del frame["fid"]
        return frame, info.version

    def changed_rows(self, since: int) -> tuple[reading.Rows, int]:
        """What :meth:`load` gives with ``since`` (``fid`` and ``live`` included), as plain
        values: a server taking in an edit of one station reads its row, not a frame of it (one
        snapshot, see :meth:`read`).
        """
        rows, info = self.read(since)
        return rows, info.version

    def read(self, since: int | None = None) -> tuple[reading.Rows, RegisterInfo]:
        """The rows of :meth:`load` (``since=None``: every live, located station; otherwise every
        station changed after ``since``) as plain values, and the register's :meth:`info` they are of.

        Both are read as one snapshot (:func:`.engine.snapshot`): a server labels the rows with
        that version and date, and next asks for what changed after it, so a commit landing
        meanwhile must be in both or in neither — never a row of the next version carried under
        this one's label, nor this version dated by the next one's commit.
        """
        where, live = (_LIVE, sa.true()) if since is None else (stations.c.changed_in > since, _LIVE)
        with snapshot(self.engine) as c:
            info = read_info(c)
            rows = reading.read_rows(c, self.backend, where, live)
        return rows, info

    def needs_location(self) -> list[dict[str, Any]]:
        """Live stations without a position: kept and listed for staff to place, never answered."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(stations).where(~stations.c.deleted, stations.c.location.is_(None))
                             .order_by(stations.c.id)).mappings().all()
        return [records.from_row(r) for r in rows]

    def get(self, station_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """One station's record with its ``version``; :class:`NotFound` if there is none."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(stations).where(stations.c.id == station_id)).mappings().first()
        if row is None or (row["deleted"] and not include_deleted):
            raise NotFound(f"no station {station_id!r}")
        return records.from_row(row)

    def count(self) -> int:
        """Every station the store has ever held (live, deleted, unlocated)."""
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(stations)).scalar_one())

    def history(self, station_id: str) -> list[Change]:
        """Every version of a station, oldest first (deleted ones too)."""
        return self._changes(history.c.station_id == station_id)

    def changes(self, since: int, *, limit: int = 1000) -> list[Change]:
        """What changed after register version ``since``, oldest first, at most ``limit`` entries."""
        return self._changes(history.c.register_version > since, limit=limit)

    def _changes(self, where, *, limit: int | None = None) -> list[Change]:
        query = sa.select(history).where(where).order_by(history.c.register_version, history.c.fid).limit(limit)
        with self.engine.connect() as c:
            rows = c.execute(query).mappings().all()
        return [Change(r["station_id"], r["version"], r["register_version"], r["who"], _utc(r["at"]), r["action"],
                       dict(r["changes"]), r["reason"], r["import_id"]) for r in rows]
