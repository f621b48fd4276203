"""Coverage reports as files a planner can paste from: CSV, Excel (Chinese headers), GeoJSON.

Every file carries the assumptions behind "covered" (radius, speed, detour, time of day).
Each format is made as bytes (or a GeoJSON dict) first, so the command writes the very same
files that the web API sends.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from . import coords, vocab
from ._files import atomic_path
from .coverage import CoverageReport
from .safetext import spreadsheet_cell

#: The CSV's leading columns, in this order (planners' templates depend on it).
LEADING = ("adcode", "name", "stations", "area_km2", "population", "area_covered_pct", "population_covered_pct",
           "mean_dist_m", "p90_dist_m", "largest_gap_km2")
HEADERS = {
    "adcode": ("行政区划代码", "Adcode"), "name": ("区", "District"), "stations": ("站点数", "Stations"),
    "area_km2": ("面积（平方公里）", "Area (km²)"), "population": ("常住人口", "Population"),
    "area_covered_pct": ("面积覆盖率（%）", "Area covered (%)"),
    "population_covered_pct": ("人口覆盖率（%）", "Population covered (%)"),
    "mean_dist_m": ("到最近站点平均距离（米）", "Mean distance to nearest (m)"),
    "p90_dist_m": ("90% 分位距离（米）", "90th-percentile distance (m)"),
    "largest_gap_km2": ("最大空白区（平方公里）", "Largest gap (km²)"),
    "largest_gap_lon": ("最大空白区中心经度", "Largest gap centre lon"),
    "largest_gap_lat": ("最大空白区中心纬度", "Largest gap centre lat"),
    "stations_per_km2": ("每平方公里站点数", "Stations per km²"),
    "stations_per_10k": ("每万人站点数", "Stations per 10,000 residents"),
    "h3_resolution": ("H3 分辨率", "H3 resolution"), "cells": ("网格数", "Grid cells"),
    **{f"stations_{code}": (f"{labels['zh']}数", f"{labels['en']}s") for code, labels in vocab.STATION_TYPES.items()},
}


def ordered(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the leading columns first, then the rest in their order."""
    return table[[*LEADING, *[c for c in table.columns if c not in LEADING]]]


def as_cells(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell a spreadsheet would run as a formula (a district called
    ``=HYPERLINK(…)``) made text (:func:`stationmap.safetext.spreadsheet_cell`); for every
    CSV and workbook the project writes.
    """
    text = [c for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])]
    return table.assign(**{c: table[c].map(spreadsheet_cell) for c in text}) if text else table


def coverage_csv(report: CoverageReport, lang: str = "zh") -> bytes:
    """The table as UTF-8 CSV, agreed columns first, the assumptions in the last column."""
    table = as_cells(ordered(report.table).assign(assumptions=report.assumptions(lang)))
    return table.to_csv(index=False).encode("utf-8")


def coverage_xlsx(report: CoverageReport, lang: str = "zh") -> bytes:
    """The table as an Excel workbook with headers in ``lang`` and a notes sheet."""
    table = as_cells(ordered(report.table))
    which = 0 if lang == "zh" else 1
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as excel:
        table.rename(columns={c: HEADERS.get(c, (c, c))[which] for c in table.columns}).to_excel(
            excel, sheet_name="覆盖" if lang == "zh" else "Coverage", index=False)
        as_cells(pd.DataFrame({("说明" if lang == "zh" else "Notes"): [report.assumptions(lang)]})).to_excel(
            excel, sheet_name="说明" if lang == "zh" else "Notes", index=False)
    return buffer.getvalue()


def gaps_geojson(report: CoverageReport, lang: str = "zh", coordsys: str = "wgs84") -> dict[str, Any]:
    """The uncovered area per district as a GeoJSON FeatureCollection in ``coordsys``
    (GCJ-02 for AMap tiles), coordinates to 6 decimals (about 0.1 m).
    """
    note = report.assumptions(lang)

    features = [{"type": "Feature",
                 "properties": {"adcode": row.adcode, "name": row.name, "uncovered_km2": float(row.uncovered_km2),
                                "assumptions": note},
                 "geometry": shapely.geometry.mapping(shapely.transform(
                     coords.geometry_from_wgs84(row.geometry, coordsys), lambda xy: np.round(xy, 6)))}
                for row in report.gaps.itertuples(index=False)]
    return {"type": "FeatureCollection", "coordsys": coordsys, "features": features}


def write_coverage(report: CoverageReport, out_dir: str | os.PathLike, lang: str = "zh") -> list[Path]:
    """Write ``coverage.csv``, ``coverage.xlsx`` and ``gaps.geojson`` into ``out_dir``."""
    out = Path(out_dir)
    files = {"coverage.csv": coverage_csv(report, lang), "coverage.xlsx": coverage_xlsx(report, lang),
             "gaps.geojson": json.dumps(gaps_geojson(report, lang), ensure_ascii=False).encode("utf-8")}
    for name, content in files.items():
        with atomic_path(out / name) as temp:
            temp.write_bytes(content)
    return [out / name for name in files]


def table_csv(table: pd.DataFrame, note: str, lang: str = "zh") -> bytes:
    """Any headed table as UTF-8 CSV with a BOM (so Excel reads Chinese headers), the
    assumptions ``note`` in the last column, formula-looking text written as text.
    """
    frame = table.assign(**{("说明" if lang == "zh" else "Notes"): note})
    return as_cells(frame).to_csv(index=False).encode("utf-8-sig")


def table_xlsx(table: pd.DataFrame, note: str, lang: str = "zh", *, sheet: tuple[str, str] = ("表", "Table")) -> bytes:
    """Any headed table as an Excel workbook: the table on sheet ``sheet`` (Chinese, English),
    the assumptions on a notes sheet; formula-looking text written as text.
    """
    which = 0 if lang == "zh" else 1
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as excel:
        as_cells(table).to_excel(excel, sheet_name=sheet[which], index=False)
        as_cells(pd.DataFrame({("说明" if lang == "zh" else "Notes"): [note]})).to_excel(
            excel, sheet_name="说明" if lang == "zh" else "Notes", index=False)
    return buffer.getvalue()
