"""Many rows into one table inside the caller's transaction, as fast as each backend takes them.

An import of a national register writes 186,100 stations and as many history entries. Sent
the ordinary way (SQLAlchemy's ``execute(insert, rows)``) each row's parameters are rebuilt
through the compiler, and on PostgreSQL each batch is parsed as one more multi-row ``INSERT``:
tens of seconds of CPU on both sides. Here the rows come as columns (a list per column, or
:class:`Same` for a value every row shares) and go:

- to SQLite through the driver's ``executemany``, the statement compiled once and each column
  converted by its type's own bind processor (once for a shared value);
- to PostgreSQL through ``COPY … FROM STDIN`` (psycopg 3's ``cursor.copy``), one stream the
  server parses column by column: points as hex EWKB (made by shapely for the whole column),
  JSON as text.

Both run on the caller's connection, inside its transaction: a failure anywhere rolls back every
row, as with any other statement. JSON columns are encoded with orjson (the same JSON as the
type's own encoder gives, without its spaces; read back by either).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
import sqlalchemy as sa

from .types import SRID, Json, Point, to_gpkg_header


@dataclass(frozen=True)
class Same:
    """One value for every row of a column (the import's number, its time, who made it)."""

    value: Any


class Encoded(list):
    """A JSON column's values already encoded as JSON text (written as they are)."""


Columns = Mapping[str, "Sequence[Any] | Same"]


def columns_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Row dicts (all with the same keys) as columns."""
    if not rows:
        return {}
    return {name: [row[name] for row in rows] for name in rows[0]}


def insert(c: sa.Connection, table: sa.Table, count: int, columns: Columns) -> None:
    """Insert ``count`` rows given as ``columns`` (see the module's notes) into ``table``."""
    if not count:
        return
    if c.dialect.name == "postgresql":
        _copy(c, table, count, columns)
    else:
        _executemany(c, table, count, columns)


def _json(values: Sequence[Any] | Same) -> list[Any] | Same:
    def encode(value: Any) -> Any:
        return None if value is None else orjson.dumps(value).decode()

    if isinstance(values, Encoded):
        return values
    if isinstance(values, Same):
        return Same(encode(values.value))
    return [encode(v) for v in values]


def _executemany(c: sa.Connection, table: sa.Table, count: int, columns: Columns) -> None:
    statement = table.insert().compile(dialect=c.dialect, column_keys=list(columns))
    names = list(statement.positiontup or []) if statement.positional else list(statement.binds)
    ready: list[Sequence[Any]] = []
    for name in names:
        values = columns[name]
        kind = table.c[name].type
        process = None
        if isinstance(kind, Json):
            values = _json(values)
        elif isinstance(kind, Point) and not isinstance(values, Same):
            values = _gpkg_blobs(values)
        else:
            process = kind.dialect_impl(c.dialect).bind_processor(c.dialect)
        if isinstance(values, Same):
            ready.append([process(values.value) if process else values.value] * count)
        else:
            ready.append([process(v) for v in values] if process else values)
    params = list(zip(*ready, strict=True))
    if statement.positional:
        c.exec_driver_sql(str(statement), params)
    else:
        c.exec_driver_sql(str(statement), [dict(zip(names, p, strict=True)) for p in params])


def _points(values: Sequence[Any]) -> tuple[list[int], np.ndarray]:
    """The positions of the values that are points, and those points as a shapely array."""
    located = [i for i, v in enumerate(values) if v is not None]
    pairs = [values[i] for i in located]
    if pairs and isinstance(pairs[0], shapely.Point):
        return located, np.asarray(pairs, dtype=object)
    return located, shapely.points(np.asarray(pairs, dtype=float).reshape(-1, 2))


def _gpkg_blobs(values: Sequence[Any]) -> list[bytes | None]:
    """:func:`.types.to_gpkg` for a whole column of ``(lon, lat)`` pairs or points (``None`` stays)."""
    located, points = _points(values)
    out: list[bytes | None] = [None] * len(values)
    empty = shapely.is_empty(points)
    header, flagged = to_gpkg_header(empty=False), to_gpkg_header(empty=True)
    for i, wkb, hollow in zip(located, shapely.to_wkb(points, byte_order=1, flavor="iso").tolist(), empty.tolist(),
                              strict=True):
        out[i] = (flagged if hollow else header) + wkb
    return out


def _ewkb_hex(values: Sequence[Any]) -> list[str | None]:
    """``(lon, lat)`` pairs (or shapely points; ``None`` for no point) as hex EWKB with SRID 4326."""
    located, points = _points(values)
    out: list[str | None] = [None] * len(values)
    if not located:
        return out
    encoded = shapely.to_wkb(shapely.set_srid(points, SRID), hex=True, include_srid=True, flavor="extended")
    for i, text in zip(located, encoded.tolist(), strict=True):
        out[i] = text
    return out


def _copy(c: sa.Connection, table: sa.Table, count: int, columns: Columns) -> None:
    names = list(columns)
    ready: list[Sequence[Any]] = []
    for name in names:
        values = columns[name]
        kind = table.c[name].type
        if isinstance(kind, Json):
            values = _json(values)
        elif isinstance(kind, Point):
            values = Same(_ewkb_hex([values.value])[0]) if isinstance(values, Same) else _ewkb_hex(values)
        ready.append([values.value] * count if isinstance(values, Same) else values)
    quoted = ", ".join(c.dialect.identifier_preparer.quote(n) for n in names)
    statement = f"COPY {table.name} ({quoted}) FROM STDIN"
    driver = c.connection.driver_connection
    assert driver is not None
    import psycopg

    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in zip(*ready, strict=True):
                copy.write_row(row)
    except psycopg.Error as error:      # as SQLAlchemy reports any other statement's failure
        raise sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


def execute_many(c: sa.Connection, statement: Any, rows: list[dict]) -> None:
    """``c.execute(statement, rows)`` for many rows (an ``UPDATE`` of every station an import
    changed or a revert deletes). On SQLite the statement is compiled once and each value
    converted by its column type's own bind processor, then handed to the driver's
    ``executemany`` in one call: SQLAlchemy's own path rebuilds every row's parameters through
    its compiler. PostgreSQL keeps SQLAlchemy's path (psycopg sends the rows in a pipeline;
    its typed binary parameters do not take the processors' text as they are).
    """
    if not rows:
        return
    if len(rows) < 100 or c.dialect.name != "sqlite":
        c.execute(statement, rows)
        return
    compiled = statement.compile(dialect=c.dialect, column_keys=list(rows[0]))
    processors = {name: bind.type.bind_processor(c.dialect) for name, bind in compiled.binds.items()}
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)

    def value(row: dict, name: str) -> Any:
        process = processors.get(name)
        return process(row[name]) if process is not None else row[name]

    params: list[Any]
    if compiled.positional:
        params = [tuple(value(row, n) for n in names) for row in rows]
    else:
        params = [{n: value(row, n) for n in names} for row in rows]
    c.exec_driver_sql(str(compiled), params)
