"""Stations along a route, in the order a traveller meets them.

A delivery rider or a truck driver asks for rest stations *along the way*, not around one
point. The route is read as GeoJSON reads it (straight lines in lon/lat between vertices), cut
into short pieces, and every station near a piece is measured by geodesic metres to the
closest point of the closest piece. Candidates come from the index's k-d tree, so the search
is exact by the same argument as :meth:`stationmap.index.StationIndex.nearest`.

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

from . import coords, geodesy
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
    closest point of the closest piece by geodesic metres.
    """
    if not isinstance(route, shapely.LineString) or route.is_empty or len(route.coords) < 2:
        raise InputError("must be a LineString with at least two positions", field="route")
    if not (isinstance(distance_m, (int, float)) and np.isfinite(distance_m) and 0 < distance_m <= 50_000):
        raise InputError(f"{distance_m!r} must be a number of metres in (0, 50000]", field="distance_m")
    xy = np.asarray(route.coords, dtype=float)[:, :2]
    for x, y in xy:
        check_lon_lat(x, y)
    x, y = coords.points_to_wgs84(xy[:, 0], xy[:, 1], coordsys)
    dense = np.asarray(shapely.segmentize(shapely.LineString(np.column_stack([x, y])), ROUTE_STEP_DEG).coords)
    vlon, vlat = dense[:, 0], dense[:, 1]
    vxyz = geodesy.ecef(vlon, vlat)
    piece_m = geodesy.geodesic_m(vlon[:-1], vlat[:-1], vlon[1:], vlat[1:])
    start_m = np.concatenate([[0.0], np.cumsum(piece_m)])
    piece_chord = np.linalg.norm(vxyz[1:] - vxyz[:-1], axis=1)
    # A station within D of a piece is within D + half the piece of one of its ends.
    reach = distance_m + piece_chord.max(initial=0.0) / 2 + geodesy.CHORD_SLACK_M
    pairs_v, pairs_s = index.near_points(vxyz, reach)
    if len(pairs_s) == 0:
        return RouteMatches(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), float(start_m[-1]))
    # Each (vertex, station) pair tests the pieces on both sides of the vertex.
    piece = np.concatenate([pairs_v - 1, pairs_v])
    station = np.concatenate([pairs_s, pairs_s])
    valid = (piece >= 0) & (piece < len(piece_m))
    piece, station = piece[valid], station[valid]
    a, b, p = vxyz[piece], vxyz[piece + 1], index.xyz[station]
    ab = b - a
    t = np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    t = np.clip(t, 0.0, 1.0)
    foot_lon = vlon[piece] + t * (vlon[piece + 1] - vlon[piece])
    foot_lat = vlat[piece] + t * (vlat[piece + 1] - vlat[piece])
    dist = geodesy.geodesic_from_chord(foot_lon, foot_lat, geodesy.ecef(foot_lon, foot_lat),
                                       index.lon[station], index.lat[station], p)
    along = start_m[piece] + t * piece_m[piece]
    # Keep, per station, the closest piece.
    order = np.lexsort((dist, station))
    station, dist, along = station[order], dist[order], along[order]
    first = np.ones(len(station), dtype=bool)
    first[1:] = station[1:] != station[:-1]
    station, dist, along = station[first], dist[first], along[first]
    keep = (dist <= distance_m) & index.admitted(station, filters)
    station, dist, along = station[keep], dist[keep], along[keep]
    order = np.lexsort((dist, along))
    return RouteMatches(station[order], dist[order], along[order], float(start_m[-1]))
