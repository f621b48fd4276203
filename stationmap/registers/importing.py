"""What an import would do to the register: the plan the store applies in one transaction.

:func:`plan_import` compares a register file's validated rows with the current register (a
GeoDataFrame in the stations schema, from :func:`stationmap.stations.read_stations` or the
store) and returns an :class:`ImportPlan`. Nothing is written here: a dry run prints the
plan's report, an import hands the plan to the store (``apply_import``), which must refuse a
plan whose :attr:`ImportPlan.ok` is false.

Modes
-----
``upsert``
    Rows whose id is in the register change it; other rows are added; stations the sheet
    does not name are left alone.
``replace-area`` (with ``adcode``)
    As ``upsert``, and every current station of the area (the adcode itself or one of its
    districts) that the sheet does not name is removed (a soft delete in the store). Every
    row must then belong to the area.

Only the columns a sheet has are compared and written, and an empty cell never erases a
stored value (a sheet with only 站点名称, 地址, 开放时间 does not wipe phones): to clear a
value, edit the station. A row without coordinates keeps a station's stored location.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from geopandas.array import GeometryDtype

from .. import districts
from ..errors import DataFileError
from ..stations import COLUMNS, DEFAULTS
from .rows import Finding, read_rows
from .sheets import RawTable, read_table

MODES = ("upsert", "replace-area")
#: Geometry moves smaller than this (degrees, about 1 cm) are the same place written twice.
_SAME_PLACE_DEG = 1e-7


@dataclass(frozen=True)
class FieldChange:
    """One field of one station: ``old`` → ``new`` (text; ``geometry`` as "lon,lat")."""

    station_id: str
    field: str
    old: str
    new: str
    row: int


@dataclass
class ImportPlan:
    """Everything an import would do, and every reason it must not.

    Attributes
    ----------
    source, sheet, digest, encoding
        The file (its name, the sheet read, SHA-256 of its bytes, the text encoding of a CSV):
        what the store records about the import.
    mode, adcode, coordsys
        How it was read and what it replaces.
    rows_read
        Data rows below the header.
    rows
        The validated incoming rows (WGS-84 points; ``geometry`` None and ``needs_location``
        True where the sheet has no coordinates), with the columns of
        :data:`stationmap.registers.rows.ROW_COLUMNS` plus ``lon``/``lat``. ``row`` is the
        sheet's row number.
    fields
        The station fields the file carries (``geometry`` when it has coordinates): the only
        fields an import writes.
    add
        Ids of rows that are new: insert the full row from ``rows`` (defaults applied).
    change
        Id → the :class:`FieldChange` list of that station: set exactly those fields.
    leave
        Ids of rows identical to the register.
    remove
        Ids of current stations to remove (``replace-area`` only).
    problems
        ``error`` findings: when any, :attr:`ok` is false and nothing may be applied.
    warnings
        Flags imported as reported (outside its district, far away, no coordinates, hours not
        understood, columns not imported).
    unknown_columns
        Headers that name no station field (also among ``warnings``).
    """

    source: str
    sheet: str | None
    digest: str
    encoding: str | None
    mode: str
    adcode: str | None
    coordsys: str
    rows_read: int
    rows: gpd.GeoDataFrame
    fields: tuple[str, ...]
    add: list[str] = field(default_factory=list)
    change: dict[str, list[FieldChange]] = field(default_factory=dict)
    leave: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the plan may be applied: no error findings."""
        return not self.problems

    @property
    def nothing_to_do(self) -> bool:
        """Whether the import would change nothing in the register."""
        return not (self.add or self.change or self.remove)

    def counts(self) -> dict[str, int]:
        """How many rows were read and would be added, changed, left and removed; problems and warnings."""
        return {"rows_read": self.rows_read, "add": len(self.add), "change": len(self.change),
                "leave": len(self.leave), "remove": len(self.remove), "problems": len(self.problems),
                "warnings": len(self.warnings),
                "needs_location": int(self.rows["needs_location"].sum()) if len(self.rows) else 0}

    def row_of(self, station_id: str) -> dict[str, Any]:
        """The validated incoming row of ``station_id`` as a dict (for the store's insert)."""
        match = self.rows[self.rows["id"] == station_id]
        return match.iloc[0].to_dict()


def _value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _same(field: str, old: str, new: str) -> bool:
    if field == "amenities":
        return set(filter(None, old.split(";"))) == set(filter(None, new.split(";")))
    return old == new


def _point_text(geom: Any) -> str:
    if geom is None or geom.is_empty:
        return ""
    return f"{geom.x:.7f},{geom.y:.7f}"


def _diff(station_id: str, incoming: dict[str, Any], current: dict[str, Any], fields: tuple[str, ...],
          row: int) -> list[FieldChange]:
    changes = []
    for name in fields:
        if name == "geometry":
            new_geom, old_geom = incoming["geometry"], current.get("geometry")
            if new_geom is None:
                continue
            if old_geom is None or old_geom.is_empty or max(abs(new_geom.x - old_geom.x),
                                                           abs(new_geom.y - old_geom.y)) > _SAME_PLACE_DEG:
                changes.append(FieldChange(station_id, "geometry", _point_text(old_geom), _point_text(new_geom), row))
            continue
        new, old = _value(incoming.get(name)), _value(current.get(name))
        if not new or (name in DEFAULTS and new == DEFAULTS[name] and not old):
            continue
        if not _same(name, old, new):
            changes.append(FieldChange(station_id, name, old, new, row))
    return changes


