"""The station record: one schema, read from any supported file, validated row by row.

Stations live in a GeoDataFrame of WGS-84 points (EPSG:4326) with the columns in
:data:`COLUMNS`. Registers come from spreadsheets, so every value is checked and every problem
is reported with its row and field (:class:`~stationmap.errors.DataFileError`) instead of
surfacing later as a wrong answer.

Multi-valued ``amenities`` are stored as codes joined by ``;`` (OpenStreetMap's convention),
which every file format can hold; :func:`amenity_codes` splits them.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"id": ["a"], "name": ["爱心接力站"], "lon": [121.5], "lat": [31.24]})
>>> stations = from_frame(frame)
>>> stations.loc[0, "type"], stations.loc[0, "status"], stations.crs.to_epsg()
('outdoor_worker_station', 'open', 4326)
"""

from __future__ import annotations

import math
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords, hours, vocab
from ._files import atomic_path
from ._paths import data_file
from .coords import check_lon_lat
from .errors import DataFileError, InputError
from .safetext import text_problem

#: Every column of a station record, in file order (``geometry`` last).
COLUMNS: tuple[str, ...] = (
    "id", "name", "name_en", "type", "access", "amenities", "opening_hours", "operator",
    "address", "phone", "adcode", "status", "last_verified", "source",
)
REQUIRED: tuple[str, ...] = ("id", "name")
#: What an absent or empty optional value means.
DEFAULTS: dict[str, str] = {"type": "outdoor_worker_station", "access": "public", "status": "open"}
CRS = "EPSG:4326"
SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".parquet": "Parquet",
            ".geoparquet": "Parquet", ".csv": "CSV"}
_AMENITY_SPLIT = re.compile(r"[;,，；\s]+")
_ADCODE = re.compile(r"^\d{6}$")


def default_path() -> Path:
    """The shipped Shanghai sample."""
    return data_file("shanghai_stations.geojson")


