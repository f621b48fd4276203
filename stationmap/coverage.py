"""Coverage by district: how much of each district is within reach of a station.

A district is sampled by the H3 cells whose centres fall inside it; each cell's distance to its
nearest station comes from the exact geodesic engine (:class:`~stationmap.index.StationIndex`),
so a cell near a district border counts the neighbour's station, as a worker would. Shares are
weighted by cell area. :func:`exact_covered_share` computes the same share from geometry
(buffer, union, overlay in an equal-area projection) to check the grid against.

"Covered" means within a straight-line radius, by default what 15 minutes' walk reaches
(:mod:`stationmap.travel`: × 1.3 street detour at 5 km/h ≈ 962 m); the assumptions travel with
every result (:meth:`Threshold.describe`).

Examples
--------
>>> from stationmap.districts import load_districts
>>> from stationmap.stations import read_stations
>>> from stationmap.index import StationIndex
>>> table = coverage_by_district(load_districts("310101"), StationIndex(read_stations()), Threshold.walking(15))
>>> bool(0 < table.loc[0, "area_covered_pct"] <= 100)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import h3
import h3.api.numpy_int as h3i
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from . import geodesy, travel, vocab
from .districts import district_of
from .errors import InputError
from .filters import Filters
from .index import StationIndex


@dataclass(frozen=True)
class Threshold:
    """What "covered" means: within ``radius_m`` straight-line metres of a station."""

    radius_m: float
    minutes: float | None = None
    mode: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.radius_m, (int, float)) and math.isfinite(self.radius_m) and self.radius_m > 0):
            raise InputError(f"{self.radius_m!r} must be a positive number of metres", field="radius_m")

    @classmethod
    def radius(cls, metres: float) -> Threshold:
        """Covered means within ``metres`` in a straight line."""
        return cls(metres)

    @classmethod
    def walking(cls, minutes: float = 15, mode: str = "walk") -> Threshold:
        """What ``minutes`` of walking (or e-bike riding) reach, by :mod:`stationmap.travel`'s assumptions."""
        if mode not in travel.SPEEDS_KMH:
            raise InputError(f"unknown mode {mode!r}; use one of {', '.join(travel.MODES)}", field="mode")
        if not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and minutes > 0):
            raise InputError(f"{minutes!r} must be a positive number of minutes", field="minutes")
        return cls(travel.reach_m(minutes, mode), minutes, mode)

    def describe(self, lang: str = "zh") -> str:
        """The threshold and its assumptions, for every output that uses it."""
        if self.minutes is None or self.mode is None:
            return f"覆盖半径：直线 {self.radius_m:.0f} 米。" if lang == "zh" else \
                f"Covered: within {self.radius_m:.0f} m in a straight line."
        if lang == "zh":
            how = "步行" if self.mode == "walk" else "电动自行车"
            return (f"覆盖：{how} {self.minutes:g} 分钟内，即直线 {self.radius_m:.0f} 米。"
                    + travel.assumptions(self.mode, lang))
        how = "walk" if self.mode == "walk" else "e-bike ride"
        return (f"Covered: within a {self.minutes:g}-minute {how}, {self.radius_m:.0f} m in a straight line. "
                + travel.assumptions(self.mode, lang))


def resolution_for(radius_m: float) -> int:
    """The coarsest H3 resolution whose cells' edges are at most a quarter of the radius
    (962 m → resolution 9, edges about 200 m), between 5 and 11.
    """
    for res in range(5, 12):
        if h3.average_hexagon_edge_length(res, unit="m") <= radius_m / 4:
            return res
    return 11


#: Default cap on the H3 cells one report samples: about 30 s of work on two cores. Districts
#: that would need more are sampled at a coarser resolution (see :func:`plan_resolutions`).
MAX_CELLS = 4_000_000
#: The coarsest resolution a district may fall back to (cells of about 36 km², edges 3.7 km).
COARSEST = 5


