"""The station form's fields: the stored record as form values, and a submitted form back as the
store edit, with one message per field.

Nothing is checked here that the store does not check itself: a submitted form becomes an edit
for :func:`stationmap.store.records.merge`, the rule book every import row, API body and
``station set`` goes through, and its problems come back field by field. Only what a form adds
is handled here: hours written in Chinese (read by the import's own
:func:`~stationmap.registers.hours_zh.to_osm`), amenity checkboxes, and a position typed or
dragged in the map's coordinate system (GCJ-02 on AMap tiles, WGS-84 otherwise; stored WGS-84).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import coords
from ..errors import DataFileError, InputError
from ..registers.hours_zh import to_osm
from ..store import records

#: Free-text fields of the form, in the order shown.
TEXT_FIELDS = ("name", "name_en", "address", "operator", "phone", "source")
#: Every field the form shows a message for.
FIELDS = ("id", "name", "name_en", "type", "access", "amenities", "opening_hours", "operator", "address", "phone",
          "adcode", "status", "closed_until", "last_verified", "source", "location")
#: Store fields whose problems belong to another form field.
_SAME_PLACE = {"lon": "location", "lat": "location", "coordsys": "location", "opening_hours_text": "opening_hours"}
#: Chinese for the rule book's reasons (the English one is shown on English pages, and for any
#: reason not listed).
_ZH_REASONS = (
    (r"is empty", "必填"),
    (r"unknown value .*; use one of", "不是可选的取值"),
    (r"unknown amenity", "有未知的设施"),
    (r"is not a date", "不是日期（年-月-日）"),
    (r"is not a 6-digit administrative code", "不是六位行政区划代码"),
    (r"control character|invisible", "含有不可见的控制字符，请删除"),
    (r"outside|out of range|range", "经纬度超出范围"),
    (r"not a number", "不是数字"),
    (r"cannot be read as opening hours|is not a time range|opening.?hours", "无法识别的开放时间"),
)
#: Digits kept for a coordinate shown in the form: 1e-7 degrees is about a centimetre.
DIGITS = 7


def message(reason: str, lang: str) -> str:
    """A rule book reason in the page's language (Chinese with the English reason after it)."""
    if lang == "en":
        return reason
    for pattern, chinese in _ZH_REASONS:
        if re.search(pattern, reason, re.IGNORECASE):
            return f"{chinese}（{reason}）"
    return reason


def shown_position(location: list[float] | None, system: str) -> tuple[str, str]:
    """A stored WGS-84 ``[lon, lat]`` as the form shows it, in the map's ``system``."""
    if location is None:
        return "", ""
    lon, lat = (float(v) for v in coords.from_wgs84(location[0], location[1], system))
    return f"{lon:.{DIGITS}f}", f"{lat:.{DIGITS}f}"


def hours_shown(record: Mapping[str, Any]) -> str:
    """The hours as the form shows them: the register's own words while they still mean what is
    stored, else the stored ``opening_hours``.
    """
    original = str(record.get("opening_hours_text") or "")
    stored = str(record.get("opening_hours") or "")
    if original and to_osm(original)[0] == stored:
        return original
    return stored


def values_of(record: Mapping[str, Any], system: str) -> dict[str, Any]:
    """The form's values for a stored record (``system``: the map's coordinate system)."""
    lon, lat = shown_position(record.get("location"), system)
    values: dict[str, Any] = {name: str(record.get(name) or "") for name in FIELDS if name != "location"}
    values.update(amenities=[a for a in str(record.get("amenities") or "").split(";") if a],
                  opening_hours=hours_shown(record), lon=lon, lat=lat, lon0=lon, lat0=lat, coordsys=system,
                  version=str(record.get("version") or ""), reason="")
    return values


def submitted(form: Any) -> dict[str, Any]:
    """The form's values as submitted (every field a string, amenities a list)."""
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in FIELDS
                              if name not in ("amenities", "location")}
    for name in ("lon", "lat", "lon0", "lat0", "coordsys", "version", "reason"):
        values[name] = str(form.get(name, "")).strip()
    values["amenities"] = [str(a) for a in form.getlist("amenities")]
    return values


def _hours(text: str, errors: dict[str, str], lang: str) -> dict[str, str]:
    if not text:
        return {"opening_hours": "", "opening_hours_text": ""}
    expression, reason = to_osm(text)
    if not expression:
        errors["opening_hours"] = message(reason or "cannot be read as opening hours", lang)
        return {}
    return {"opening_hours": expression, "opening_hours_text": "" if expression == text else text}


def edit_of(values: Mapping[str, Any], lang: str, current: Mapping[str, Any] | None = None
            ) -> tuple[dict[str, Any], dict[str, str]]:
    """The store edit a submitted form asks for, and the problems found before the store's own
    check (hours that cannot be read).

    What the form cannot show as stored is left alone when untouched: the position unless it
    differs from the one the form showed (a GCJ-02 round trip is exact to 0.01 m, not to the
    store's 1e-9 degrees), the amenities unless their set changed (checkboxes come back in the
    vocabulary's order, the register keeps its own), the hours unless their text changed.
    """
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {name: values[name] for name in TEXT_FIELDS}
    fields.update({name: values[name] for name in ("type", "access", "adcode", "status", "closed_until",
                                                   "last_verified")})
    stored = [a for a in str((current or {}).get("amenities") or "").split(";") if a]
    if current is None or set(values["amenities"]) != set(stored):
        fields["amenities"] = ";".join(values["amenities"])
    if current is None or values["opening_hours"] != hours_shown(current):
        fields.update(_hours(values["opening_hours"], errors, lang))
    if (values["lon"], values["lat"]) != (values["lon0"], values["lat0"]):
        if not values["lon"] and not values["lat"]:
            fields["location"] = None
        else:
            fields.update(lon=values["lon"], lat=values["lat"], coordsys=values["coordsys"] or "wgs84")
    if fields.get("status") != "temporarily_closed" and not values["closed_until"]:
        fields["closed_until"] = ""
    return fields, errors


def check(current: Mapping[str, Any] | None, fields: Mapping[str, Any], station_id: str,
          lang: str) -> dict[str, str]:
    """The rule book's problems with ``fields`` over ``current`` (a new station: the blank record),
    without writing anything: to list every problem at once when the form has its own too.
    """
    try:
        records.merge(current or records.blank(), fields, station_id=station_id)
    except (DataFileError, InputError) as problem:
        return field_errors(problem, lang)
    return {}


def field_errors(error: DataFileError | InputError, lang: str) -> dict[str, str]:
    """The store's refusal as one message per form field (several reasons for a field joined)."""
    problems = error.problems if isinstance(error, DataFileError) else [error]
    out: dict[str, str] = {}
    for problem in problems:
        field = _SAME_PLACE.get(problem.field or "", problem.field or "name")
        if field not in FIELDS:
            field = "name"
        text = message(problem.reason, lang)
        out[field] = f"{out[field]}；{text}" if field in out else text
    return out
