"""Coverage reports as files a planner can paste from: CSV, Excel (Chinese headers), GeoJSON.

Every file carries the assumptions behind "covered" (radius, speed, detour, time of day).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from . import vocab
from ._files import atomic_path
from .coverage import CoverageReport

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
    return table[[*LEADING, *[c for c in table.columns if c not in LEADING]]]


def write_coverage(report: CoverageReport, out_dir: str | os.PathLike, lang: str = "zh") -> list[Path]:
    """Write ``coverage.csv``, ``coverage.xlsx`` and ``gaps.geojson`` into ``out_dir``."""
    out = Path(out_dir)
    table = ordered(report.table)
    note = report.assumptions(lang)
    written = []

    with atomic_path(out / "coverage.csv") as temp:
        table.assign(assumptions=note).to_csv(temp, index=False, encoding="utf-8")
    written.append(out / "coverage.csv")

    which = 0 if lang == "zh" else 1
    with atomic_path(out / "coverage.xlsx") as temp:
        with pd.ExcelWriter(temp, engine="openpyxl") as excel:
            table.rename(columns={c: HEADERS.get(c, (c, c))[which] for c in table.columns}).to_excel(
                excel, sheet_name="覆盖" if lang == "zh" else "Coverage", index=False)
            pd.DataFrame({("说明" if lang == "zh" else "Notes"): [note]}).to_excel(
                excel, sheet_name="说明" if lang == "zh" else "Notes", index=False)
    written.append(out / "coverage.xlsx")

    with atomic_path(out / "gaps.geojson") as temp:
        report.gaps.assign(assumptions=note).to_file(temp, driver="GeoJSON", COORDINATE_PRECISION=6)
    written.append(out / "gaps.geojson")
    return written
