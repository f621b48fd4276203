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

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
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
    """``(lon, lat)`` pairs (or shapely points; ``None`` for no point) as hex EWKB with SRID 4326.

    Pairs are packed by numpy: a point's EWKB is a fixed 18-character head (little-endian, type
    Point with an SRID, 4326) and its two coordinates as little-endian doubles, so the hex of the
    whole column's coordinates is cut into rows (shapely per chunk costs a second a national
    import; the two agree, tested).
    """
    out: list[str | None] = [None] * len(values)
    located = [i for i, v in enumerate(values) if v is not None]
    if not located:
        return out
    if isinstance(values[located[0]], shapely.Point):
        points = shapely.set_srid(np.asarray([values[i] for i in located], dtype=object), SRID)
        encoded = shapely.to_wkb(points, hex=True, include_srid=True, flavor="extended").tolist()
    else:
        digits = np.asarray([values[i] for i in located], dtype="<f8").reshape(-1, 2).tobytes().hex().upper()
        encoded = [_EWKB_POINT + digits[k:k + 32] for k in range(0, len(digits), 32)]
    for i, text in zip(located, encoded, strict=True):
        out[i] = text
    return out


#: The head of a 2D point's EWKB with SRID 4326: little-endian, type 0x20000001, SRID 4326.
_EWKB_POINT = "0101000020E6100000"


def _copy(c: sa.Connection, table: sa.Table, count: int, columns: Columns) -> None:
    start_copy(c, table, count, columns).wait()


class Pending:
    """A ``COPY`` under way in a thread of its own (:func:`start_copy`): :meth:`wait` for it
    before the connection is used again. Nothing else uses the connection meanwhile, so the
    caller's transaction holds the rows as if they had been sent from its own thread.
    """

    def __init__(self, send: Callable[[], None]):
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(send,), name="stationmap-copy", daemon=True)
        self._thread.start()

    def _run(self, send: Callable[[], None]) -> None:
        try:
            send()
        except BaseException as error:     # handed to the caller's thread by wait()
            self._error = error

    def wait(self) -> None:
        """Return once the server has taken every row; raise what the ``COPY`` raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error


class _Done(Pending):
    def __init__(self) -> None:
        self._error = None

    def wait(self) -> None:
        """Nothing to wait for: the rows were written before this was returned."""


def start_copy(c: sa.Connection, table: sa.Table, count: int, columns: Columns) -> Pending:
    """:func:`insert`, but on PostgreSQL the rows are sent (and the server's work on them
    awaited) from another thread, so that the caller can prepare its next rows while the
    server parses and indexes these: the caller must :meth:`Pending.wait` before using ``c``
    again, also when it fails (in a ``finally``). Elsewhere the rows are written at once.
    """
    if not count or c.dialect.name != "postgresql":
        insert(c, table, count, columns)
        return _Done()
    names = list(columns)
    kinds = [table.c[name].type for name in names]
    quoted = ", ".join(c.dialect.identifier_preparer.quote(n) for n in names)
    statement = f"COPY {table.name} ({quoted}) FROM STDIN"
    driver = c.connection.driver_connection
    assert driver is not None

    encoding = driver.info.encoding       # the connection's client_encoding, as psycopg itself encodes

    def send() -> None:
        import psycopg

        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for first in range(0, count, _CHUNK):      # the server starts on the first chunk
                    size = min(_CHUNK, count - first)
                    ready = [_copy_texts(kind, _part(columns[name], first, size), size)
                             for name, kind in zip(names, kinds, strict=True)]
                    lines = ["\t".join(row) for row in zip(*ready, strict=True)]
                    copy.write(("\n".join(lines) + "\n").encode(encoding))
        except psycopg.Error as error:      # as SQLAlchemy reports any other statement's failure
            raise sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error

    return Pending(send)


#: Rows per chunk of ``COPY`` text: a few megabytes, so the server starts while the rest is made.
_CHUNK = 5_000
_NULL = "\\N"
#: What ``COPY``'s text format escapes in a value (PostgreSQL manual, COPY, "Text Format").
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")


def _part(values: Sequence[Any] | Same, first: int, size: int) -> Sequence[Any] | Same:
    """Rows ``first`` to ``first + size`` of a column (an :class:`Encoded` one stays encoded)."""
    if isinstance(values, Same):
        return values
    part = values[first:first + size]
    return Encoded(part) if isinstance(values, Encoded) else part


def _copy_texts(kind: Any, values: Sequence[Any] | Same, count: int) -> list[str]:
    r"""A column's values as ``COPY`` text (escaped; ``\N`` for ``None``), one per row."""
    if isinstance(kind, Json):
        values = _json(values)
    elif isinstance(kind, Point):
        values = Same(_ewkb_hex([values.value])[0]) if isinstance(values, Same) else _ewkb_hex(values)
    if isinstance(values, Same):
        return [_copy_text(values.value)] * count
    if all(type(v) is str for v in values):     # the usual text column: escaped only if it must be
        texts = list(values)
        return [t.translate(_ESCAPES) for t in texts] if _SPECIAL.search("".join(texts)) else texts
    return [_copy_text(v) for v in values]


def _copy_text(value: Any) -> str:
    """One value as ``COPY`` text: as PostgreSQL's own input functions read it."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(f"no COPY text for {type(value).__name__}")
    return value.translate(_ESCAPES)


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
