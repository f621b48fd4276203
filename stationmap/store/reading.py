"""Reading the register's stations: plain rows first, a GeoDataFrame only when one is needed.

A full load wants a GeoDataFrame; a server bringing its register up to date after an edit of one
station wants that station's values, and building a frame of one row costs more (pandas infers
and converts every column) than reading it. :func:`read_rows` gives the plain values,
:func:`rows_frame` the frame a full load gives from them, so both ways agree value for value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import sqlalchemy as sa

from ..stations import COLUMNS, CRS
from .schema import stations

#: The columns of a read, in order: the record's, then the store's own.
NAMES: tuple[str, ...] = (*COLUMNS, "closed_until", "version", "changed_in", "fid", "live")
_INTEGERS = ("version", "changed_in", "fid")


@dataclass(frozen=True)
class Rows:
    """Stations as read, in row (``fid``) order: ``values`` maps each of :data:`NAMES` to a list
    of plain values (``None`` for a missing text; ``live``: whether the station belongs in the
    answers), ``lon`` and ``lat`` its point (NaN where not live).
    """

    values: dict[str, list[Any]]
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return len(self.lon)


def read_rows(c: sa.Connection, backend: str, where: Any, live: Any) -> Rows:
    """The stations ``where`` selects, with the value of ``live`` for each (only those get a point)."""
    columns = [stations.c[name] for name in NAMES[:-1]]
    xy: list[Any]
    if backend == "postgresql":
        xy = [sa.func.ST_X(stations.c.location), sa.func.ST_Y(stations.c.location)]
    else:
        xy = [sa.type_coerce(stations.c.location, sa.LargeBinary)]
    rows = c.execute(sa.select(*columns, live, *xy).where(where).order_by(stations.c.fid)).all()
    n = len(NAMES)
    values: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(NAMES)}
    values["live"] = [bool(v) for v in values["live"]]
    lon, lat = _coordinates(backend, rows, n, np.asarray(values["live"], dtype=bool))
    return Rows(values, lon, lat)


def rows_frame(rows: Rows) -> gpd.GeoDataFrame:
    """The rows as a GeoDataFrame (``fid`` and ``live`` included), as :meth:`Store.load` gives them."""
    frame: dict[str, Any] = dict(rows.values)
    frame["live"] = np.asarray(frame["live"], dtype=bool)
    for name in _INTEGERS:
        frame[name] = np.asarray(frame[name], dtype="int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(rows.lon, rows.lat), crs=CRS)


def _coordinates(backend: str, rows: Sequence[Any], n: int, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of the rows' points (column ``n`` on, NaN where not ``live``)."""
    lon, lat = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    if backend == "postgresql":
        lon[live] = [row[n] for row, ok in zip(rows, live, strict=True) if ok]
        lat[live] = [row[n + 1] for row, ok in zip(rows, live, strict=True) if ok]
    elif live.any():
        import shapely

        points = shapely.from_wkb([bytes(row[n])[8:] for row, ok in zip(rows, live, strict=True) if ok])
        xy_ = shapely.get_coordinates(points)
        lon[live], lat[live] = xy_[:, 0], xy_[:, 1]
    return lon, lat
