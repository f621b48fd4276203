"""The data-access API of the register: read it, edit one station, follow its history.

Every write is one transaction that first bumps the register version (``UPDATE register SET
version = version + 1``): that row lock serialises writers on PostgreSQL (``BEGIN IMMEDIATE`` does
on SQLite), so versions are handed out in commit order and a reader that has seen version *n* has
seen every change up to *n*. On PostgreSQL the same transaction sends ``NOTIFY stationmap_register``,
delivered only if it commits, which wakes every app server's watcher.

Edits carry the station version they started from (``expected_version``): a stale one raises
:class:`Conflict` and changes nothing, so two people editing the same station never lose an update.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import sqlalchemy as sa

from ..accounts import Account
from ..errors import InputError, StationmapError
from ..permissions import Forbidden, authorise
from . import audit, geopackage, migrate, people, reading, records
from .audit import AuditEntry
from .engine import WRITE, make_engine, normalise_url, snapshot
from .schema import history, register, stations

CHANNEL = "stationmap_register"
#: The stations a full load answers from: not deleted, and located.
_LIVE = sa.and_(~stations.c.deleted, stations.c.location.is_not(None))


class Conflict(StationmapError):
    """The station changed since the version an edit started from (HTTP 412 on the web)."""

    def __init__(self, station_id: str, expected: int | None, actual: int | None):
        self.station_id, self.expected, self.actual = station_id, expected, actual
        super().__init__(f"station {station_id!r} is at version {actual}, not {expected}: "
                         "it was changed meanwhile; reload it and apply your edit again")


class UndoConflict(Conflict):
    """A later version changed a field an undo would put back (see :mod:`.undo`)."""

    def __init__(self, station_id: str, version: int, later: dict[int, list[str]], actual: int):
        self.later, self.undone = later, version
        super().__init__(station_id, None, actual)
        shown = "; ".join(f"version {v}: {', '.join(fields)}" for v, fields in sorted(later.items()))
        self.args = (f"station {station_id!r}: version {version} cannot be undone because a later change altered "
                     f"the same fields ({shown}); undo those first or edit the station by hand "
                     "(之后的更改修改了相同字段，不能撤销)",)


class NotFound(StationmapError, KeyError):
    """No station with that id (or no import with that number)."""

    def __str__(self) -> str:
        return str(self.args[0])


class SchemaError(StationmapError):
    """The store's schema is missing or older than this stationmap: run ``stationmap db upgrade``."""


class _Unchanged(Exception):
    def __init__(self, version: int):
        self.version = version


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


