"""From a register's cells to validated station rows: fields, hours, coordinates, flags, ids.

Every problem is collected (not just the first) as a :class:`Finding` with the sheet, the row
as the user sees it, the column as the sheet names it, and the reason in Chinese and English.
``error`` findings stop an import; ``warning`` findings (a point outside its stated district,
far from every other station, hours that could not be read, a row with no coordinates) are
imported as reported, so that staff can fix them, and are never silently accepted.

Coordinates: a sheet's points are read in ``coordsys`` unless a row's 坐标系 cell says
otherwise. The default for spreadsheets is **GCJ-02**, because union staff pick points on AMap
(高德) far more than on anything else, and a GCJ-02 point read as WGS-84 is about 500 m off in
Shanghai, which is worse than the reverse mistake's absence of a warning. Geo files
(GeoJSON, GeoPackage, GeoParquet) are WGS-84 by their format.

Ids: a row without one gets ``reg-`` and the first 10 hex digits of the SHA-1 of its
normalised name and address, so re-importing the same sheet gives the same ids; a row whose
name and address match one station of the current register takes that station's id.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from operator import itemgetter

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from .. import coords, districts, geodesy, vocab
from ..safetext import _SUSPECT, spreadsheet_cell, text_problem
from ..stations import COLUMNS, DEFAULTS
from . import headers, hours_zh
from .sheets import RawTable

#: The columns of the validated rows: the station schema, the hours as written, the sheet row.
ROW_COLUMNS = (*COLUMNS, "opening_hours_text", "row", "needs_location")
FAR_M = 50_000.0
_FORMULA = frozenset("=+-@\t\r")      # first characters that may make a cell a formula
_TEXT = ("name", "name_en", "address", "operator", "phone", "source", "id", "opening_hours_text")


@dataclass(frozen=True)
class Finding:
    """One problem or flag, located as the user sees it."""

    severity: str          # "error" stops the import; "warning" is imported and reported
    row: int | None        # the sheet's row number (Excel's, header rows counted); None: the file
    column: str | None     # the column's header in the sheet, or the field
    en: str
    zh: str
    sheet: str | None = None
    station_id: str | None = None

    def text(self, lang: str = "zh") -> str:
        """The finding as one line in ``lang``: where (sheet, row, column, station) and why."""
        where = []
        if self.sheet:
            where.append(f"工作表“{self.sheet}”" if lang == "zh" else f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"第 {self.row} 行" if lang == "zh" else f"row {self.row}")
        if self.column:
            where.append(f"“{self.column}”列" if lang == "zh" else f"column {self.column!r}")
        reason = self.zh if lang == "zh" else self.en
        return f"{'，'.join(where) if lang == 'zh' else ', '.join(where)}: {reason}" if where else reason


@dataclass
class ReadRows:
    """What :func:`read_rows` found: the rows, where each field came from, every finding."""

    rows: gpd.GeoDataFrame
    fields: dict[str, str]          # field → the sheet's header it was read from
    unknown_columns: list[str]
    findings: list[Finding]


class _Collector:
    def __init__(self, sheet: str | None):
        self.sheet = sheet
        self.findings: list[Finding] = []
        #: ``(field, cell) -> (stored value, its findings as (severity, en, zh))``: a cell's
        #: verdict depends on its text only, and a national sheet repeats the same types,
        #: districts, amenities and hours in every row.
        self.verdicts: dict[tuple[str, str], tuple[str, list[tuple[str, str, str]]]] = {}

    def add(self, severity: str, row: int | None, column: str | None, en: str, zh: str,
            station_id: str | None = None) -> None:
        self.findings.append(Finding(severity, row, column, en, zh, self.sheet, station_id))

    def verdict(self, field: str, value: str,
                judge: Callable[[_Collector], str]) -> tuple[str, list[tuple[str, str, str]]]:
        """``judge(collector)`` for this text of ``field``, computed once per distinct text:
        the stored value and the findings as ``(severity, en, zh)``, to be added with the row
        and column of every cell that holds the text.
        """
        verdict = self.verdicts.get((field, value))
        if verdict is None:
            probe = _Collector(self.sheet)
            stored = judge(probe)
            verdict = self.verdicts[(field, value)] = (
                stored, [(f.severity, f.en, f.zh) for f in probe.findings])
        return verdict


def generated_id(name: str, address: str) -> str:
    """The stable id of a row that has none (see the module's notes)."""
    digest = hashlib.sha1(f"{headers.key(name)}|{headers.key(address)}".encode()).hexdigest()
    return f"reg-{digest[:10]}"


def _map_columns(table: RawTable, out: _Collector) -> tuple[dict[str, int], list[str]]:
    where: dict[str, int] = {}
    unknown: list[str] = []
    for i, name in enumerate(table.headers):
        if not name:
            continue
        field = headers.field_of(name)
        if field is None:
            unknown.append(name)
            out.add("warning", table.header_row or None, name, "column not imported (not a station field)",
                    "该列不导入（不是站点字段）")
        elif field and field in where:
            unknown.append(name)
            first = table.headers[where[field]]
            out.add("warning", table.header_row or None, name,
                    f"names the same field as column {first!r}, which is used",
                    f"与“{first}”列含义相同，已使用“{first}”列")
        elif field:
            where[field] = i
    if "name" not in where:
        out.add("error", table.header_row or None, None, "no name column (站点名称/name)", "缺少“站点名称”列")
    if ("lon" in where) != ("lat" in where):
        out.add("error", table.header_row or None, None, "longitude and latitude must both be columns",
                "经度和纬度两列须同时存在")
    return where, unknown


def _check_value(field: str, value: str, row: int, column: str, out: _Collector, *, area: str | None) -> str:
    """The stored form of one cell, or the cell itself after reporting why it is refused."""
    if field in _TEXT:
        return _check_text(field, value, row, column, out)
    if not value:
        return ""
    if field in ("type", "access", "status"):
        return _check_vocabulary(field, value, row, column, out)
    if field == "amenities":
        codes, unknown = headers.amenity_codes(value)
        if unknown:
            out.add("warning", row, column, f"not a known amenity, left out: {', '.join(unknown)}",
                    f"未识别的服务内容（未导入）：{'、'.join(unknown)}")
        return ";".join(codes)
    if field == "adcode":
        code, reason = headers.adcode(value, area)
        if code is None:
            out.add("error", row, column, reason or "unknown district",
                    f"无法识别的行政区“{value}”，请填写区名或六位行政区划代码")
        return code or ""
    if field == "last_verified":
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            out.add("error", row, column, f"{value!r} is not a date (YYYY-MM-DD)", f"“{value}”不是日期（年-月-日）")
    return value


def _check_text(field: str, value: str, row: int, column: str, out: _Collector) -> str:
    """Free text, kept as given: refused with control characters, warned about when it looks like a formula."""
    problem = text_problem(value, multiline=field == "address")
    if problem:
        out.add("error", row, column, problem, "含有不可见的控制字符，请删除")
    elif spreadsheet_cell(value) != value:
        out.add("warning", row, column, "starts like a spreadsheet formula; stored as text",
                "以公式符号开头，按文本保存")
    return value


def _check_vocabulary(field: str, value: str, row: int, column: str, out: _Collector) -> str:
    """The code of a station type, access or status written in Chinese or English (or the cell, refused)."""
    if field == "type":
        code = headers.station_type(value)
        if code is None:
            names = "、".join(v["zh"] for v in vocab.STATION_TYPES.values())
            out.add("error", row, column,
                    f"unknown station type {value!r}; use one of {', '.join(vocab.STATION_TYPES)}",
                    f"未知站点类型“{value}”，可用：{names}")
        return code or value
    vocabulary = vocab.ACCESS if field == "access" else vocab.STATUSES
    code = headers.vocabulary_code(vocabulary, value)
    if code is None:
        names = "、".join(v["zh"] for v in vocabulary.values())
        out.add("error", row, column, f"unknown value {value!r}; use one of {', '.join(vocabulary)}",
                f"未知取值“{value}”，可用：{names}")
    return code or value


def _number(value: str, field: str, limit: float, row: int, column: str, out: _Collector) -> float:
    try:
        number = float(value)
    except ValueError:
        out.add("error", row, column, f"{value!r} is not a number", f"“{value}”不是数字")
        return math.nan
    if not math.isfinite(number) or abs(number) > limit:
        hint = " (longitude and latitude swapped?)" if field == "lat" and abs(number) <= 180 else ""
        out.add("error", row, column, f"{value} is outside -{limit:g}..{limit:g}{hint}",
                f"{value} 超出范围 -{limit:g}..{limit:g}" + ("（经纬度是否写反？）" if hint else ""))
        return math.nan
    return number


def _area_hint(table: RawTable, column: int | None, area: str | None,
               current: gpd.GeoDataFrame | None) -> str | None:
    """The area that decides a district name shared across China (宝山区 is in Shanghai and in
    Shuangyashan): the import's own; else the city most of the sheet's unambiguous districts
    are in; else the city most of the current register is in.
    """
    if area or column is None:
        return area
    cities: Counter[str] = Counter()
    for value, count in Counter(row[column] for row in table.rows).items():     # each distinct cell once
        code, _ = headers.adcode(value) if value else (None, None)
        if code:
            cities[code[:4] + "00"] += count
    if not cities and current is not None and len(current):
        cities.update(str(c)[:4] + "00" for c in current["adcode"] if c)
    return cities.most_common(1)[0][0] if cities else None


def read_rows(table: RawTable, *, coordsys: str = "gcj02", area: str | None = None,
              current: gpd.GeoDataFrame | None = None) -> ReadRows:
    """Validate a register's rows; see the module's notes for the rules."""
    coordsys = coords.check_coordsys(coordsys)
    out = _Collector(table.sheet)
    for problem in table.problems:
        out.add("error", problem.row, problem.field, problem.reason, "几何类型不是点，站点必须是点")
    where, unknown = _map_columns(table, out)
    hint = _area_hint(table, where.get("adcode"), area, current)
    n = len(table.rows)
    if n == 0:
        out.add("error", None, None, "has no rows below the header", "表头下没有数据行")
    records: dict[str, list[str]] = {f: [""] * n for f in (*COLUMNS, "opening_hours_text")}
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    systems = np.full(n, coordsys, dtype=object)
    found: list[tuple[int, int, Finding]] = []
    _read_columns(table, where, records, out, hint, found)
    if "name" in where:
        column = table.headers[where["name"]]
        found.extend((i, len(where), Finding("error", table.row_numbers[i], column, "is empty; every station needs "
                                             "a name", "站点名称为空", table.sheet))
                     for i, name in enumerate(records["name"]) if not name)
    if "lon" in where and "lat" in where:
        _read_points(table, where, lon, lat, systems, len(where) + 1, found)
    found.sort(key=lambda item: (item[0], item[1]))        # as a row-by-row reading finds them
    out.findings.extend(finding for *_, finding in found)
    for system in set(systems):
        chosen = (systems == system) & np.isfinite(lon) & np.isfinite(lat)
        if system != "wgs84" and chosen.any():
            lon[chosen], lat[chosen] = coords.to_wgs84(lon[chosen], lat[chosen], system)
    for field, default in DEFAULTS.items():
        records[field] = [v or default for v in records[field]]
    _fill_ids(records, table.row_numbers, current, out,
              table.headers[where["id"]] if "id" in where else "站点编号（自动生成 generated）")
    located = np.isfinite(lon) & np.isfinite(lat)
    for i in map(int, np.flatnonzero(~located)):
        if "lon" not in where or "lat" not in where or not (
                table.rows[i][where["lon"]].strip() or table.rows[i][where["lat"]].strip()):
            out.add("warning", table.row_numbers[i], None, "no coordinates: imported as needing a location, never "
                    "answered as nearest until placed on the map", "无坐标：作为“待定位”导入，在地图上标注前不会被推荐",
                    records["id"][i])
    frame = gpd.GeoDataFrame(
        {**records, "row": table.row_numbers, "needs_location": ~located, "lon": lon, "lat": lat},
        geometry=_points(lon, lat, located),
        crs="EPSG:4326")
    _flag_places(frame, where, table, out, area, current)
    return ReadRows(frame, {f: table.headers[i] for f, i in where.items()}, unknown, out.findings)


def _points(lon: np.ndarray, lat: np.ndarray, located: np.ndarray) -> np.ndarray:
    """The rows' points in one vectorised call (``None`` where a row has no coordinates)."""
    points = np.full(len(lon), None, dtype=object)
    points[located] = shapely.points(lon[located], lat[located])
    return points


def _column(rows: list[list[str]], at: int) -> list[str]:
    """The stripped cells of column ``at`` (``""`` where a row is shorter)."""
    if min(map(len, rows), default=0) > at:
        return list(map(str.strip, map(itemgetter(at), rows)))
    return [cells[at].strip() if at < len(cells) else "" for cells in rows]


def _read_columns(table: RawTable, where: dict[str, int], records: dict[str, list[str]], out: _Collector,
                  hint: str | None, found: list[tuple[int, int, Finding]]) -> None:
    """Every field but the point, a column at a time, into ``records``.

    A national sheet has 186,100 rows of the same few types, districts, amenities and hours:
    each distinct cell of a coded column is judged once, and a free-text column is cleared
    whole by one search for what could be refused. A finding goes to ``found`` as
    ``(row position, column's slot, finding)``, so that sorting them gives the order a row-by-row
    reading would (each row's fields in the sheet's column order).
    """
    for slot, (field, at) in enumerate(where.items()):
        if field in ("lon", "lat", "coordsys"):
            continue
        column, values = table.headers[at], _column(table.rows, at)
        if field in _TEXT:      # kept as given; only the few cells that may break a rule are looked at
            records[field] = values
            for i in _suspect_texts(values):
                probe = _Collector(table.sheet)
                _check_text(field, values[i], table.row_numbers[i], column, probe)
                found.extend((i, slot, f) for f in probe.findings)
            continue
        verdicts = {v: out.verdict(field, v, partial(_hours, v) if field == "opening_hours"
                                   else partial(_check_value, field, v, 0, column, area=hint))
                    for v in dict.fromkeys(values)}
        stored = [verdicts[v][0] for v in values]
        if field == "opening_hours":
            texts = records["opening_hours_text"]
            for i in [i for i, (v, s) in enumerate(zip(values, stored, strict=True)) if v and v != s]:
                texts[i] = texts[i] or values[i]
        records[field] = stored
        if any(reasons for _, reasons in verdicts.values()):
            for i, v in enumerate(values):
                found.extend((i, slot, Finding(severity, table.row_numbers[i], column, en, zh, table.sheet))
                             for severity, en, zh in verdicts[v][1])


def _suspect_texts(values: list[str]) -> list[int]:
    """The positions of the texts that :func:`_check_text` might refuse or warn about (a superset):
    a control character anywhere, or a formula's first character.
    """
    if _SUSPECT.search("\t".join(values)) is not None:
        return [i for i, v in enumerate(values) if _SUSPECT.search(v) or v[:1] in _FORMULA]
    return [i for i, v in enumerate(values) if v[:1] in _FORMULA]


def _read_points(table: RawTable, where: dict[str, int], lon: np.ndarray, lat: np.ndarray, systems: np.ndarray,
                 slot: int, found: list[tuple[int, int, Finding]]) -> None:
    """Every row's point (still in its own system), a column at a time; findings as :func:`_read_columns`'."""
    xs, ys = _column(table.rows, where["lon"]), _column(table.rows, where["lat"])

    def report(i: int, k: int, probe: _Collector) -> None:
        found.extend((i, slot + k, f) for f in probe.findings)

    given = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if x and y:
            given.append(i)
        elif x or y:
            missing = table.headers[where["lon"] if not x else where["lat"]]
            found.append((i, slot, Finding("error", table.row_numbers[i], missing,
                                           "is empty while the other coordinate is given", "只填了经纬度中的一个",
                                           table.sheet)))
    for k, (cells, target, name, limit) in enumerate(((xs, lon, "lon", 180.0), (ys, lat, "lat", 90.0)), start=1):
        numbers = _numbers([cells[i] for i in given])
        fine = np.isfinite(numbers) & (np.abs(numbers) <= limit)
        target[np.asarray(given, dtype=np.intp)] = np.where(fine, numbers, np.nan)
        for j in np.flatnonzero(~fine).tolist():      # the rare bad cell: reported as one at a time would be
            i, probe = given[j], _Collector(table.sheet)
            _number(cells[i], name, limit, table.row_numbers[i], table.headers[where[name]], probe)
            report(i, k, probe)
    if "coordsys" in where:
        column = table.headers[where["coordsys"]]
        cells = _column(table.rows, where["coordsys"])
        named = {v: headers.coordsys(v) for v in {cells[i] for i in given if cells[i]}}
        for i in given:
            value = cells[i]
            if not value:
                continue
            if named[value] is None:
                found.append((i, slot + 3, Finding(
                    "error", table.row_numbers[i], column,
                    f"unknown coordinate system {value!r}; use wgs84, gcj02 or bd09",
                    f"未知坐标系“{value}”，可用 wgs84（GPS）、gcj02（高德）、bd09（百度）", table.sheet)))
            else:
                systems[i] = named[value]


def _numbers(cells: list[str]) -> np.ndarray:
    """``float(cell)`` of each cell (NaN where a cell is not a number)."""
    try:
        return np.array(list(map(float, cells)), dtype=float)
    except ValueError:
        pass
    numbers = np.full(len(cells), np.nan)
    for j, cell in enumerate(cells):
        try:
            numbers[j] = float(cell)
        except ValueError:
            continue
    return numbers


def _hours(value: str, out: _Collector) -> str:
    """The OSM form of hours written in Chinese; a warning when they cannot be read."""
    expression, reason = hours_zh.to_osm(value)
    if reason:
        out.add("warning", None, None, f"hours {value!r} kept as text, shown as unknown: {reason}",
                f"开放时间“{value}”无法识别，按“时间不详”显示")
    return expression


def _fill_ids(records: dict[str, list[str]], row_numbers: list[int], current: gpd.GeoDataFrame | None,
              out: _Collector, column: str) -> None:
    known: dict[tuple[str, str], list[str]] = {}
    if current is not None and len(current):
        for sid, name, address in zip(current["id"], current["name"], current["address"], strict=True):
            known.setdefault((headers.key(name), headers.key(address)), []).append(str(sid))
    seen: dict[str, int] = {}
    for i, row in enumerate(row_numbers):
        if not records["id"][i] and records["name"][i]:
            match = known.get((headers.key(records["name"][i]), headers.key(records["address"][i])), [])
            records["id"][i] = match[0] if len(match) == 1 else generated_id(records["name"][i], records["address"][i])
        sid = records["id"][i]
        if sid and sid in seen:
            out.add("error", row, column, f"duplicate id {sid!r} (first on row {seen[sid]})",
                    f"编号“{sid}”重复（首次出现在第 {seen[sid]} 行）", sid)
        seen.setdefault(sid, row)


def _flag_places(frame: gpd.GeoDataFrame, where: dict[str, int], table: RawTable, out: _Collector,
                 area: str | None, current: gpd.GeoDataFrame | None) -> None:
    located = ~frame["needs_location"].to_numpy()
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    adcodes = frame["adcode"].to_numpy(dtype=object)
    found = districts.owners(set(adcodes.tolist()), lon[located], lat[located],
                             stated=adcodes[located]) if located.any() else None
    if found is not None:
        where_located = np.flatnonzero(located)
        differs = (found != "") & (found != adcodes[where_located])      # only these need a look
        for i, inside in zip(where_located[differs], found[differs], strict=True):
            stated = adcodes[i]
            if stated and inside and inside != stated:
                names = (districts.SHANGHAI.get(stated), districts.SHANGHAI.get(inside))
                told = f"{names[0].name}（{stated}）" if names[0] else stated
                lies = f"{names[1].name}（{inside}）" if names[1] else inside
                out.add("warning", int(frame.at[i, "row"]), table.headers[where["adcode"]],
                        f"the point lies in {lies}, not in the stated district {told}: check the coordinates "
                        "and their system", f"坐标位于{lies}，不在所填的{told}内：请核对坐标及坐标系",
                        frame.at[i, "id"])
            elif not stated and inside:
                frame.at[i, "adcode"] = inside
    _flag_far(frame, located, lon, lat, out, current)


def _flag_far(frame: gpd.GeoDataFrame, located: np.ndarray, lon: np.ndarray, lat: np.ndarray,
              out: _Collector, current: gpd.GeoDataFrame | None) -> None:
    """Flag points more than 50 km from every other station of their city (first 4 adcode
    digits): the other rows, and the current register's stations that the sheet does not name.
    """
    ref_lon, ref_lat, ref_code = lon[located], lat[located], list(frame["adcode"][located])
    if current is not None and len(current):
        others = current[~current["id"].isin(set(frame["id"])) & ~current.geometry.is_empty
                         & current.geometry.notna()]
        ref_lon = np.concatenate([ref_lon, others.geometry.x.to_numpy()])
        ref_lat = np.concatenate([ref_lat, others.geometry.y.to_numpy()])
        ref_code += [str(c) for c in others["adcode"]]
    ref_city = np.array([c[:4] if c else "" for c in ref_code], dtype=object)
    positions = np.flatnonzero(located)
    cities, group = np.unique(ref_city.astype(str), return_inverse=True)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(cities) + 1))
    far: list[tuple[int, float]] = []
    for g in range(len(cities)):
        pool = order[bounds[g]:bounds[g + 1]]           # this city's points, the sheet's rows first
        mine = pool[pool < len(positions)]
        if len(pool) < 2 or not len(mine):
            continue
        tree = cKDTree(geodesy.ecef(ref_lon[pool], ref_lat[pool]))
        _, nearest = tree.query(geodesy.ecef(ref_lon[mine], ref_lat[mine]), k=2)
        other = pool[nearest[:, 1]]
        metres = geodesy.geodesic_m(ref_lon[mine], ref_lat[mine], ref_lon[other], ref_lat[other])
        far.extend(zip(mine[metres > FAR_M].tolist(), metres[metres > FAR_M].tolist(), strict=True))
    for k, metres_away in sorted(far):
        i = positions[k]
        out.add("warning", int(frame.at[i, "row"]), None,
                f"{metres_away / 1000:.0f} km from every other station of its area: check the coordinates",
                f"距同一地区其他所有站点均超过 {metres_away / 1000:.0f} 公里：请核对坐标", frame.at[i, "id"])
