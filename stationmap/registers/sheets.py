r"""Reading a register file as the union keeps it: cells as text, rows numbered as Excel shows them.

* XLSX (and XLS/ODS) through python-calamine (a Rust reader, many times faster than openpyxl
  on large sheets), any sheet by name.
* CSV in UTF-8, UTF-8 with BOM, GBK or GB18030: Chinese Excel saves "CSV" in the local code
  page unless "CSV UTF-8" is chosen. Strict UTF-8 is tried first; otherwise charset-normalizer
  guesses, and any Chinese guess is read as GB18030 (a superset of GB2312 and GBK, so it never
  loses a character that GBK has). ``encoding`` overrides the guess.
* GeoJSON, GeoPackage, GeoParquet (stationmap's own formats and its exports): each point gives
  ``lon``/``lat`` cells in WGS-84 and the file's own columns.

Merged title rows above the header ("宝山区爱心接力站一览表") are skipped: the header is the row,
among the first 30, whose cells name the most known fields (:func:`headers.field_of`).
Row numbers are what the user sees: the sheet's row in Excel (title and header rows counted),
the record's line in a CSV (header = 1), the feature's position in a GeoJSON (first = 1).

Examples
--------
>>> table = read_table_bytes("站点名称,地址\n友谊路站,宝山区友谊路1号\n".encode("gbk"), "台账.csv")
>>> table.encoding, table.headers, table.rows, table.row_numbers
('gb18030', ['站点名称', '地址'], [['友谊路站', '宝山区友谊路1号']], [2])
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ..errors import DataFileError, InputError
from . import headers

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
GEOFILES = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet")
SUFFIXES = (*SPREADSHEETS, ".csv", ".txt", *GEOFILES)
_SCAN = 30
_FORMULA_SIGNS = ("=", "+", "-", "@")
_CHINESE = ("gb18030", "gbk", "gb2312", "cp936", "hz", "big5", "big5hkscs", "cp950")


@dataclass
class RawTable:
    """A register's cells as text, before any field is interpreted.

    ``rows[i]`` is the row the user sees as row ``row_numbers[i]``; ``headers`` came from row
    ``header_row``. ``problems`` are geometries that are not points (geo files only).
    """

    source: str
    kind: str                        # "xlsx", "csv" or "geo"
    sheet: str | None
    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    header_row: int
    digest: str                      # SHA-256 of the file's bytes: the import's identity
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ".0" (phone numbers, adcodes), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:2] in _FORMULA_SIGNS:
        text = text[1:]              # stationmap's exports write formula-like text this way
    return text


def _column_text(column: Any) -> list[str]:
    """A column's cells as :func:`cell_text` gives them; a column of text in three vectorised
    string operations instead of a call per cell (a national file has 186,100 rows).
    """
    import pandas as pd

    if pd.api.types.infer_dtype(column, skipna=False) != "string":
        return [cell_text(v) for v in column.tolist()]
    # a missing cell is "", as cell_text
    text = list(map(str.strip, column.astype(object).where(column.notna(), "").tolist()))
    for i in [i for i, t in enumerate(text) if t[:1] == "'" and t[1:2] in _FORMULA_SIGNS]:
        text[i] = text[i][1:]
    return text


def _header_row(grid: list[list[str]], source: str, required: str = "name") -> int:
    """The position of the header among the first rows: the most cells naming known fields,
    one of them ``required`` (a register's ``name``; a demand file's ``lon``).
    """
    best, best_score = -1, 0
    for i, row in enumerate(grid[:_SCAN]):
        fields = [headers.field_of(c) for c in row if c]
        score = sum(1 for f in fields if f)
        if score > best_score and required in fields:
            best, best_score = i, score
    if best < 0 or best_score < 2:
        wanted = ("name", "address", "opening_hours", "lon", "lat") if required == "name" else ("lon", "lat")
        expected = "、".join(headers.header(f) for f in wanted)
        raise DataFileError(source, [InputError(
            f"no header row found in the first {_SCAN} rows; expected columns such as {expected} "
            f"(未找到表头：请使用 {expected} 等列名)")])
    return best


def _from_grid(grid: list[list[str]], *, source: str, kind: str, sheet: str | None, digest: str,
               encoding: str | None = None, sheets: list[str] | None = None, required: str = "name") -> RawTable:
    at = _header_row(grid, source, required)
    width = max((len(r) for r in grid), default=0)
    head = [c.strip() for c in grid[at]] + [""] * (width - len(grid[at]))
    rows, numbers = [], []
    for i in range(at + 1, len(grid)):
        row = grid[i] + [""] * (width - len(grid[i]))
        if any(c.strip() for c in row):
            rows.append(row)
            numbers.append(i + 1)
    while head and not head[-1] and not any(r[len(head) - 1] for r in rows):
        head.pop()
        rows = [r[:len(head)] for r in rows]
    return RawTable(source, kind, sheet, head, rows, numbers, at + 1, digest, encoding, sheets or [])


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of CSV bytes: BOM, then strict UTF-8, then charset-normalizer."""
    if encoding:
        return data.decode(encoding), encoding.lower()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    guess = (best.encoding if best is not None else "gb18030").lower()
    if guess in _CHINESE and not guess.startswith("big5") and guess != "cp950":
        guess = "gb18030"
    return data.decode(guess), guess


