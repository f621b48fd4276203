"""The register for open data: GeoPackage, GeoJSON, CSV and Excel, headers in Chinese on request.

* CSV is UTF-8 **with a BOM**: without it, Excel on a Chinese Windows reads UTF-8 as GBK and
  shows mojibake.
* Every text cell that a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``,
  ``@``) is written as text (:func:`stationmap.safetext.spreadsheet_cell`) in CSV and Excel;
  the importer removes that apostrophe again, so export → import changes nothing.
* Tables carry ``lon``/``lat`` in WGS-84 and a 坐标系 column saying so, so a re-import reads
  them right whatever the importer's default.
* With ``lang="zh"`` tables use the synonym table's Chinese headers and vocabularies' Chinese
  labels (站点类型 户外劳动者服务站点, 服务内容 饮用水、微波炉); GeoPackage and GeoJSON keep
  the schema's codes (they are for GIS software) and are written by
  :func:`stationmap.stations.write_stations`.
* Files are written atomically (:func:`stationmap._files.atomic_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import vocab
from .._files import atomic_path
from ..errors import InputError
from ..safetext import spreadsheet_cell
from ..stations import COLUMNS, amenity_codes, write_stations
from . import headers

FORMATS = (".gpkg", ".geojson", ".csv", ".xlsx")


def table(stations: gpd.GeoDataFrame, lang: str = "en") -> pd.DataFrame:
    """Stations as a flat table: schema columns, WGS-84 ``lon``/``lat``, ``coordsys``; cells
    neutralised for spreadsheets.
    """
    columns = [*COLUMNS]
    if "opening_hours_text" in stations.columns:
        columns.insert(columns.index("opening_hours") + 1, "opening_hours_text")
    frame = pd.DataFrame({c: stations[c].fillna("").astype(str) for c in columns})
    located = stations.geometry.notna() & ~stations.geometry.is_empty
    frame.insert(2, "lon", [f"{g.x:.7f}" if ok else "" for g, ok in zip(stations.geometry, located, strict=True)])
    frame.insert(3, "lat", [f"{g.y:.7f}" if ok else "" for g, ok in zip(stations.geometry, located, strict=True)])
    frame.insert(4, "coordsys", ["wgs84" if ok else "" for ok in located])
    if lang == "zh":
        for column, vocabulary in (("type", vocab.STATION_TYPES), ("access", vocab.ACCESS),
                                   ("status", vocab.STATUSES)):
            frame[column] = [vocab.label(vocabulary, v, "zh") if v else "" for v in frame[column]]
        frame["amenities"] = ["、".join(vocab.label(vocab.AMENITIES, c, "zh") for c in amenity_codes(v))
                              for v in frame["amenities"]]
    frame = frame.map(spreadsheet_cell)
    return frame.rename(columns={c: headers.header(c, lang) for c in frame.columns})


def export_stations(stations: gpd.GeoDataFrame, path: str | os.PathLike, lang: str = "en") -> Path:
    """Write the register to ``path`` (by its suffix: .gpkg, .geojson, .csv, .xlsx)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unsupported export type {suffix or '(none)'!r}; use {', '.join(FORMATS)}", field="path")
    if suffix in (".gpkg", ".geojson"):
        located = stations[stations.geometry.notna() & ~stations.geometry.is_empty]
        return write_stations(located, path)
    flat = table(stations, lang)
    with atomic_path(path) as temp:
        if suffix == ".csv":
            flat.to_csv(temp, index=False, encoding="utf-8-sig")
        else:
            with pd.ExcelWriter(temp, engine="openpyxl") as excel:
                flat.to_excel(excel, sheet_name="站点" if lang == "zh" else "stations", index=False)
    return path
