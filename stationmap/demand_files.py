"""Demand a planner brings: a CSV, XLSX or GeoJSON of points with an optional weight.

Planners have riders' orders, sanitation crews or residents by community in the spreadsheets
their colleagues keep, so a demand file is read as a register file is
(:mod:`stationmap.registers.sheets`): UTF-8 or GB18030 CSV, XLSX with title rows above the
header, Chinese or English headers (经度/纬度/坐标系, lon/lat/coordsys), and coordinates in
GCJ-02 unless a row's 坐标系 says otherwise (AMap is where such sheets come from). A
GeoJSON/GeoPackage (points or polygons, a ``weight`` property) goes through
:func:`stationmap.demand.read_demand`, as ``--demand`` does. The weight column is optional
(every point then counts 1). Every bad cell is reported at once, by the row the user sees
and the column's own header, in Chinese and English.

The result, :class:`DemandPoints`, is compared and hashed by the file's SHA-256, so it can be
part of a cached question's key and cross the heavy-work pool's process boundary.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import coords
from .demand import read_demand
from .errors import DataFileError, InputError
from .registers import headers
from .registers.sheets import GEOFILES, RawTable, read_table_bytes

#: Headers naming the weight (compared as :func:`stationmap.registers.headers.key` does).
WEIGHT_NAMES = ("weight", "权重", "人数", "人口", "居民数", "需求", "需求量", "订单数", "订单量", "单量", "数量",
                "count", "population", "orders")
#: A Chinese header ending in one of these names the weight too (作业人数, 常住人口, 日均单量…).
WEIGHT_ENDINGS = ("人数", "人口", "单量", "订单数", "需求量")
#: Largest number of demand points an upload may hold.
MAX_POINTS = 200_000


@dataclass(frozen=True, eq=False)
class DemandPoints:
    """Weighted demand points in WGS-84, identified by the file's digest."""

    name: str
    digest: str
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DemandPoints) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(("demand", self.digest))

    def __len__(self) -> int:
        return len(self.weight)

    def frame(self) -> gpd.GeoDataFrame:
        """What :func:`stationmap.coverage.coverage_report` and :func:`stationmap.recommend.recommend` take."""
        return gpd.GeoDataFrame({"weight": self.weight}, geometry=gpd.points_from_xy(self.lon, self.lat),
                                crs="EPSG:4326")


def _refuse(name: str, problems: list[InputError]) -> DataFileError:
    return DataFileError(name, sorted(problems, key=lambda p: (p.row or 0, p.field or "")))


def _columns(table: RawTable) -> dict[str, int]:
    where: dict[str, int] = {}
    weights = {headers.key(n) for n in WEIGHT_NAMES}
    for i, head in enumerate(table.headers):
        plain = headers.key(head)
        field = "weight" if plain in weights or plain.endswith(WEIGHT_ENDINGS) else headers.field_of(head)
        if field in ("lon", "lat", "coordsys", "weight") and field not in where:
            where[field] = i
    return where


def _from_table(table: RawTable, name: str, coordsys: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    where = _columns(table)
    missing = [f for f in ("lon", "lat") if f not in where]
    if missing:
        raise _refuse(name, [InputError(f"required column {headers.header(f)} ({f}) is missing "
                                        f"(缺少“{headers.header(f)}”列)", field=f) for f in missing])
    rows = table.rows

    def column(field: str) -> list[str]:
        return [r[where[field]].strip() for r in rows]

    systems = column("coordsys") if "coordsys" in where else [""] * len(rows)
    systems = [headers.coordsys(s) or s if s else coordsys for s in systems]
    frame = pd.DataFrame({"lon": column("lon"), "lat": column("lat"), "coordsys": systems})
    lon, lat, found = coords.points_from_rows(frame)
    problems = []
    for p in found:                     # the row the user sees, the column's own header
        index = (p.row or 1) - 1
        header = table.headers[where[p.field]] if p.field in where else p.field
        problems.append(InputError(f"{p.reason} (该单元格无效)", field=header, row=table.row_numbers[index]))
    weight = np.ones(len(rows))
    if "weight" in where:
        text = column("weight")
        weight = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(~(weight >= 0) | ~np.isfinite(weight)):
            problems.append(InputError(f"{text[i]!r} is not a number ≥ 0 (权重须为不小于 0 的数)",
                                       field=table.headers[where["weight"]], row=table.row_numbers[i]))
    if problems:
        raise _refuse(name, problems)
    return lon, lat, weight


def read_demand_bytes(data: bytes, name: str, *, coordsys: str = "gcj02") -> DemandPoints:
    """The demand points of an uploaded file ``name`` (its suffix gives the format); ``coordsys``:
    the system of a sheet's rows without a 坐标系 cell. Raises :class:`DataFileError` with
    every problem (row as the user sees it, column by its header).
    """
    if coordsys not in coords.COORDSYS:
        raise InputError(f"{coordsys!r} is not one of {', '.join(coords.COORDSYS)}", field="demand_coordsys")
    suffix = Path(name).suffix.lower()
    if suffix in GEOFILES:
        with tempfile.TemporaryDirectory(prefix="stationmap-demand-") as folder:
            path = Path(folder) / f"demand{suffix}"
            path.write_bytes(data)
            try:
                frame = read_demand(path)
            except DataFileError as error:
                raise _refuse(name, error.problems) from None
        lon, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
        weight = frame["weight"].to_numpy(dtype=float)
    else:
        lon, lat, weight = _from_table(read_table_bytes(data, name, required="lon"), name, coordsys)
    if len(weight) == 0:
        raise _refuse(name, [InputError("has no demand points (文件中没有需求点)")])
    if len(weight) > MAX_POINTS:
        raise _refuse(name, [InputError(f"has {len(weight):,} points; at most {MAX_POINTS:,} "
                                        f"(需求点过多，最多 {MAX_POINTS:,} 个)")])
    return DemandPoints(name, hashlib.sha256(data).hexdigest(), np.asarray(lon, dtype=float),
                        np.asarray(lat, dtype=float), np.asarray(weight, dtype=float))
