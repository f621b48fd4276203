"""What a planner needs to act on a recommended site: where it is, in which district, what is
already nearby, and a link to look at the place.

:func:`site_details` adds to :func:`stationmap.recommend.recommend`'s table the district, the
nearest existing station (open at the question's time, the same stations the report counted)
and its geodesic distance, and an AMap link (GCJ-02, :mod:`stationmap.links`). The page, its
popups and list, and the CSV, XLSX and GeoJSON downloads all carry these columns
(:data:`SITE_COLUMNS`), so what a planner reads on screen is what they send on.
"""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .districts import district_of
from .filters import Filters
from .index import StationIndex
from .links import navigation_links
from .safetext import spreadsheet_cell

#: Columns of a site table, in order, with their Chinese and English headers.
SITE_COLUMNS = {
    "rank": ("序号", "Rank"), "gain": ("新增覆盖人口", "People added"),
    "gain_share_of_uncovered_pct": ("占未覆盖人口（%）", "Share of uncovered (%)"),
    "cumulative_gain": ("累计新增覆盖人口", "Cumulative people added"),
    "adcode": ("区划代码", "Adcode"), "district": ("所在区", "District"),
    "nearest_station_id": ("最近现有站点编号", "Nearest station ID"),
    "nearest_station": ("最近现有站点", "Nearest existing station"),
    "nearest_station_m": ("最近现有站点距离（米）", "Distance to it (m)"),
    "lon": ("经度（WGS-84）", "Longitude (WGS-84)"), "lat": ("纬度（WGS-84）", "Latitude (WGS-84)"),
    "gcj02_lon": ("经度（GCJ-02，高德）", "Longitude (GCJ-02, AMap)"),
    "gcj02_lat": ("纬度（GCJ-02，高德）", "Latitude (GCJ-02, AMap)"),
    "amap": ("高德地图链接", "AMap link"), "method": ("方法", "Method"),
}


def site_details(sites: pd.DataFrame, districts: gpd.GeoDataFrame, index: StationIndex,
                 filters: Filters | None = None, lang: str = "zh") -> pd.DataFrame:
    """``sites`` with :data:`SITE_COLUMNS`: district, nearest admitted station and its
    distance (geodesic metres, ``None`` when no station is admitted), AMap link.
    """
    table = sites.copy()
    lon, lat = table["lon"].to_numpy(dtype=float), table["lat"].to_numpy(dtype=float)
    home = district_of(districts, lon, lat) if len(table) else np.zeros(0, dtype=int)
    names = districts["name_en"] if lang == "en" and "name_en" in districts else districts["name"]
    table["adcode"] = [str(districts["adcode"].iloc[h]) if h >= 0 else None for h in home]
    table["district"] = [str(names.iloc[h] or districts["name"].iloc[h]) if h >= 0 else None for h in home]
    ids: list[Any] = [None] * len(table)
    station_names: list[Any] = [None] * len(table)
    metres: list[Any] = [None] * len(table)
    if len(table) and len(index):
        positions, distance = index.nearest_batch(lon, lat, k=1, filters=filters or Filters())
        for i, (p, d) in enumerate(zip(positions[:, 0], distance[:, 0], strict=False)):
            if p >= 0:
                ids[i], station_names[i] = str(index.ids[p]), str(index.columns["name"][p])
                metres[i] = round(float(d), 1)
    table["nearest_station_id"], table["nearest_station"], table["nearest_station_m"] = ids, station_names, metres
    label = "建议站点" if lang == "zh" else "Proposed site"
    table["amap"] = [navigation_links(x, y, f"{label} {int(r)}", gcj02=(gx, gy))["amap_marker"]
                     for x, y, r, gx, gy in zip(lon, lat, table["rank"], table["gcj02_lon"], table["gcj02_lat"],
                                                strict=True)]
    return table[list(SITE_COLUMNS)]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def sites_csv(table: pd.DataFrame, note: str, lang: str = "zh") -> bytes:
    """The sites as UTF-8 CSV (with a BOM, so Excel reads the Chinese headers), headers in
    ``lang``, the assumptions in the last column; text that would run as a formula is written as text.
    """
    which = 0 if lang == "zh" else 1
    frame = _headed(table, which).assign(**{("说明" if lang == "zh" else "Notes"): note})
    return frame.map(spreadsheet_cell).to_csv(index=False).encode("utf-8-sig")


def sites_xlsx(table: pd.DataFrame, note: str, lang: str = "zh") -> bytes:
    """The sites as an Excel workbook: one sheet of sites, one of notes."""
    which = 0 if lang == "zh" else 1
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as excel:
        _headed(table, which).map(spreadsheet_cell).to_excel(
            excel, sheet_name="建议站点" if lang == "zh" else "Sites", index=False)
        pd.DataFrame({("说明" if lang == "zh" else "Notes"): [spreadsheet_cell(note)]}).to_excel(
            excel, sheet_name="说明" if lang == "zh" else "Notes", index=False)
    return buffer.getvalue()


def sites_geojson(table: pd.DataFrame, note: str, coordsys: str = "wgs84") -> dict[str, Any]:
    """The sites as GeoJSON points in ``coordsys`` (RFC 7946 readers expect WGS-84, the
    default); every column rides along as a property.
    """
    features = []
    for record in table.to_dict(orient="records"):
        x, y = (record["lon"], record["lat"]) if coordsys == "wgs84" else (record["gcj02_lon"], record["gcj02_lat"])
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                         "properties": {key: _plain(value) for key, value in record.items()}})
    return {"type": "FeatureCollection", "coordsys": coordsys, "assumptions": note, "features": features}


def _headed(table: pd.DataFrame, which: int) -> pd.DataFrame:
    return table.rename(columns={c: SITE_COLUMNS[c][which] for c in table.columns if c in SITE_COLUMNS})


def sites_stem(adcode: str, mode: str | None, minutes: float | None, radius_m: float, at: Any) -> str:
    """A file name saying what the file holds, e.g. ``recommended-sites-310115-walk-15min``.

    >>> sites_stem("310115", "walk", 15, 962.0, None)
    'recommended-sites-310115-walk-15min'
    """
    reach = f"{mode}-{minutes:g}min" if minutes is not None else f"{radius_m:g}m"
    stem = f"recommended-sites-{adcode}-{reach}"
    return stem + at.strftime("-%H%M") if at is not None else stem


#: The API's site formats: (file extension, what the file is).
SITE_FORMATS = {"sites-csv": "csv", "sites-xlsx": "xlsx", "sites-geojson": "geojson"}


def site_file(table: pd.DataFrame | None, note: str, f: str, lang: str = "zh", coordsys: str = "wgs84") -> bytes:
    """The sites in API format ``f`` (:data:`SITE_FORMATS`) as bytes; no sites: an empty table."""
    if table is None:
        table = pd.DataFrame(columns=list(SITE_COLUMNS))
    kind = SITE_FORMATS[f]
    if kind == "csv":
        return sites_csv(table, note, lang)
    if kind == "xlsx":
        return sites_xlsx(table, note, lang)
    import json

    return json.dumps(sites_geojson(table, note, coordsys), ensure_ascii=False).encode("utf-8")
