"""One station as the store holds it, checked by the same rules as every stations file.

An edit (``station set``, the API, an import row) becomes a full record — the current values with
the edited ones over them — and that record goes through :func:`stationmap.stations._check_row`
and :func:`stationmap.stations.check_lon_lat`: one set of rules, whichever way a value came in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import shapely

from .. import coords
from ..errors import DataFileError, InputError
from ..stations import COLUMNS, DEFAULTS, _check_row, _text, amenity_codes, check_lon_lat
from .schema import TEXT_COLUMNS

#: Fields an edit may name: the record's columns, the original hours text, a position.
EDITABLE: tuple[str, ...] = tuple(c for c in COLUMNS if c != "id") + (
    "opening_hours_text", "closed_until", "lon", "lat", "coordsys", "location")
#: Fields recorded in history (``location`` as ``[lon, lat]`` or ``None``).
TRACKED: tuple[str, ...] = TEXT_COLUMNS + ("closed_until", "location")

Location = list[float] | None


def location_of(point: shapely.Point | None) -> Location:
    """A point as JSON-friendly ``[lon, lat]`` (``None``: needs a location)."""
    if point is None or point.is_empty:
        return None
    return [round(point.x, 9), round(point.y, 9)]


def point_of(location: Location) -> shapely.Point | None:
    """The inverse of :func:`location_of`: ``[lon, lat]`` back to a point for the store (``None`` stays ``None``)."""
    return None if location is None else shapely.Point(location[0], location[1])


def blank() -> dict[str, Any]:
    """A new station's values before any are given."""
    record: dict[str, Any] = {c: DEFAULTS.get(c, "") for c in TEXT_COLUMNS}
    record.update(closed_until="", location=None)
    return record


def _clean(field: str, value: Any) -> str:
    if field == "amenities":
        return ";".join(amenity_codes(value))
    return _text(value)


def _place(record: dict[str, Any], current: Mapping[str, Any], fields: Mapping[str, Any],
           source: str | None) -> list[InputError]:
    """Set ``record["location"]`` from ``location`` or ``lon``/``lat``[/``coordsys``]; the problems."""
    problems: list[InputError] = []
    if "location" in fields:
        value = fields["location"]
        record["location"] = location_of(value) if isinstance(value, shapely.Point) else (
            None if value in (None, "", []) else [float(value[0]), float(value[1])])
    if "lon" in fields or "lat" in fields:
        lon, lat = _text(fields.get("lon")), _text(fields.get("lat"))
        here = current.get("location")
        if here is not None and ("lon" in fields) != ("lat" in fields):     # move along one axis
            lon, lat = (lon, repr(here[1])) if "lon" in fields else (repr(here[0]), lat)
        if not lon and not lat:
            record["location"] = None
        else:
            try:
                x, y = check_lon_lat(lon, lat, source=source)
                system = _text(fields.get("coordsys")).lower() or "wgs84"
                if system not in coords.COORDSYS:
                    raise InputError(f"unknown coordinate system {system!r}; use one of {', '.join(coords.COORDSYS)}",
                                     field="coordsys", source=source)
                if system != "wgs84":
                    x, y = (float(v) for v in coords.to_wgs84(x, y, system))
                record["location"] = [x, y]
            except InputError as exc:
                problems.append(exc)
    elif record.get("location") is not None:
        try:
            check_lon_lat(*record["location"], source=source)
        except InputError as exc:
            problems.append(exc)
    return problems


def merge(current: Mapping[str, Any], fields: Mapping[str, Any], *, station_id: str,
          source: str | None = None) -> dict[str, Any]:
    """``current`` with ``fields`` applied, validated; raises :class:`DataFileError` listing every
    problem (field and reason).

    ``lon``/``lat`` (with an optional ``coordsys``: ``gcj02`` for a point picked on AMap) set the
    position; ``location=None`` (or both empty) removes it, making the station "need a location".
    """
    problems: list[InputError] = []
    unknown = sorted(set(fields) - set(EDITABLE))
    for field in unknown:
        problems.append(InputError(f"unknown field; use one of {', '.join(EDITABLE)}", field=field, source=source))
    record = dict(current)
    for field, value in fields.items():
        if field in TEXT_COLUMNS or field == "closed_until":
            record[field] = _clean(field, value) or DEFAULTS.get(field, "")
    problems.extend(_place(record, current, fields, source))
    row = {c: station_id if c == "id" else record.get(c, "") for c in COLUMNS}
    problems.extend(InputError(p.reason, field=p.field, source=source) for p in _check_row(row, 0, source or ""))
    if record.get("closed_until"):
        from datetime import date

        try:
            date.fromisoformat(record["closed_until"])
        except ValueError:
            problems.append(InputError(f"{record['closed_until']!r} is not a date (YYYY-MM-DD)",
                                       field="closed_until", source=source))
    if problems:
        raise DataFileError(f"station {station_id}", problems)
    return record


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every tracked field that differs."""
    changes: dict[str, list[Any]] = {}
    for field in TRACKED:
        before, after = old.get(field), new.get(field)
        if field == "location":
            same = (before is None and after is None) or (
                before is not None and after is not None and all(math.isclose(a, b, abs_tol=1e-9)
                                                                  for a, b in zip(before, after, strict=True)))
        else:
            same = (before or "") == (after or "")
        if not same:
            changes[field] = [before, after]
    return changes


def from_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A database row as a record (``location`` as ``[lon, lat]`` or ``None``)."""
    record = {c: row[c] for c in TEXT_COLUMNS}
    record.update(id=row["id"], closed_until=row["closed_until"], location=location_of(row["location"]),
                  version=row["version"], deleted=bool(row["deleted"]), changed_in=row["changed_in"])
    return record


def to_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a record (``location`` as a shapely point)."""
    values = {c: record.get(c) or "" for c in TEXT_COLUMNS}
    location = record.get("location")
    values.update(closed_until=record.get("closed_until") or "",
                  location=None if location is None else (float(location[0]), float(location[1])))
    return values