def read_table_bytes(data: bytes, name: str, *, sheet: str | None = None,
                     encoding: str | None = None, path: Path | None = None, required: str = "name") -> RawTable:
    """Read a register from its bytes; ``name`` (a file name) gives the format by its suffix;
    the header row is the one naming most known fields, ``required`` among them.

    Raises :class:`DataFileError` naming the reason when the file cannot be read at all.
    """
    suffix = Path(name).suffix.lower()
    digest = hashlib.sha256(data).hexdigest()
    if suffix not in SUFFIXES:
        raise DataFileError(name, [InputError(
            f"unsupported file type {suffix or '(none)'!r}; use {', '.join(SUFFIXES)}")])
    try:
        if suffix in SPREADSHEETS:
            return _read_workbook(data, name, sheet, digest, required)
        if suffix in GEOFILES:
            return _read_geofile(path if path is not None else data, name, suffix, digest)
        try:
            text, used = decode(data, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataFileError(name, [InputError(
                f"cannot be decoded as {encoding or 'UTF-8/GB18030'}: {exc}; give --encoding")]) from None
        dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel
        grid = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""), dialect)]
        grid = [[cell_text(c) for c in row] for row in grid]
        return _from_grid(grid, source=name, kind="csv", sheet=None, digest=digest, encoding=used, required=required)
    except DataFileError:
        raise
    except Exception as exc:     # calamine, pyogrio and pyarrow raise their own error types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(name, [InputError(f"cannot be read: {reason} (无法读取该文件)")]) from None


def read_table(path: str | os.PathLike, *, sheet: str | None = None, encoding: str | None = None) -> RawTable:
    """Read a register file (see :func:`read_table_bytes`)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(str(path), [InputError("no such file (文件不存在)")])
    table = read_table_bytes(path.read_bytes(), path.name, sheet=sheet, encoding=encoding, path=path)
    table.source = str(path)
    return table


def _read_workbook(data: bytes, name: str, sheet: str | None, digest: str, required: str = "name") -> RawTable:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise DataFileError(name, [InputError(
            f"no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))} (没有该工作表)", field="sheet")])
    chosen = sheet if sheet is not None else names[0]
    grid = [[cell_text(c) for c in row]
            for row in book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)]
    return _from_grid(grid, source=name, kind="xlsx", sheet=chosen, digest=digest, sheets=names, required=required)


def _read_geofile(data: bytes | Path, name: str, suffix: str, digest: str) -> RawTable:
    import geopandas as gpd
    import numpy as np
    import shapely

    source = data if isinstance(data, Path) else io.BytesIO(data)     # GDAL prefers a real path
    if suffix in (".parquet", ".geoparquet"):
        frame = gpd.read_parquet(source)
    else:
        frame = gpd.read_file(source)
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    columns = [c for c in frame.columns if c != frame.geometry.name and c not in ("lon", "lat", "coordsys")]
    problems = []
    # Column by column, the points in one vectorised call: a national file has 186,100 rows.
    cells = [_column_text(frame[c]) for c in columns]
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = present & (shapely.get_type_id(geoms) == 0)
    xy = shapely.get_coordinates(geoms[points])
    lon = np.full(len(frame), "", dtype=object)
    lat = np.full(len(frame), "", dtype=object)
    lon[points] = [repr(x) for x in xy[:, 0].tolist()]
    lat[points] = [repr(y) for y in xy[:, 1].tolist()]
    for i in np.flatnonzero(present & ~points).tolist():
        problems.append(InputError(f"geometry is a {geoms[i].geom_type}; stations must be points",
                                   field="geometry", row=i + 1, source=name))
    rows = [[*values, x, y, "wgs84"] for *values, x, y in zip(*cells, lon.tolist(), lat.tolist(), strict=True)]
    return RawTable(name, "geo", None, [*map(str, columns), "lon", "lat", "coordsys"], rows,
                    list(range(1, len(rows) + 1)), 0, digest, problems=problems)