def table_records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``, built from whole columns (pandas' own goes cell by cell,
    minutes for a national register).
    """
    names = [str(c) for c in frame.columns]
    columns = [_column_list(frame, c) for c in frame.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _column_list(frame: gpd.GeoDataFrame, name: Any) -> list[Any]:
    """``frame[name].tolist()``; the geometry column as its array of shapely objects, which
    ``tolist`` would build through one pandas call per row.
    """
    column = frame[name]
    if isinstance(column.dtype, GeometryDtype):
        return np.asarray(column.array, dtype=object).tolist()
    return column.tolist()


def _in_area(code: str, area: str) -> bool:
    return bool(code) and code in districts.area_codes(area)


def plan_rows(table: RawTable, current: gpd.GeoDataFrame, *, mode: str = "upsert", adcode: str | None = None,
              coordsys: str = "gcj02") -> ImportPlan:
    """The plan for an already-read table (see the module's notes)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use {' or '.join(MODES)}")
    if mode == "replace-area" and not adcode:
        raise ValueError("replace-area needs the adcode of the area it replaces")
    read = read_rows(table, coordsys=coordsys, area=adcode, current=current)
    rows = read.rows
    if mode == "replace-area" and adcode in districts.SHANGHAI:
        rows.loc[rows["adcode"] == "", "adcode"] = adcode       # a district's own sheet
    fields = tuple(f for f in (*COLUMNS, "opening_hours_text") if f in read.fields
                   or (f == "opening_hours_text" and "opening_hours" in read.fields)
                   or (f == "adcode" and "lon" in read.fields))
    if "lon" in read.fields:
        fields += ("geometry",)
    findings = list(read.findings)
    plan = ImportPlan(table.source, table.sheet, table.digest, table.encoding, mode, adcode, coordsys,
                      len(table.rows), rows, fields, unknown_columns=read.unknown_columns)
    known = {str(sid): i for i, sid in enumerate(current["id"])} if len(current) else {}
    records = table_records(current) if len(current) else []
    seen: set[str] = set()
    names = [str(c) for c in rows.columns]
    columns = [_column_list(rows, c) for c in rows.columns]
    at = {name: k for k, name in enumerate(names)}
    # Row by row, but a row becomes a dict only when it is compared with a current station.
    for k, (sid, number, code) in enumerate(zip(columns[at["id"]], columns[at["row"]], columns[at["adcode"]],
                                                strict=True)):
        row = int(number)
        incoming = {"id": sid, "adcode": code}
        if sid in seen:               # a duplicate id: already a problem
            continue
        seen.add(sid)
        if mode == "replace-area" and adcode and not _in_area(incoming["adcode"], adcode):
            findings.append(Finding(
                "error", row, read.fields.get("adcode", "adcode"),
                f"district {incoming['adcode'] or '(none)'} is not in the area {adcode} being replaced",
                f"所属区“{incoming['adcode'] or '空'}”不在本次替换的地区 {adcode} 内", table.sheet, sid))
        if sid in known:
            incoming = {name: values[k] for name, values in zip(names, columns, strict=True)}
            changes = _diff(sid, incoming, records[known[sid]], fields, row)
            if changes:
                plan.change[sid] = changes
            else:
                plan.leave.append(sid)
        else:
            plan.add.append(sid)
    if mode == "replace-area" and adcode and len(current):
        named = set(rows["id"])
        plan.remove = [str(s) for s, code in zip(current["id"], current["adcode"], strict=True)
                       if s not in named and _in_area(_value(code), adcode)]
    plan.problems = [f for f in findings if f.severity == "error"]
    plan.warnings = [f for f in findings if f.severity != "error"]
    plan.problems.sort(key=lambda f: (f.row or 0))
    plan.warnings.sort(key=lambda f: (f.row or 0))
    return plan


def plan_import(path: str | os.PathLike, current: gpd.GeoDataFrame, *, mode: str = "upsert",
                adcode: str | None = None, coordsys: str | None = None, sheet: str | None = None,
                encoding: str | None = None) -> ImportPlan:
    """Read a register file and plan its import against ``current``.

    ``coordsys`` defaults to ``gcj02`` for spreadsheets (picked on AMap) and ``wgs84`` for
    geo files (by their format). Raises :class:`DataFileError` when the file cannot be read at
    all (no such file, unknown format, no header row, undecodable text); every row-level
    problem is in the plan instead, all at once.
    """
    table = read_table(path, sheet=sheet, encoding=encoding)
    chosen = coordsys or ("wgs84" if table.kind == "geo" else "gcj02")
    return plan_rows(table, current, mode=mode, adcode=adcode, coordsys=chosen)


def refuse_if_bad(plan: ImportPlan) -> None:
    """Raise :class:`DataFileError` listing every error if the plan must not be applied."""
    if not plan.ok:
        from ..errors import InputError

        raise DataFileError(Path(plan.source).name, [
            InputError(f"{p.en} ({p.zh})", field=p.column, row=p.row, source=p.sheet) for p in plan.problems])