def current_user() -> str:
    """Who a command-line change is recorded as: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_info(c: sa.Connection) -> RegisterInfo:
    """The :class:`RegisterInfo` as ``c`` sees it (one query: inside a :func:`.engine.snapshot`,
    the version, date and sample flag of the state the snapshot's other reads see).
    """
    row = c.execute(sa.select(register.c.version, register.c.changed, register.c.is_sample)).one()
    return RegisterInfo(int(row.version), _utc(row.changed), bool(row.is_sample))


class Store:
    """A station register in a database (see :mod:`stationmap.store`)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.backend = engine.dialect.name

    @classmethod
    def open(cls, url: str | sa.URL, *, upgrade: bool = False) -> Store:
        """Connect to the store at ``url``; ``upgrade=True`` creates or migrates its schema first,
        otherwise a store not at the current schema raises :class:`SchemaError`.
        """
        try:
            parsed = normalise_url(url)
            engine = make_engine(parsed)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError):
            # Not echoed: a mistyped URL may still hold a password.
            raise SchemaError("the store URL cannot be read; use sqlite:///FILE.gpkg or "
                              "postgresql://USER@HOST/DB") from None
        try:
            return cls._open(parsed, engine, url, upgrade)
        except sa.exc.OperationalError as error:
            engine.dispose()
            reason = (str(error.orig or error).strip().splitlines() or ["unreachable"])[0]
            raise SchemaError(f"{describe(url)}: cannot open the store ({reason})") from None

    @classmethod
    def _open(cls, parsed: sa.URL, engine: sa.Engine, url: str | sa.URL, upgrade: bool) -> Store:
        if not upgrade and parsed.get_backend_name() == "sqlite" and parsed.database:
            from pathlib import Path

            if not Path(parsed.database).is_file():     # do not leave an empty file behind
                raise SchemaError(f"{describe(url)}: no such file; create it with `stationmap db upgrade` "
                                  "or `stationmap db init --from FILE`")
        store = cls(engine)
        if upgrade:
            store.upgrade()
        else:
            found = migrate.current(store.engine)
            if found != migrate.head():
                store.close()
                state = "has no register" if found is None else f"is at schema {found}, not {migrate.head()}"
                raise SchemaError(f"{describe(url)} {state}: run `stationmap db upgrade`")
        return store

    def upgrade(self) -> None:
        """Create or migrate the schema to the current head (safe to repeat: at head it does nothing)."""
        migrate.upgrade(self.engine)

    def close(self) -> None:
        """Close the engine's pooled connections (a GeoPackage file is then free to move or delete)."""
        self.engine.dispose()

    @property
    def label(self) -> str:
        """The store as people name it in messages, without a password (see :func:`describe`)."""
        return describe(self.engine.url)

    # -- reading ------------------------------------------------------------------------------

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

    # -- writing ------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[tuple[sa.Connection, int, datetime]]:
        """One write transaction with the register version already bumped: yields the
        connection, the new register version and the time of the change.
        """
        with self.engine.connect() as c:
            c.execution_options(**WRITE)
            with c.begin():
                now = datetime.now(UTC)
                version = int(c.execute(register.update().values(version=register.c.version + 1, changed=now)
                                        .returning(register.c.version)).scalar_one())
                yield c, version, now
                if self.backend == "postgresql":
                    c.execute(sa.select(sa.func.pg_notify(CHANNEL, str(version))))
                else:
                    geopackage.touch(c)

    @contextmanager
    def guarded(self, actor: Account, kind: str, target: str | int | None,
                reason: str = "") -> Iterator[tuple[sa.Connection, int, datetime]]:
        """:meth:`transaction` for a change ``actor`` makes: a :class:`Forbidden` raised inside
        (by :func:`~stationmap.permissions.authorise`) rolls the change back, is written to the
        audit in a transaction of its own, and is raised again.
        """
        try:
            with self.transaction() as t:
                yield t
        except Forbidden as refusal:
            audit.refused(self, actor, refusal, kind, target, reason=reason)
            raise

    def _audit_station(self, c: sa.Connection, actor: Account, action: str, station_id: str,
                       changes: Mapping[str, Any], reason: str, register_version: int, now: datetime) -> None:
        audit.write(c, actor, action, "station", station_id,
                    before={f: old for f, (old, _new) in changes.items()},
                    after={f: new for f, (_old, new) in changes.items()},
                    reason=reason, register_version=register_version, at=now)

    def create(self, station_id: str, fields: Mapping[str, Any], *, actor: Account, reason: str = "") -> int:
        """Add a station (``fields`` as for :meth:`update`); returns its version (1).

        Re-creating a deleted station's id restores it with these values.
        """
        if not str(station_id).strip():
            raise InputError("is empty; every station needs one", field="id")
        record = records.merge(records.blank(), fields, station_id=station_id)
        with self.guarded(actor, "station", station_id, reason) as (c, register_version, now):
            row = c.execute(sa.select(stations).where(stations.c.id == station_id)).mappings().first()
            old = records.from_row(row) if row is not None else records.blank()
            authorise(actor, "station.create", before=old if row is not None else None,
                      after={**record, "id": station_id})
            if row is not None and not row["deleted"]:
                raise Conflict(station_id, None, row["version"])
            version = (row["version"] + 1) if row is not None else 1
            values = records.to_row(record) | {"version": version, "deleted": False, "changed_in": register_version}
            if row is None:
                c.execute(stations.insert().values(id=station_id, **values))
            else:
                c.execute(stations.update().where(stations.c.id == station_id).values(**values))
            changes = records.diff({} if row is None else old, record)
            self._record(c, station_id, version, register_version, now, "created" if row is None else "restored",
                         changes, actor.who, reason)
            self._audit_station(c, actor, "station.create", station_id, changes, reason, register_version, now)
        return version

    def update(self, station_id: str, fields: Mapping[str, Any], *, expected_version: int | None,
               actor: Account, reason: str = "") -> int:
        """Change some fields of a live station; returns its new version (unchanged if nothing
        differs). ``expected_version=None`` skips the check (the command line's ``station set``
        reads and writes in one step).
        """
        try:
            with self.guarded(actor, "station", station_id, reason) as (c, register_version, now):
                version, changed = self._update_in(c, register_version, now, station_id, fields,
                                                   expected_version=expected_version, actor=actor, reason=reason)
                if not changed:      # roll back: an edit that changes nothing is no new version
                    raise _Unchanged(version)
        except _Unchanged as same:
            return same.version
        return version

    def _update_in(self, c: sa.Connection, register_version: int, now: datetime, station_id: str,
                   fields: Mapping[str, Any], *, expected_version: int | None, actor: Account,
                   reason: str) -> tuple[int, bool]:
        """:meth:`update` inside a write transaction the caller holds (accepting a report edits
        the station and closes the report in one): returns the station's version and whether it
        changed (if not, nothing was written).
        """
        current = self._live(c, station_id, expected_version)
        record = records.merge(current, fields, station_id=station_id)
        authorise(actor, "station.update", before=current, after={**record, "id": station_id})
        changes = records.diff(current, record)
        if not changes:
            return int(current["version"]), False
        version = int(current["version"]) + 1
        c.execute(stations.update().where(stations.c.id == station_id)
                  .values(**records.to_row(record), version=version, changed_in=register_version))
        self._record(c, station_id, version, register_version, now, "updated", changes, actor.who, reason)
        self._audit_station(c, actor, "station.update", station_id, changes, reason, register_version, now)
        return version, True

    def delete(self, station_id: str, *, expected_version: int | None, actor: Account, reason: str = "") -> int:
        """Soft-delete a station: gone from answers, kept with its history; returns its version."""
        with self.guarded(actor, "station", station_id, reason) as (c, register_version, now):
            current = self._live(c, station_id, expected_version)
            authorise(actor, "station.delete", before=current, after=current)
            version = int(current["version"]) + 1
            c.execute(stations.update().where(stations.c.id == station_id)
                      .values(deleted=True, version=version, changed_in=register_version))
            self._record(c, station_id, version, register_version, now, "deleted", {"deleted": [False, True]},
                         actor.who, reason)
            self._audit_station(c, actor, "station.delete", station_id, {"deleted": [False, True]}, reason,
                                register_version, now)
        return version

    def restore(self, station_id: str, *, expected_version: int | None, actor: Account, reason: str = "") -> int:
        """Bring a deleted station back as it was; returns its version."""
        with self.guarded(actor, "station", station_id, reason) as (c, register_version, now):
            row = c.execute(sa.select(stations).where(stations.c.id == station_id)).mappings().first()
            if row is None or not row["deleted"]:
                raise NotFound(f"no deleted station {station_id!r}")
            authorise(actor, "station.restore", before=records.from_row(row), after=records.from_row(row))
            if expected_version is not None and row["version"] != expected_version:
                raise Conflict(station_id, expected_version, row["version"])
            version = row["version"] + 1
            c.execute(stations.update().where(stations.c.id == station_id)
                      .values(deleted=False, version=version, changed_in=register_version))
            self._record(c, station_id, version, register_version, now, "restored", {"deleted": [True, False]},
                         actor.who, reason)
            self._audit_station(c, actor, "station.restore", station_id, {"deleted": [True, False]}, reason,
                                register_version, now)
        return version

    # -- many stations at once (see :mod:`stationmap.store.bulk`) ------------------------------

    def seed(self, frame, *, file_name: str, digest: str, who: str | None = None, reason: str = "",
             is_sample: bool = False):
        """Fill an empty store from a validated stations table; returns an ``ImportResult``."""
        from .bulk import seed

        return seed(self, frame, file_name=file_name, digest=digest, who=who, reason=reason, is_sample=is_sample)

    def apply_import(self, frame, *, actor: Account, mode: str = "upsert", adcode: str | None = None,
                     reason: str = "", file_name: str = "", digest: str = "", fields=None, expected=None):
        """Apply an import all or nothing; returns an ``ImportResult`` (see :func:`.bulk.apply_import`)."""
        from .bulk import apply_import

        return apply_import(self, frame, mode=mode, adcode=adcode, actor=actor, reason=reason,
                            file_name=file_name, digest=digest, fields=fields, expected=expected)

    def revert_import(self, import_id: int, *, actor: Account, reason: str = "") -> int:
        """Undo an import; returns the register version of the revert (see :func:`.bulk.revert_import`)."""
        from .bulk import revert_import

        return revert_import(self, import_id, actor=actor, reason=reason)

    def undo_change(self, station_id: str, version: int, *, expected_version: int | None, actor: Account,
                    reason: str = "") -> int:
        """Undo one change of a station as a new version; returns it (see :func:`.undo.undo_change`)."""
        from .undo import undo_change

        return undo_change(self, station_id, version, expected_version=expected_version, actor=actor, reason=reason)

    # -- people, tokens, audit (see :mod:`.people` and :mod:`.audit`) ---------------------------

    def add_account(self, name: str, role: str, adcodes=(), *, password: str, actor: Account) -> Account:
        """Create an account (admins only; see :func:`.people.add_account`)."""
        return people.add_account(self, name, role, adcodes, password=password, actor=actor)

    def set_password(self, name: str, password: str, *, actor: Account) -> None:
        """Change a password (an admin, or the account itself); its sessions end."""
        people.set_password(self, name, password, actor=actor)

    def disable_account(self, name: str, *, actor: Account) -> None:
        """Disable an account: its sessions and tokens are refused at once."""
        people.set_disabled(self, name, True, actor=actor)

    def enable_account(self, name: str, *, actor: Account) -> None:
        """Enable a disabled account again."""
        people.set_disabled(self, name, False, actor=actor)

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        return people.all_accounts(self)

    def account(self, name: str) -> Account:
        """The account called ``name`` (:class:`NotFound` if none)."""
        return people._lookup(self, name)

    def account_by_id(self, account_id: int) -> Account | None:
        """The account with this id, or ``None``."""
        return people.account_by_id(self, account_id)

    def authenticate(self, name: str, password: str) -> Account | None:
        """The enabled account whose password this is, else ``None`` (see :func:`.people.authenticate`)."""
        return people.authenticate(self, name, password)

    def bump_session_epoch(self, name: str) -> int:
        """End every session of an account; returns the new epoch."""
        return people.bump_session_epoch(self, name)

    def new_token(self, name: str, label: str = "", *, actor: Account) -> str:
        """A new API token for ``name``, returned once (stored as its SHA-256 digest)."""
        return people.new_token(self, name, label, actor=actor)

    def revoke_token(self, token_id: int, *, actor: Account) -> None:
        """Revoke an API token at once."""
        people.revoke_token(self, token_id, actor=actor)

    def tokens(self, name: str | None = None) -> list[people.ApiToken]:
        """The API tokens of an account (or of everyone), never the tokens themselves."""
        return people.tokens(self, name)

    def account_for_token(self, token: str) -> Account | None:
        """The account an API token acts for, or ``None`` (unknown, revoked, or account disabled)."""
        return people.account_for_token(self, token)

    def refuse_token(self, token: str, action: str, *, source: str, address: str = "") -> bool:
        """Audit a request made with a revoked token or a disabled account's token (see :mod:`.people`)."""
        return people.refuse_token(self, token, action, source=source, address=address)

    def audit(self, *, station_id: str | None = None, who: str | None = None, action: str | None = None,
              outcome: str | None = None, since: datetime | None = None, until: datetime | None = None,
              target_kind: str | None = None, target_id: str | None = None, limit: int = 200,
              offset: int = 0) -> list[AuditEntry]:
        """The audit, newest first, filtered (see :func:`.audit.entries`)."""
        return audit.entries(self, station_id=station_id, who=who, action=action, outcome=outcome, since=since,
                             until=until, target_kind=target_kind, target_id=target_id, limit=limit, offset=offset)

    def imports(self) -> list[dict[str, Any]]:
        """Every import, newest first (id, file name, digest, counts, reason, who, when, reverted)."""
        from .schema import imports

        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(sa.select(imports).order_by(imports.c.id.desc())).mappings()]

    # -- workers' reports (see :mod:`stationmap.store.reports`) ---------------------------------

    def add_report(self, station_id: str, new, *, address: str, agent: str = "", now: datetime | None = None):
        """Record a worker's report (one per client, station and day); returns the ``Report``."""
        from .reports import add_report

        return add_report(self, station_id, new, address=address, agent=agent, now=now)

    def report_tallies(self, now: datetime, rules, station_ids=None):
        """Recent reports per station, for the summaries (see :func:`.reports.tallies`)."""
        from .reports import tallies

        return tallies(self, now, rules, station_ids)

    def reports(self, *, adcodes=None, status: str | None = "open", station_id: str | None = None,
                limit: int = 200):
        """The staff queue, newest first (see :func:`.reports.queue`)."""
        from .reports import queue

        return queue(self, adcodes=adcodes, status=status, station_id=station_id, limit=limit)

    def report(self, report_id: int):
        """One report (``NotFound`` if none)."""
        from .reports import report

        return report(self, report_id)

    def resolve_report(self, report_id: int, decision: str, *, actor: Account, reason: str = "",
                       merge_into: int | None = None):
        """Accept, reject or merge a report as ``actor`` (staff); accepting edits the station
        as that actor, in the same transaction that closes the report, so the change is in its
        history like any edit and never made without the report closed (or the reverse).
        """
        from .reports import resolve

        return resolve(self, report_id, decision, actor=actor, reason=reason, merge_into=merge_into)

    def _live(self, c: sa.Connection, station_id: str, expected_version: int | None) -> dict[str, Any]:
        row = c.execute(sa.select(stations).where(stations.c.id == station_id)).mappings().first()
        if row is None or row["deleted"]:
            raise NotFound(f"no station {station_id!r}")
        if expected_version is not None and row["version"] != expected_version:
            raise Conflict(station_id, expected_version, row["version"])
        return records.from_row(row)

    @staticmethod
    def _record(c: sa.Connection, station_id: str, version: int, register_version: int, now: datetime,
                action: str, changes: Mapping[str, Any], who: str, reason: str,
                import_id: int | None = None) -> None:
        c.execute(history.insert().values(station_id=station_id, version=version, register_version=register_version,
                                          who=who, at=now, action=action, changes=dict(changes),
                                          reason=reason or "", import_id=import_id))


def describe(url: str | sa.URL) -> str:
    """The store as people name it, without a password: the file name, or database@host."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        from pathlib import Path

        return Path(parsed.database or "memory").name
    return f"PostgreSQL {parsed.database}@{parsed.host or 'localhost'}"
