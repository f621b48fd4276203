"""Engines for the two backends, with the settings each needs for a register that several
processes read and write at once.

SQLite: the driver's own transaction handling is switched off so that a write transaction starts
with ``BEGIN IMMEDIATE`` (it takes the write lock at once, so two writers queue instead of one
failing half-way), reads start with a plain ``BEGIN``; WAL journal so readers (every worker's
version check) never block a writer; a 30 s busy timeout. PostgreSQL: ``postgresql://`` means
psycopg 3, the driver this project installs.

:func:`snapshot` is the one place for the rule that a read which labels data with the register
version (the version and the stations, read by separate statements) sees one committed state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

WRITE = {"stationmap_write": True}


def normalise_url(url: str | sa.URL) -> sa.URL:
    """The URL with the driver this project uses for each backend."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for ``url`` (``sqlite:///FILE`` or ``postgresql://…``)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=4)
    engine = sa.create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None        # we say BEGIN ourselves
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get("stationmap_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read transaction whose statements all see the same committed state of the store.

    A server labels what it reads with the register version read by another statement (the
    version, then the stations); a commit landing between the two must be in both or in neither,
    or a row of the next version is carried under the earlier version's label. Why each backend
    needs what it gets:

    - PostgreSQL: under its default READ COMMITTED every *statement* takes a new snapshot, so one
      transaction is not enough; ``REPEATABLE READ`` takes one snapshot at the first statement and
      keeps it to the end. A transaction that only reads cannot fail to serialise there, so no
      retry is needed (the isolation level goes back to the default when the connection returns
      to the pool).
    - SQLite (the GeoPackage, WAL journal): the plain ``BEGIN`` :func:`make_engine` sends is
      deferred, and in WAL mode the first read takes a read mark that the transaction keeps until
      it ends: every later statement reads the same version of the database, while writers go on
      committing (they do not wait for it, nor it for them).
    """
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.execution_options(isolation_level="REPEATABLE READ")
        with c.begin():
            yield c