def amenity_codes(value: Any) -> list[str]:
    """Amenity codes from ``"a;b"``, ``"a, b"``, a list, or nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(v).strip() for v in value]
    else:
        items = _AMENITY_SPLIT.split(str(value))
    return [item for item in items if item]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (pd.Timestamp, date)):
        return value.isoformat()[:10]
    return str(value).strip()


def _check_row(record: dict[str, Any], row: int, source: str) -> list[InputError]:
    problems: list[InputError] = []

    def bad(field: str, reason: str) -> None:
        problems.append(InputError(reason, field=field, row=row, source=source))

    for field in REQUIRED:
        if not record[field]:
            bad(field, "is empty; every station needs one")
    for field in COLUMNS:
        text = record[field]
        reason = text_problem(text, multiline=field == "address") if isinstance(text, str) else None
        if reason:
            bad(field, reason)
    for field, vocabulary in (("type", vocab.STATION_TYPES), ("access", vocab.ACCESS),
                              ("status", vocab.STATUSES)):
        if record[field] not in vocabulary:
            bad(field, f"unknown value {record[field]!r}; use one of {', '.join(vocabulary)}")
    unknown = vocab.unknown_codes(vocab.AMENITIES, amenity_codes(record["amenities"]))
    if unknown:
        bad("amenities", f"unknown amenity {', '.join(map(repr, unknown))}; "
                         f"use codes from {', '.join(vocab.AMENITIES)}")
    reason = hours.problem(record["opening_hours"])
    if reason:
        bad("opening_hours", reason)
    if record["adcode"] and not _ADCODE.match(record["adcode"]):
        bad("adcode", f"{record['adcode']!r} is not a 6-digit administrative code")
    if record["last_verified"]:
        try:
            date.fromisoformat(record["last_verified"])
        except ValueError:
            bad("last_verified", f"{record['last_verified']!r} is not a date (YYYY-MM-DD)")
    return problems


def from_frame(frame: pd.DataFrame | gpd.GeoDataFrame, *, source: str = "stations") -> gpd.GeoDataFrame:
    """Validate a table of stations and return it in the canonical schema.

    ``frame`` is either a GeoDataFrame of points, or a plain table with ``lon`` and ``lat``
    columns (WGS-84, or the system named per row in an optional ``coordsys`` column, e.g. an
    AMap export in ``gcj02``). Raises :class:`DataFileError` listing every bad row.
    """
    n = len(frame)
    if n == 0:
        raise DataFileError(source, [InputError("has no stations", source=source)])
    is_geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    _check_columns(frame, is_geo, source)

    problems: list[InputError] = []
    if is_geo:
        lon, lat, bad_points = _points_from_geometry(frame, source)
    else:
        lon, lat, bad_points = coords.points_from_rows(frame, source=source)
    problems.extend(bad_points)
    records = _records(frame)
    problems.extend(_check_records(records, n, source))
    if problems:
        problems.sort(key=lambda p: (p.row or 0))
        raise DataFileError(source, problems)
    return gpd.GeoDataFrame(records, geometry=gpd.points_from_xy(lon, lat), crs=CRS)


def _check_columns(frame: pd.DataFrame, is_geo: bool, source: str) -> None:
    """Stop with every missing required column named (and the columns there are)."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if not is_geo:
        missing += [c for c in ("lon", "lat") if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        raise DataFileError(source, [InputError(f"required column {c!r} is missing (columns: {have})",
                                                field=c, source=source) for c in missing])


def _points_from_geometry(geo: gpd.GeoDataFrame, source: str) -> tuple[np.ndarray, np.ndarray, list[InputError]]:
    """WGS-84 lon/lat of a GeoDataFrame's points (NaN where not a point) and the rows that are not."""
    n = len(geo)
    problems: list[InputError] = []
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if geo.crs is not None and not geo.crs.equals(CRS):
        geo = geo.to_crs(CRS)
    geoms = geo.geometry.array
    kinds = shapely.get_type_id(np.asarray(geoms))
    for i in np.flatnonzero((kinds != 0) | shapely.is_empty(np.asarray(geoms))):
        kind = "empty or missing" if geoms[i] is None or geoms[i].is_empty else geoms[i].geom_type
        problems.append(InputError(f"geometry is {kind}; stations must be points",
                                   field="geometry", row=int(i) + 1, source=source))
    ok = kinds == 0
    xy = shapely.get_coordinates(np.asarray(geoms)[ok])
    lon[ok], lat[ok] = xy[:, 0], xy[:, 1]
    for i in np.flatnonzero(ok):
        try:
            check_lon_lat(lon[i], lat[i], row=int(i) + 1, source=source)
        except InputError as exc:
            problems.append(exc)
    return lon, lat, problems


def _records(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The canonical columns as lists of text, with amenities as codes and defaults filled in."""
    n = len(frame)
    records: dict[str, list[str]] = {}
    for column in COLUMNS:
        if column in frame.columns:
            values = [_text(v) for v in frame[column].tolist()]
        else:
            values = [""] * n
        if column == "amenities" and column in frame.columns:
            values = [";".join(amenity_codes(v)) for v in frame[column].tolist()]
        default = DEFAULTS.get(column)
        if default:
            values = [v or default for v in values]
        records[column] = values
    return records


def _check_records(records: dict[str, list[str]], n: int, source: str) -> list[InputError]:
    """Every row's problems, and every id used twice (naming the row that had it first)."""
    problems: list[InputError] = []
    for row in range(1, n + 1):
        problems.extend(_check_row({c: records[c][row - 1] for c in COLUMNS}, row, source))
    seen: dict[str, int] = {}
    for row, station_id in enumerate(records["id"], start=1):
        if station_id and station_id in seen:
            problems.append(InputError(f"duplicate id {station_id!r} (first on row {seen[station_id]})",
                                       field="id", row=row, source=source))
        seen.setdefault(station_id, row)
    return problems


def read_stations(path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Read and validate stations from GeoJSON, GeoPackage, GeoParquet or CSV.

    ``None`` reads the shipped Shanghai sample. Raises :class:`DataFileError` for a missing,
    unreadable or invalid file.
    """
    path = Path(path) if path is not None else default_path()
    source = str(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataFileError(source, [InputError(
            f"unsupported file type {path.suffix or '(none)'!r}; use .geojson, .gpkg, .parquet or .csv")])
    if not path.is_file():
        raise DataFileError(source, [InputError("no such file")])
    try:
        if kind == "CSV":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        elif kind == "Parquet":
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path)
    except (UnicodeDecodeError, ValueError, OSError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(source, [InputError(f"cannot be read as {kind}: {reason}")]) from None
    except Exception as exc:  # pyogrio/pyarrow raise their own error types for corrupt files
        raise DataFileError(source, [InputError(f"cannot be read as {kind}: {exc}")]) from None
    return from_frame(frame, source=source)


def write_stations(stations: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write stations atomically: a failure never leaves a half-written file behind."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"unsupported file type {path.suffix!r}", field="path")
    frame = stations[list(COLUMNS) + [stations.geometry.name]]
    with atomic_path(path) as temp:
        if kind == "CSV":
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            table.insert(2, "lon", frame.geometry.x.round(7))
            table.insert(3, "lat", frame.geometry.y.round(7))
            table.to_csv(temp, index=False, encoding="utf-8")
        elif kind == "Parquet":
            frame.to_parquet(temp)
        else:
            options = {"COORDINATE_PRECISION": 7} if kind == "GeoJSON" else {"layer": "stations"}
            frame.to_file(temp, driver=kind, **options)
    return path