def plan_resolutions(areas_km2: np.ndarray, finest: int, max_cells: int) -> np.ndarray:
    """An H3 resolution per district so the whole report samples at most about ``max_cells``.

    Small districts keep ``finest``; the budget left is shared fairly among the larger ones,
    each taking the finest resolution that fits its share (water-filling, smallest first).
    A national report thus keeps city districts at full detail and samples vast rural
    counties more coarsely; every row says which resolution it used.

    Examples
    --------
    >>> plan_resolutions(np.array([10.0, 20_000.0]), 9, 100_000).tolist()
    [9, 8]
    """
    areas_km2 = np.asarray(areas_km2, dtype=float)
    cell_km2 = {r: h3.average_hexagon_area(r, unit="km^2") for r in range(COARSEST, finest + 1)}
    plan = np.full(len(areas_km2), finest, dtype=int)
    budget, left = float(max_cells), len(areas_km2)
    for i in np.argsort(areas_km2, kind="stable"):
        share = budget / left
        res = next((r for r in range(finest, COARSEST - 1, -1) if areas_km2[i] / cell_km2[r] <= share), COARSEST)
        plan[i] = res
        budget -= areas_km2[i] / cell_km2[res]
        left -= 1
    return plan


#: :func:`cells_in` fills the coarsest resolution (at most three above the sampling one) at which
#: a district holds this many cells, so the ring of candidates around its edge stays thin.
_COARSE_CELLS = 100


def _area_km2(polygon: shapely.Geometry) -> float:
    return float(gpd.GeoSeries([polygon], crs="EPSG:4326").to_crs("+proj=cea +datum=WGS84").area.iloc[0]) / 1e6


