"""The data-access API of the register: open it, edit one station, import, undo, and the people,
audit and reports behind it (its reads are :mod:`.register_reads`, what it refuses with
:mod:`.refusals`; both re-exported here).

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
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..accounts import Account
from ..errors import InputError
from ..permissions import Forbidden, authorise
from . import audit, geopackage, migrate, people, records
from .audit import AuditEntry
from .engine import WRITE, make_engine, normalise_url
from .refusals import Conflict, NotFound, SchemaError, UndoConflict
from .register_reads import Change, RegisterInfo, RegisterReads, read_info
from .schema import history, register, stations

__all__ = ["CHANNEL", "Change", "Conflict", "NotFound", "RegisterInfo", "RegisterReads", "SchemaError", "Store",
           "UndoConflict", "current_user", "describe", "read_info"]

CHANNEL = "stationmap_register"


class _Unchanged(Exception):
    def __init__(self, version: int):
        self.version = version


def current_user() -> str:
    """Who a command-line change is recorded as: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Store(RegisterReads):
    """A station register in a database (see :mod:`stationmap.store`): the reads of
    :class:`~.register_reads.RegisterReads`, and opening, writing and the rest.
    """

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
