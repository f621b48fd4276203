"""Stations along a route, in the order a traveller meets them.

A delivery rider or a truck driver asks for rest stations *along the way*, not around one
point. The route is read as GeoJSON reads it (straight lines in lon/lat between vertices), cut
into short pieces, and every station near a piece is measured by geodesic metres to the
closest point of the closest piece. Candidates come from the index's k-d tree, so the search
is exact by the same argument as a single nearest query (:func:`stationmap.nearest.nearest_by_tree`).

Examples
--------
>>> import shapely
>>> from stationmap.stations import read_stations
>>> from stationmap.index import StationIndex
>>> index = StationIndex(read_stations())
>>> found = along_route(index, shapely.LineString([(121.40, 31.20), (121.50, 31.25)]), 500)
>>> bool((found.along_m[:-1] <= found.along_m[1:]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import NDArray

from . import along, coords, geodesy
from .coords import check_lon_lat
from .errors import InputError
from .filters import Filters

if TYPE_CHECKING:
    from .index import StationIndex

#: Largest piece an along-route query cuts a route into, in degrees (about 550 m). The
#: chord of such a piece sags 6 mm below the ground: far below the metre that matters.
ROUTE_STEP_DEG = 0.005


@dataclass(frozen=True)
class RouteMatches:
    """Stations near a route, in the order a traveller meets them."""

    positions: NDArray[np.int64]
    distance_m: NDArray[np.float64]     # from the route
    along_m: NDArray[np.float64]        # from the route's start to the closest point
    route_length_m: float

    def __len__(self) -> int:
        return len(self.positions)


def along_route(index: StationIndex, route: shapely.LineString, distance_m: float, *,
                filters: Filters = Filters(), coordsys: str = "wgs84") -> RouteMatches:
    """Stations of ``index`` within ``distance_m`` of a route, ordered by where the route passes them.

    The route is cut into pieces of at most about 550 m, and each station is measured to the
    closest point of the closest piece by geodesic metres; the work is bounded as
    :mod:`stationmap.along` explains (a route beyond :data:`stationmap.along.MAX_PIECES` pieces
    is refused).
    """
    if not isinstance(route, shapely.LineString) or route.is_empty or len(route.coords) < 2:
        raise InputError("must be a LineString with at least two positions", field="route")
    if not (isinstance(distance_m, (int, float)) and np.isfinite(distance_m) and 0 < distance_m <= 50_000):
        raise InputError(f"{distance_m!r} must be a number of metres in (0, 50000]", field="distance_m")
    xy = np.asarray(route.coords, dtype=float)[:, :2]
    for x, y in xy:
        check_lon_lat(x, y)
    x, y = coords.points_to_wgs84(xy[:, 0], xy[:, 1], coordsys)
    if np.ceil(np.hypot(np.diff(x), np.diff(y)) / ROUTE_STEP_DEG).sum() > along.MAX_PIECES:
        raise InputError(f"the route is too long for one query (more than {along.MAX_PIECES:,} pieces of "
                         "about 550 m); split it", field="route")
    dense = np.asarray(shapely.segmentize(shapely.LineString(np.column_stack([x, y])), ROUTE_STEP_DEG).coords)
    vlon, vlat = dense[:, 0], dense[:, 1]
    # Bounded by the route and the stations near it, not their product (stationmap/along.py).
    station, dist, at, length = along.best_pieces(vlon, vlat, geodesy.ecef(vlon, vlat), index.lon, index.lat,
                                                  index.xyz, distance_m)
    keep = index.admitted(station, filters)
    station, dist, at = station[keep], dist[keep], at[keep]
    order = np.lexsort((dist, at))
    return RouteMatches(station[order], dist[order], at[order], length)