def cells_in(polygon: shapely.Geometry, res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H3 cells (as integers) whose centres fall inside ``polygon``, with their centres' lon, lat.

    The same set as H3's own fill (``geo_to_cells``, centre containment), found about ten times
    faster for counties with long borders: H3 tests every cell against the whole outline, here
    a few coarse cells are filled, their children taken, and the children's centres tested
    against the polygon at once with GEOS. A child's centre lies in some coarse cell that
    overlaps the polygon, and a child's true parent is that cell or one of its neighbours, so
    the candidates are the overlapping coarse cells and their neighbours: none is missed.

    Examples
    --------
    >>> square = shapely.box(121.40, 31.20, 121.42, 31.22)
    >>> cells, lon, lat = cells_in(square, 9)
    >>> sorted(cells.tolist()) == sorted(h3i.geo_to_cells(shapely.geometry.mapping(square), 9).tolist())
    True
    """
    km2 = _area_km2(polygon)
    coarse = next((r for r in range(max(0, res - 3), res) if km2 / h3.average_hexagon_area(r, unit="km^2")
                   >= _COARSE_CELLS), res - 1) if res else 0
    # The coarse fill needs only a superset: a simplified outline, buffered by the simplification's
    # tolerance (planar degrees, so it contains the original), has far fewer vertices to test.
    tolerance = h3.average_hexagon_edge_length(coarse, unit="m") / 111_320 / 4
    outline = shapely.buffer(shapely.simplify(polygon, tolerance), tolerance, quad_segs=2)
    parents = h3i.h3shape_to_cells_experimental(h3.geo_to_h3shape(outline), coarse, contain="overlap")
    if len(parents):
        parents = np.unique(np.concatenate([h3i.grid_disk(p, 1) for p in parents]))
        candidates = np.concatenate([h3i.cell_to_children(p, res) for p in parents])
        centres = np.array([h3i.cell_to_latlng(c) for c in candidates]).reshape(-1, 2)
        shapely.prepare(polygon)
        inside = shapely.contains_xy(polygon, centres[:, 1], centres[:, 0])
        if inside.any():
            return candidates[inside].astype(np.uint64), centres[inside, 1], centres[inside, 0]
    point = shapely.point_on_surface(polygon)    # a district smaller than one cell: its inside point
    cell = h3i.latlng_to_cell(point.y, point.x, res)
    lat, lon = h3i.cell_to_latlng(cell)
    return np.array([cell], dtype=np.uint64), np.array([lon]), np.array([lat])


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


def _largest_gap(xyz: np.ndarray, uncovered: np.ndarray, areas: np.ndarray,
                 lon: np.ndarray, lat: np.ndarray) -> tuple[float, float | None, float | None]:
    """Area (km²) and area-weighted centre of the largest connected group of uncovered cells.

    Cells of one resolution are neighbours when their centres are one spacing apart (√3 edges;
    the next ring is ≥ 3 edges away), so groups are the connected components of the graph of
    uncovered centres closer than 1.3 spacings, the spacing measured on the district's own cells.
    """
    if not uncovered.any():
        return 0.0, None, None
    spacing = float(np.median(cKDTree(xyz).query(xyz, k=2)[0][:, 1])) if len(xyz) > 1 else 0.0
    where = np.flatnonzero(uncovered)
    pairs = cKDTree(xyz[where]).query_pairs(1.3 * spacing, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(where), len(where)))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label, weights=areas[where])
    best = where[label == np.argmax(sizes)]
    w = areas[best]
    return float(w.sum()), float(np.average(lon[best], weights=w)), float(np.average(lat[best], weights=w))


@dataclass
class CoverageReport:
    """The per-district table, the uncovered area as polygons, and what "covered" meant."""

    table: pd.DataFrame
    gaps: gpd.GeoDataFrame
    threshold: Threshold
    at: datetime | None
    #: Every sampled H3 cell: ``cell`` (H3 index as an integer), ``adcode``, ``lon``, ``lat`` (its
    #: centre), ``distance_m`` (inf: no admitted station), ``area_km2``, ``resolution``.
    cells: pd.DataFrame
    #: Which stations counted (those open at ``at``, never closed ones).
    filters: Filters

    #: Whether population coverage was measured on a demand layer rather than spread evenly.
    on_demand: bool = False

    def assumptions(self, lang: str = "zh") -> str:
        """What the figures assume (threshold, time of day, population), for every output."""
        text = self.threshold.describe(lang)
        if self.at is not None:
            stamp = self.at.strftime("%Y-%m-%d %H:%M")
            text += (f" 只计 {stamp}（北京时间）开放的站点。" if lang == "zh"
                     else f" Only stations open at {stamp} China Standard Time count.")
        if self.on_demand:
            even = ("人口覆盖按需求图层的权重计算。" if lang == "zh"
                    else "Population coverage is measured on the demand layer.")
        else:
            even = "人口按各区面积均匀分布。" if lang == "zh" else "Population is spread evenly over each district."
        return f"{text} {even}"


def _resolution_plan(polygon_km2: np.ndarray, threshold: Threshold, resolution: int | None,
                     max_cells: int) -> np.ndarray:
    """The H3 resolution of each district: the one asked for (refused if it needs too many cells), or planned."""
    if resolution is None:
        return plan_resolutions(polygon_km2, resolution_for(threshold.radius_m), max_cells)
    if not (isinstance(resolution, (int, np.integer)) and 0 <= resolution <= 15):
        raise InputError(f"{resolution!r} is not an H3 resolution (0–15)", field="resolution")
    needed = polygon_km2.sum() / h3.average_hexagon_area(resolution, unit="km^2")
    if needed > max_cells:
        raise InputError(f"resolution {resolution} would sample about {needed:,.0f} cells, more than the "
                         f"{max_cells:,} allowed; choose a coarser one or a smaller area", field="resolution")
    return np.full(len(polygon_km2), resolution)


def _demand_reach(demand: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, index: StationIndex, any_station: bool,
                  filters: Filters, threshold: Threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each demand point's district (position), weight, and whether an admitted station is within reach."""
    demand_lon, demand_lat = demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()
    demand_home = district_of(districts, demand_lon, demand_lat)
    demand_weight = demand["weight"].to_numpy(dtype=float)
    if any_station and len(demand_lon):
        _, reach = index.nearest_batch(demand_lon, demand_lat, k=1, filters=filters)
        demand_within = np.nan_to_num(reach[:, 0], nan=np.inf) <= threshold.radius_m
    else:
        demand_within = np.zeros(len(demand_lon), dtype=bool)
    return demand_home, demand_weight, demand_within


def demand_covered(demand: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, index: StationIndex,
                   report: CoverageReport) -> dict[str, Any]:
    """The whole area's figures on a demand layer: points and weight inside the districts, and the
    share of that weight within reach (what "population covered" means for the area when a
    planner brings demand; averaging districts' shares by census population would not be).
    """
    filters = report.filters
    any_station = bool(index.admitted(np.arange(len(index)), filters).any())
    home, weight, within = _demand_reach(demand, districts, index, any_station, filters, report.threshold)
    inside = home >= 0
    total = float(weight[inside].sum())
    return {"points_inside": int(inside.sum()), "points_outside": int((~inside).sum()),
            "weight_inside": round(total, 3),
            "covered_pct": round(100.0 * float(weight[inside & within].sum()) / total, 2) if total > 0 else None}


def _area_and_population(district: Any, polygon_km2: float) -> tuple[float, int | None]:
    """A district's land area (the official figure when given, else its polygon's) and population if known."""
    land_km2 = getattr(district, "land_area_km2", None)
    area_km2 = float(land_km2) if land_km2 is not None and not pd.isna(land_km2) else polygon_km2
    population = getattr(district, "population", None)
    return area_km2, (None if population is None or pd.isna(population) else int(population))


def coverage_report(districts: gpd.GeoDataFrame, index: StationIndex, threshold: Threshold, *,
                    at: str | datetime | None = None, resolution: int | None = None,
                    demand: gpd.GeoDataFrame | None = None, max_cells: int = MAX_CELLS,
                    progress: Callable[..., None] | None = None) -> CoverageReport:
    """Per district: stations, density, covered shares, distances to the nearest station, largest gap.

    ``at`` keeps only stations open at that moment (China Standard Time unless an offset is
    given): the night view. Population is spread evenly over each district, so its covered
    share equals the area share, unless a ``demand`` layer (:func:`stationmap.demand.read_demand`)
    is given: then it is the share of the demand's weight in the district within reach.
    Distances are to the nearest admitted station anywhere, not only inside the district. A
    register of no stations (or none admitted at ``at``) covers nothing: every cell is at an
    infinite distance.

    The H3 resolution follows the threshold (:func:`resolution_for`) unless ``resolution`` is
    given; at most about ``max_cells`` cells are sampled (:func:`plan_resolutions`), and an
    explicit ``resolution`` that would need more is refused. ``progress(done, total, cells=n)`` is
    called after each district (``n``: the cells it sampled), for a bar on a terminal or a page.
    """
    if len(districts) == 0:
        raise InputError("there are no districts to measure", field="districts")
    filters = Filters.build(open_at=at) if at is not None else Filters()
    polygon_km2 = districts.geometry.to_crs("+proj=cea +datum=WGS84").area.to_numpy() / 1e6
    plan = _resolution_plan(polygon_km2, threshold, resolution, max_cells)
    admitted = np.flatnonzero(index.admitted(np.arange(len(index)), filters))
    home = district_of(districts, index.lon[admitted], index.lat[admitted])
    types = index.column("type")[admitted]
    if demand is not None:
        demand_home, demand_weight, demand_within = _demand_reach(demand, districts, index, len(admitted) > 0,
                                                                  filters, threshold)
    rows, gap_rows, cell_tables = [], [], []
    for i, district in enumerate(districts.itertuples(index=False)):
        polygon, res = district.geometry, int(plan[i])
        cells, lon, lat = cells_in(polygon, res)
        areas = np.fromiter((h3i.cell_area(c, unit="km^2") for c in cells), dtype=float, count=len(cells))
        if len(admitted):
            _, distance = index.nearest_batch(lon, lat, k=1, filters=filters)
            distance = np.where(np.isnan(distance[:, 0]), np.inf, distance[:, 0])
        else:
            distance = np.full(len(cells), np.inf)
        covered = distance <= threshold.radius_m
        cell_tables.append(pd.DataFrame({"cell": cells, "adcode": district.adcode, "lon": lon, "lat": lat,
                                         "distance_m": distance, "area_km2": areas, "resolution": res}))
        inside = home == i
        area_km2, population = _area_and_population(district, float(polygon_km2[i]))
        gap_km2, gap_lon, gap_lat = _largest_gap(geodesy.ecef(lon, lat), ~covered, areas, lon, lat)
        share = 100.0 * float(areas[covered].sum() / areas.sum())
        people_share = share
        if demand is not None:
            here = demand_home == i
            weights = demand_weight[here]
            people_share = (100.0 * float(weights[demand_within[here]].sum() / weights.sum())
                            if weights.sum() > 0 else float("nan"))
        finite = bool(np.isfinite(distance).all())
        stations = int(inside.sum())
        row = {
            "adcode": district.adcode, "name": district.name, "stations": stations,
            "area_km2": round(area_km2, 3), "population": population,
            "area_covered_pct": round(share, 2), "population_covered_pct": round(people_share, 2),
            "mean_dist_m": round(float(np.average(distance, weights=areas)), 1) if finite else None,
            "p90_dist_m": round(_weighted_quantile(distance, areas, 0.9), 1) if finite else None,
            "largest_gap_km2": round(gap_km2, 3), "largest_gap_lon": gap_lon, "largest_gap_lat": gap_lat,
            "stations_per_km2": round(stations / area_km2, 4) if area_km2 else None,
            "stations_per_10k": round(stations / population * 10_000, 3) if population else None,
            "h3_resolution": res, "cells": len(cells),
        }
        for code in vocab.STATION_TYPES:
            row[f"stations_{code}"] = int((types[inside] == code).sum())
        rows.append(row)
        if not covered.all():
            shape = shapely.geometry.shape(h3i.cells_to_geo(cells[~covered]))
            gap_rows.append({"adcode": district.adcode, "name": district.name,
                             "uncovered_km2": round(float(areas[~covered].sum()), 3), "geometry": shape})
        if progress is not None:
            progress(i + 1, len(districts), cells=len(cells))
    gaps = gpd.GeoDataFrame(gap_rows, columns=["adcode", "name", "uncovered_km2", "geometry"],
                            geometry="geometry", crs="EPSG:4326")
    return CoverageReport(pd.DataFrame(rows), gaps, threshold, filters.open_at,
                          pd.concat(cell_tables, ignore_index=True), filters, on_demand=demand is not None)


def coverage_by_district(districts: gpd.GeoDataFrame, index: StationIndex, threshold: Threshold, *,
                         at: str | datetime | None = None, resolution: int | None = None) -> pd.DataFrame:
    """The per-district table of :func:`coverage_report`."""
    return coverage_report(districts, index, threshold, at=at, resolution=resolution).table


def exact_covered_share(polygon: shapely.Geometry, lon: np.ndarray, lat: np.ndarray, radius_m: float) -> float:
    """Percent of ``polygon`` within ``radius_m`` of any point, from geometry alone.

    Discs are drawn in a Lambert azimuthal equal-area projection centred on the district, where
    areas are true and, within a district's extent, distances from the centre distort by under
    0.01 %: this is the reference the H3 estimate is checked against.
    """
    centre = polygon.centroid
    laea = CRS.from_proj4(f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m")
    forward = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    shape = shapely.transform(polygon, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))
    x, y = forward.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    near = shapely.dwithin(shape, shapely.points(x, y), radius_m)
    if not near.any():
        return 0.0
    discs = shapely.buffer(shapely.points(x[near], y[near]), radius_m, quad_segs=64)
    return 100.0 * shapely.intersection(shape, shapely.union_all(discs)).area / shape.area
