"""Two coverage questions side by side: which H3 cells a change gains or loses, per district.

A planner asks "what does the night take away?", "what do 10 minutes cover that 15 do not?",
"what would the recommended sites add?". Each is a pair of :class:`Side` s over one area: a
threshold, a moment (only stations open then count) and optionally new sites, counted as
stations open at every hour. :func:`compare` measures both on **one grid** of H3 cells (the
finer of the two sides' resolutions, bounded by the cell budget like every coverage report),
so every cell has a state in A and in B and the difference is exact: a cell is *gained* when
B covers it and A does not, *lost* the other way round, else unchanged (covered or a gap).
Covered means the same as in :func:`stationmap.coverage.coverage_report`: the geodesic
distance to the nearest admitted station is at most the threshold's radius.

The per-district table (:attr:`Comparison.table`) gives each side's share of area covered,
its population covered (residents spread evenly over the district, as the coverage report
assumes without a demand layer) and the deltas. The files (:func:`changes_csv`,
:func:`changes_xlsx`, :func:`difference_geojson`) and the page's difference map
(:func:`difference_payload`) come from here; nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import shapely

from . import coords, geodesy
from .coverage import Threshold, _area_and_population, cells_in, plan_resolutions, resolution_for
from .errors import InputError
from .filters import Filters
from .index import StationIndex
from .maps.style import DIFF_COLOURS

#: Each cell's change, as stored in :attr:`Comparison.cells` ``change`` and drawn in this order
#: (the changed cells last, on top).
UNCHANGED_COVERED, UNCHANGED_GAP, LOST, GAINED = 0, 1, 2, 3
CHANGES = ("covered", "gap", "lost", "gained")
#: Names of the changes, Chinese first.
CHANGE_LABELS = {"covered": ("两者均覆盖", "covered in both"), "gap": ("两者均为空白", "a gap in both"),
                 "lost": ("失去覆盖", "lost"), "gained": ("新增覆盖", "gained")}

#: The per-district table's columns and their headers (Chinese, English), in order.
COLUMNS = {
    "adcode": ("行政区划代码", "Adcode"), "name": ("区", "District"),
    "area_covered_pct_a": ("覆盖面积占比 A (%)", "Area covered A (%)"),
    "area_covered_pct_b": ("覆盖面积占比 B (%)", "Area covered B (%)"),
    "area_covered_pct_delta": ("覆盖面积占比变化 (百分点)", "Change in area covered (points)"),
    "population": ("人口", "Population"),
    "population_covered_a": ("覆盖人口 A", "People covered A"),
    "population_covered_b": ("覆盖人口 B", "People covered B"),
    "population_covered_delta": ("覆盖人口变化", "Change in people covered"),
    "gained_km2": ("新增覆盖面积 (km²)", "Area gained (km²)"),
    "lost_km2": ("失去覆盖面积 (km²)", "Area lost (km²)"),
    "cells": ("网格数", "Grid cells"), "h3_resolution": ("H3 分辨率", "H3 resolution"),
}


@dataclass(frozen=True)
class Side:
    """One scenario: what "covered" means and which stations count.

    ``sites_lon``/``sites_lat``: new sites (WGS-84), counted as stations open at every hour.
    ``register``: the register version the stations are from, when the two sides' differ (today
    against an earlier version); ``None``: the same register for both.
    """

    threshold: Threshold
    at: datetime | None = None
    sites_lon: tuple[float, ...] = ()
    sites_lat: tuple[float, ...] = ()
    register: int | None = None

    def describe(self, lang: str = "zh") -> str:
        """The scenario in words, e.g. "步行 15 分钟内 · 02:00 · 加 3 个建议站点"."""
        threshold = self.threshold
        if threshold.minutes is not None:
            mode = {"walk": ("步行", "walk"), "ebike": ("电动自行车", "e-bike")}.get(
                threshold.mode or "walk", (threshold.mode, threshold.mode))
            reach = (f"{mode[0]} {threshold.minutes:g} 分钟内" if lang == "zh"
                     else f"{threshold.minutes:g} min by {mode[1]}")
        else:
            reach = f"{threshold.radius_m:g} 米内" if lang == "zh" else f"within {threshold.radius_m:g} m"
        when = (self.at.strftime("%H:%M") if self.at is not None
                else ("任何时间" if lang == "zh" else "any time"))
        parts = [reach, when]
        if self.sites_lon:
            n = len(self.sites_lon)
            parts.append(f"加 {n} 个建议站点" if lang == "zh" else f"with {n} recommended site{'s' * (n != 1)}")
        if self.register is not None:
            parts.append(f"第 {self.register} 版登记册" if lang == "zh" else f"register version {self.register}")
        return " · ".join(parts)


@dataclass
class Comparison:
    """Two scenarios measured on one grid: the cells, and the per-district changes."""

    a: Side
    b: Side
    #: One row per sampled cell: ``cell``, ``adcode``, ``lon``, ``lat``, ``area_km2``,
    #: ``resolution``, ``distance_a``/``distance_b`` (metres; inf: no station), ``covered_a``,
    #: ``covered_b``, ``change`` (:data:`CHANGES` index).
    cells: pd.DataFrame
    #: One row per district (:data:`COLUMNS`).
    table: pd.DataFrame
    #: Which districts (their outlines): the difference GeoJSON's areas are cut from their cells.
    adcodes: list[str] = field(default_factory=list)

    def assumptions(self, lang: str = "zh") -> str:
        """What the figures assume, for every output."""
        if lang == "zh":
            return (f"方案 A：{self.a.describe('zh')}；方案 B：{self.b.describe('zh')}。两个方案在同一 H3 网格上计算；"
                    "建议站点按全天开放计；人口按各区面积均匀分布。")
        return (f"Scenario A: {self.a.describe('en')}; scenario B: {self.b.describe('en')}. Both are measured on "
                "the same H3 grid; recommended sites count as open at every hour; population is spread evenly "
                "over each district.")


def side_distances(lon: np.ndarray, lat: np.ndarray, index: StationIndex, side: Side) -> np.ndarray:
    """Metres from each point to the nearest station admitted by ``side`` (its moment), or to one
    of its new sites if nearer within its reach; ``inf`` where none is admitted.

    A site farther than the threshold's radius cannot change whether a point is covered, so
    its exact distance is computed only where the straight chord (never longer than the
    geodesic) is within reach; elsewhere the stations' distance stands.
    """
    filters = Filters.build(open_at=side.at) if side.at is not None else Filters()
    if len(lon) and index.admitted(np.arange(len(index)), filters).any():
        _, nearest = index.nearest_batch(lon, lat, k=1, filters=filters)
        distance = np.where(np.isnan(nearest[:, 0]), np.inf, nearest[:, 0])
    else:
        distance = np.full(len(lon), np.inf)
    if side.sites_lon and len(lon):
        xyz = geodesy.ecef(lon, lat)
        reach = side.threshold.radius_m
        for site_lon, site_lat in zip(side.sites_lon, side.sites_lat, strict=True):
            chord = np.linalg.norm(xyz - geodesy.ecef(site_lon, site_lat), axis=1)
            near = np.flatnonzero(chord <= reach)
            if len(near):
                exact = geodesy.geodesic_m(lon[near], lat[near], site_lon, site_lat)
                distance[near] = np.minimum(distance[near], exact)
    return distance


def comparison_grid(districts: gpd.GeoDataFrame, a: Side, b: Side, *, max_cells: int,
                    resolution: int | None = None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """Per district ``(cells, lon, lat, resolution)``: the finer of the two sides' plans
    (:func:`stationmap.coverage.plan_resolutions`), or ``resolution`` for every district.
    """
    polygon_km2 = districts.geometry.to_crs("+proj=cea +datum=WGS84").area.to_numpy() / 1e6
    if resolution is not None:
        plan = np.full(len(districts), int(resolution))
    else:
        finest = resolution_for(min(a.threshold.radius_m, b.threshold.radius_m))
        plan = plan_resolutions(polygon_km2, finest, max_cells)
    return [(*cells_in(district.geometry, int(plan[i])), int(plan[i]))
            for i, district in enumerate(districts.itertuples(index=False))]


def compare(districts: gpd.GeoDataFrame, index: StationIndex, a: Side, b: Side, *, max_cells: int = 400_000,
            resolution: int | None = None, progress: Callable[..., None] | None = None,
            b_index: StationIndex | None = None) -> Comparison:
    """Scenario ``a`` against scenario ``b`` over ``districts``, cell by cell and per district.

    ``b_index``: the stations ``b`` is asked of, when not ``index``'s (the register as it stood
    at an earlier version, :meth:`stationmap.dataset.Dataset.as_of`); the grid is the same.
    ``progress(done, total, cells=n)`` is called after each district, as for coverage reports.
    """
    if len(districts) == 0:
        raise InputError("there are no districts to compare", field="adcode")
    if len(a.sites_lon) != len(a.sites_lat) or len(b.sites_lon) != len(b.sites_lat):
        raise InputError("every site needs a longitude and a latitude", field="sites")
    frames, rows = [], []
    grid = comparison_grid(districts, a, b, max_cells=max_cells, resolution=resolution)
    for i, (district, (cells, lon, lat, res)) in enumerate(zip(districts.itertuples(index=False), grid,
                                                              strict=True)):
        areas = np.fromiter((h3i.cell_area(c, unit="km^2") for c in cells), dtype=float, count=len(cells))
        da, db = side_distances(lon, lat, index, a), side_distances(lon, lat, index if b_index is None else b_index, b)
        ca, cb = da <= a.threshold.radius_m, db <= b.threshold.radius_m
        change = np.select([ca & cb, ~ca & ~cb, ca & ~cb], [UNCHANGED_COVERED, UNCHANGED_GAP, LOST], GAINED)
        frames.append(pd.DataFrame({"cell": cells, "adcode": district.adcode, "lon": lon, "lat": lat,
                                    "area_km2": areas, "resolution": res, "distance_a": da, "distance_b": db,
                                    "covered_a": ca, "covered_b": cb, "change": change.astype(np.int8)}))
        rows.append(_district_row(district, areas, ca, cb, res))
        if progress is not None:
            progress(i + 1, len(districts), cells=len(cells))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return Comparison(a, b, pd.concat(frames, ignore_index=True), table, [str(c) for c in districts["adcode"]])


def _district_row(district: Any, areas: np.ndarray, ca: np.ndarray, cb: np.ndarray, res: int) -> dict[str, Any]:
    total = float(areas.sum())
    share_a = 100.0 * float(areas[ca].sum()) / total if total else 0.0
    share_b = 100.0 * float(areas[cb].sum()) / total if total else 0.0
    _, population = _area_and_population(district, 0.0)
    people_a = people_b = delta = None
    if population is not None:
        people_a, people_b = round(population * share_a / 100), round(population * share_b / 100)
        delta = people_b - people_a
    return {"adcode": district.adcode, "name": district.name,
            "area_covered_pct_a": round(share_a, 2), "area_covered_pct_b": round(share_b, 2),
            "area_covered_pct_delta": round(round(share_b, 2) - round(share_a, 2), 2),
            "population": population, "population_covered_a": people_a, "population_covered_b": people_b,
            "population_covered_delta": delta,
            "gained_km2": round(float(areas[cb & ~ca].sum()), 3), "lost_km2": round(float(areas[ca & ~cb].sum()), 3),
            "cells": len(areas), "h3_resolution": res}


def totals(comparison: Comparison) -> dict[str, Any]:
    """The whole area: shares weighted by cell area, people summed, cells per change."""
    cells, table = comparison.cells, comparison.table
    area = cells["area_km2"].to_numpy(dtype=float)
    total = float(area.sum()) or 1.0
    share_a = round(100.0 * float(area[cells["covered_a"].to_numpy()].sum()) / total, 2)
    share_b = round(100.0 * float(area[cells["covered_b"].to_numpy()].sum()) / total, 2)
    known = table["population"].notna().all()
    people = {k: (int(table[f"population_covered_{k}"].sum()) if known else None) for k in ("a", "b", "delta")}
    counts = np.bincount(cells["change"].to_numpy(dtype=int), minlength=len(CHANGES))
    return {"area_covered_pct_a": share_a, "area_covered_pct_b": share_b,
            "area_covered_pct_delta": round(share_b - share_a, 2),
            "population_covered_a": people["a"], "population_covered_b": people["b"],
            "population_covered_delta": people["delta"],
            "cells": {name: int(counts[i]) for i, name in enumerate(CHANGES)},
            "km2": {name: round(float(area[cells["change"].to_numpy() == i].sum()), 3)
                    for i, name in enumerate(CHANGES)}}


def legend(lang: str = "zh") -> list[dict[str, str]]:
    """The difference map's legend: each change's key, colour and label in ``lang``."""
    which = 0 if lang == "zh" else 1
    return [{"key": name, "colour": DIFF_COLOURS[name], "label": CHANGE_LABELS[name][which]}
            for name in ("gained", "lost", "covered", "gap")]


def difference_payload(comparison: Comparison, coordsys: str = "wgs84") -> dict:
    """The difference map in the heat layer's compact form (:func:`stationmap.heat.compact_cells`):
    each cell's value is its change (:data:`CHANGES` index) in tenths, and ``bands`` give the
    page's layer one colour per change, so the same drawing code draws both maps.
    """
    from .heat import compact_cells

    tenths = comparison.cells["change"].to_numpy(dtype=np.int64) * 10
    bands = [[-1 if i == 0 else i - 1, i, DIFF_COLOURS[name]] for i, name in enumerate(CHANGES)]
    return {"unit": "change", "changes": list(CHANGES), "bands": bands,
            **compact_cells(comparison.cells, tenths, coordsys)}


def _headed(comparison: Comparison, lang: str) -> pd.DataFrame:
    which = 0 if lang == "zh" else 1
    return comparison.table.rename(columns={c: COLUMNS[c][which] for c in COLUMNS})


def changes_csv(comparison: Comparison, lang: str = "zh") -> bytes:
    """The per-district changes as UTF-8 CSV (with a BOM for Excel), headers in ``lang``, the
    assumptions in the last column; text that would run as a formula written as text.
    """
    from .reports import table_csv

    return table_csv(_headed(comparison, lang), comparison.assumptions(lang), lang)


def changes_xlsx(comparison: Comparison, lang: str = "zh") -> bytes:
    """The per-district changes as an Excel workbook: a sheet of changes, one of notes."""
    from .reports import table_xlsx

    return table_xlsx(_headed(comparison, lang), comparison.assumptions(lang), lang,
                      sheet=("方案对比", "Scenarios"))


def difference_geojson(comparison: Comparison, lang: str = "zh", coordsys: str = "wgs84") -> dict[str, Any]:
    """The cells that changed, merged per district and change (gained, lost) into polygons,
    as a GeoJSON FeatureCollection in ``coordsys``, coordinates to 6 decimals.
    """
    which = 0 if lang == "zh" else 1
    note = comparison.assumptions(lang)
    names = dict(zip(comparison.table["adcode"], comparison.table["name"], strict=True))
    features = []
    cells = comparison.cells
    for (adcode, change), group in cells[cells["change"].isin([GAINED, LOST])].groupby(["adcode", "change"]):
        name = CHANGES[int(change)]
        shape = shapely.geometry.shape(h3i.cells_to_geo(group["cell"].to_numpy()))
        shape = shapely.transform(coords.geometry_from_wgs84(shape, coordsys), lambda xy: np.round(xy, 6))
        features.append({"type": "Feature",
                         "properties": {"adcode": adcode, "name": names.get(adcode), "change": name,
                                        "change_label": CHANGE_LABELS[name][which],
                                        "km2": round(float(group["area_km2"].sum()), 3), "cells": len(group),
                                        "assumptions": note},
                         "geometry": shapely.geometry.mapping(shape)})
    return {"type": "FeatureCollection", "coordsys": coordsys, "assumptions": note, "features": features}


def _stem_part(side: Side, sites: int) -> str:
    threshold = side.threshold
    part = (f"{threshold.mode}{threshold.minutes:g}" if threshold.minutes is not None
            else f"{threshold.radius_m:g}m")
    if side.at is not None:
        part += side.at.strftime("-%H%M")
    if sites:
        part += f"-sites{sites}"
    if side.register is not None:
        part += f"-v{side.register}"
    return part


def file_stem(adcode: str, a: Side, b: Side, what: str = "compare", *, b_sites: int | None = None) -> str:
    """A file name that says what it holds, e.g. ``coverage-compare-310100-walk15-vs-walk15-0200``,
    ``coverage-compare-310100-walk15-v131-vs-walk15-v118`` for today against version 118
    (``what``: ``compare`` for the per-district table, ``changes`` for the changed cells;
    ``b_sites``: the sites asked for B, when its sites are not at hand).
    """
    sites_b = len(b.sites_lon) if b_sites is None else b_sites
    return f"coverage-{what}-{adcode}-{_stem_part(a, len(a.sites_lon))}-vs-{_stem_part(b, sites_b)}"
