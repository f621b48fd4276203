"""Where the people who need stations are: a demand layer of weighted points or hexagons.

Without one, coverage spreads each district's census population evenly over its area. With
one (a platform's rider counts by hexagon, say), population coverage is measured on it:
the share of its weight within reach of a station.

A CSV needs ``lon``, ``lat`` and ``weight`` (``coordsys`` optional, as for stations); a
GeoJSON/GeoPackage has points or polygons (each polygon counts at a point inside it) with a
``weight`` property.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import coords
from .errors import DataFileError, InputError


def read_demand(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Weighted demand points (``weight`` ≥ 0) in WGS-84."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DataFileError(source, [InputError("no such file")])
    try:
        frame = (pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                 if path.suffix.lower() == ".csv" else gpd.read_file(path))
    except Exception as exc:  # pandas and pyogrio raise their own types for unreadable files
        raise DataFileError(source, [InputError(f"cannot be read: {exc}")]) from None
    if len(frame) == 0:
        raise DataFileError(source, [InputError("has no demand")])
    if "weight" not in frame.columns:
        raise DataFileError(source, [InputError("required column 'weight' is missing", field="weight")])
    problems = []
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(~(weight >= 0)):
        problems.append(InputError(f"{frame['weight'].iloc[i]!r} is not a number ≥ 0", field="weight", row=int(i) + 1))
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs("EPSG:4326")
        points = shapely.point_on_surface(frame.geometry.array)
        lon, lat = shapely.get_x(points), shapely.get_y(points)
        for i in np.flatnonzero(shapely.is_empty(points) | np.isnan(lon)):
            problems.append(InputError("geometry is empty", field="geometry", row=int(i) + 1))
    else:
        missing = [c for c in ("lon", "lat") if c not in frame.columns]
        if missing:
            raise DataFileError(source, [InputError(f"required column {c!r} is missing", field=c) for c in missing])
        lon, lat, bad_points = coords.points_from_rows(frame)
        problems.extend(bad_points)
    if problems:
        raise DataFileError(source, sorted(problems, key=lambda p: p.row or 0))
    return gpd.GeoDataFrame({"weight": weight}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
