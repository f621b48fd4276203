"""Exact nearest-station search over a GeoDataFrame of stations.

Two spatial indexes serve different questions:

* **Nearest / within a radius** uses a k-d tree (SciPy's ``cKDTree``) over the stations' ECEF
  coordinates. Chord length is a lower bound of geodesic length, so the tree's candidates can
  be re-ranked by true geodesic metres and the answer *proved* complete (see
  :func:`stationmap.nearest.nearest_by_tree`). A lon/lat R-tree cannot do this: a degree of longitude is
  111 km at the equator and 68 km at Harbin, and planar nearest in degrees is simply wrong.
  (That is also why stationmap does not use ``rtree``: the GeoDataFrame's own shapely STRtree
  already answers the planar box queries, and ``rtree`` would add a C library for nothing.)
* **A single nearest query** first tries the stations kept for its 1/100° square (made at
  build for the squares near stations, on demand elsewhere: :mod:`stationmap.cells`): the
  triangle inequality on chords proves most answers from them with no tree call, and the
  tree answers the rest. The single query's search is :mod:`stationmap.nearest`.
* **Bounding boxes** use the GeoDataFrame's own spatial index (``stations.sindex``, a shapely
  STRtree), where planar lon/lat is exactly the question asked.

The index works in WGS-84; queries in GCJ-02 or BD-09 are converted on the way in. Which
stations a query may return is :mod:`stationmap.filters`; stations along a route are
:mod:`stationmap.routes`. ``Filters`` is re-exported here for library users.

An index is built whole by its constructor and never changed afterwards, so a server can build
a new one off the request path and swap it in for the old; what is derived from an index is
kept on it (:meth:`StationIndex.column`, :meth:`StationIndex.memo`), never in a module-level
cache that would keep a dropped index alive.

Examples
--------
>>> from stationmap.stations import read_stations
>>> index = StationIndex(read_stations())
>>> found = index.nearest(121.4998, 31.2397, k=3, radius_m=2000)
>>> bool((found.distance_m[:-1] <= found.distance_m[1:]).all())
True
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from . import cells, column_lists, coords, geodesy
from .batch import nearest_rows, spatial_order
from .errors import InputError
from .filters import FilterMasks, Filters
from .nearest import KDTree, Neighbours, check_k_radius, check_query, nearest_by_cell, nearest_by_tree, read_only
from .routes import RouteMatches, along_route

if TYPE_CHECKING:
    from .row_patch import Patch

__all__ = ["Filters", "Neighbours", "RouteMatches", "StationIndex"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
T = TypeVar("T")

_SERIALS = itertools.count(1)



class StationIndex:
    """Stations plus the indexes and columns that queries need as plain arrays.

    An index is built whole from a GeoDataFrame (seconds for a national register, so off the
    request path) and never changes afterwards: a new register means a new index, swapped in
    whole for the old one. What is derived from it and worth keeping (records, arrays of a
    column) is kept *on* the index (:meth:`column`, :meth:`memo`), never in a module-level
    cache keyed by it, so dropping an index frees everything that came from it.

    An index may hold no stations (a union starting its register, or one whose last station
    was deleted): every query is then answered with none (an empty :class:`Neighbours`, ``-1``
    and ``nan`` from a batch, no positions in a box or along a route), so no caller needs a case
    of its own for it.
    """

    def __init__(self, stations: gpd.GeoDataFrame, previous: StationIndex | None = None, *,
                 replaced: Patch | None = None):
        """Index ``stations``; given the ``previous`` index of the same register, take over its
        memo values (:meth:`inherit`) and, when the stations are the same ones at the same
        points (an edit of a phone or hours), its k-d trees and coordinate lists as well.

        ``replaced``: when ``stations`` is ``previous``'s frame with some rows replaced (the same
        stations in the same order: :func:`stationmap.row_patch.patched`), what the columns it
        kept alone decide is taken over without comparing them, and the column lists are
        patched in those rows only.
        """
        if previous is None:
            replaced = None
        if replaced is None:
            stations = stations.reset_index(drop=True)
        kept = frozenset() if replaced is None else replaced.kept
        self.stations = stations
        #: The frame's column labels, read once: reading them per answer cost 35 µs (Arrow strings).
        self._labels = tuple(map(str, stations.columns.tolist()))
        if previous is not None and {"id", stations.geometry.name} <= kept:
            self._share_places(previous)
        else:
            lon = np.ascontiguousarray(stations.geometry.x.to_numpy(dtype=float))
            lat = np.ascontiguousarray(stations.geometry.y.to_numpy(dtype=float))
            ids = stations["id"].to_numpy(dtype=object)
            if previous is not None and _same_places(previous, ids, lon, lat):
                self._share_places(previous)
            else:
                self._index_places(ids, lon, lat, previous)
        self._masks: FilterMasks = previous._masks if previous is not None and kept >= FilterMasks.COLUMNS \
            else FilterMasks(stations)
        #: Unique in this process: caches of answers outside the index key on it, never on the
        #: index itself, so they cannot keep a swapped-out index alive nor serve its answers.
        self.serial = next(_SERIALS)
        self._memo: dict[str, Any] = {}
        #: Re-entrant: a value may be built from another memo value (the column lists from
        #: :attr:`arrays`).
        self._memo_lock = threading.RLock()
        #: Memo key -> the columns its value was derived from (see :meth:`inherit`).
        self._depends: dict[str, tuple[str, ...]] = {}
        #: Memo key -> the value of an earlier index, for :meth:`memo`'s ``update``.
        self._stale: dict[str, Any] = {}
        #: ``previous``'s column lists, the rows replaced since and the columns kept: what
        #: :attr:`columns` is patched from (see ``replaced``); dropped once used.
        self._replaced: tuple[dict[str, list] | None, IntArray, frozenset[str]] | None = None
        if replaced is not None:
            self._memo["arrays"] = replaced.arrays
        if previous is not None:
            if replaced is not None:
                self._replaced = (previous._memo.get("columns"), replaced.rows, kept)
            self.inherit(previous, kept=kept)

    def _index_places(self, ids: np.ndarray, lon: FloatArray, lat: FloatArray,
                      previous: StationIndex | None = None) -> None:
        self.lon: FloatArray = read_only(lon)
        self.lat: FloatArray = read_only(lat)
        #: Earth-centred coordinates in metres: what the k-d tree measures chords in.
        self.xyz: FloatArray = read_only(geodesy.ecef(self.lon, self.lat))
        # Plain-float copies for the single-query path, which cannot afford NumPy indexing.
        self._lon_list, self._lat_list = self.lon.tolist(), self.lat.tolist()
        self._xyz_list = [tuple(p) for p in self.xyz.tolist()]
        self._tree = cKDTree(self.xyz, balanced_tree=False, compact_nodes=False)
        # Single queries: see nearest. pykdtree refuses a tree of no points, and a register of
        # none is legitimate (a union starting its register, or the last station deleted): then
        # there is no tree, and every query is answered with no stations before one is asked.
        self._point_tree = KDTree(self.xyz) if len(self.xyz) else None
        self.ids = read_only(ids)
        self._position_of = {station_id: i for i, station_id in enumerate(self.ids)}
        #: Single queries' squares (see stationmap.cells): made at build for the squares near
        #: stations (after an edit: the previous index's, patched where the edit reaches), on
        #: demand elsewhere. They depend on the places alone, so an index with the same places
        #: shares them too.
        old = None if previous is None else previous._cells.table
        if not len(self.lon):
            table = None
        elif old is not None and previous is not None:
            table = old.patched(previous.lon, previous.lat, previous.ids, self.lon, self.lat, self.ids, self._tree)
        else:
            table = cells.Table.build(self.lon, self.lat, self._tree)
        self._cells: cells.KeptCells = cells.KeptCells(table, self._point_tree)

    def _share_places(self, previous: StationIndex) -> None:
        """Take the previous index's place structures (read-only, never changed: safe to share)."""
        self.lon, self.lat, self.xyz, self.ids = previous.lon, previous.lat, previous.xyz, previous.ids
        self._lon_list, self._lat_list, self._xyz_list = previous._lon_list, previous._lat_list, previous._xyz_list
        self._tree, self._point_tree, self._position_of = previous._tree, previous._point_tree, previous._position_of
        self._cells = previous._cells

    def __len__(self) -> int:
        return len(self.lon)

    def __repr__(self) -> str:
        return f"<StationIndex of {len(self)} stations>"

    def memo(self, key: str, build: Callable[[], T], *, depends: tuple[str, ...] | None = None,
             update: Callable[[T], T] | None = None) -> T:
        """What ``build()`` returns, computed once per index and kept with it.

        For anything derived from the stations that is worth keeping (a column as an array, a
        cache of records): it lives as long as the index and no longer, so a swapped-out index
        takes it along. ``build`` must not hold a reference to the index itself.

        ``depends`` names the columns the value is derived from, besides the stations' order,
        ids and positions: an index built after an edit that left those alone takes the value
        over instead of building it again (:meth:`inherit`). When they changed, ``update``
        (if given) makes the value from the previous index's instead of ``build``: cheaper when
        only a few stations changed (the search patches their entries).
        """
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._memo_lock:
            if key not in self._memo:
                older = self._stale.pop(key, None)
                self._memo[key] = build() if older is None or update is None else update(older)
                if depends is not None:
                    self._depends[key] = depends
            return self._memo[key]

    def inherit(self, previous: StationIndex, *, kept: frozenset[str] = frozenset()) -> list[str]:
        """Take over from ``previous`` every memo value declared with ``depends`` whose inputs
        are the same here: the same stations in the same order at the same points, and equal
        ``depends`` columns (``kept``: columns known to be ``previous``'s own, not compared).
        Returns the keys taken over.

        After an edit of a phone number or opening hours, the search over names and addresses
        (seconds to build at 186,100 stations) stays exactly right, so it is not rebuilt. The
        other such values are kept aside, for a :meth:`memo` with ``update`` to start from (one
        per key: the newest; dropped once used).
        """
        with previous._memo_lock:
            candidates = [(k, d, previous._memo[k]) for k, d in previous._depends.items() if k in previous._memo]
            stale = dict(previous._stale)
        same_places = _same_places(previous, self.ids, self.lon, self.lat)
        same: dict[str, bool] = {}

        def unchanged(column: str) -> bool:
            if column in kept:
                return True
            if column not in same:
                same[column] = column in self.stations.columns and column in previous.stations.columns and \
                    self.stations[column].equals(previous.stations[column])
            return same[column]

        taken = []
        for key, depends, value in candidates:
            if same_places and all(unchanged(c) for c in depends):
                with self._memo_lock:
                    self._memo.setdefault(key, value)
                    self._depends[key] = depends
                taken.append(key)
            else:
                stale[key] = value
        with self._memo_lock:
            for key, value in stale.items():
                if key not in self._memo:
                    self._stale.setdefault(key, value)
        return taken

    @property
    def columns(self) -> dict[str, list]:
        """Every column as a plain list, plus GCJ-02 and BD-09 coordinates (``gcj02_lon`` …):
        building a result from lists costs microseconds where a pandas row costs a hundred.
        """
        return self.memo("columns", self._column_lists, depends=self._labels, update=self._patched_columns)

    def _column_lists(self, rows: IntArray | None = None) -> dict[str, list]:
        """The lists of :attr:`columns` (of ``rows`` only, if given: from :attr:`arrays`, each
        column looked up once per index, not once per patch).
        """
        if rows is None:
            geometry = self.stations.geometry.name
            table = {c: self.stations[c].tolist() for c in self.stations.columns if c != geometry}
            lon, lat = self.lon, self.lat
        else:
            table = {c: (a[rows] if isinstance(a, np.ndarray) else a.take(rows)).tolist()
                     for c, a in self.arrays.items()}
            lon, lat = self.lon[rows], self.lat[rows]
        for system in ("gcj02", "bd09"):
            x, y = coords.from_wgs84(lon, lat, system)
            table[f"{system}_lon"], table[f"{system}_lat"] = x.tolist(), y.tolist()
        return table

    def _patched_columns(self, old: dict[str, list]) -> dict[str, list]:
        """:attr:`columns` made from an earlier index's (:mod:`stationmap.column_lists`): in
        place when this index's frame is its predecessor's with rows replaced, else by station
        id and version.
        """
        replaced, self._replaced = self._replaced, None
        if replaced is not None and replaced[0] is old:
            table = column_lists.in_place(self, old, replaced[1], replaced[2])
            if table is not None:
                return table
        return column_lists.by_version(self, old)

    @property
    def arrays(self) -> dict[str, Any]:
        """Each column but the geometry as the frame holds it (an extension array, or NumPy),
        by name: a frame's column lookup costs 15 µs, so a patch looks each up once per index.
        """
        frame = self.stations
        geometry = frame.geometry.name
        return self.memo("arrays", lambda: {c: _values(frame[c]) for c in frame.columns if c != geometry})

    def column(self, name: str) -> np.ndarray:
        """One column of :attr:`columns` as a read-only NumPy array (``object`` for text, float
        for the ``gcj02_``/``bd09_`` coordinates), made once per index: for masks such as
        ``index.column("type")[positions] == "driver_home"``.

        Raises ``KeyError`` for a column the stations do not have.
        """
        values = self.columns[name]
        numeric = name.startswith(("gcj02_", "bd09_"))
        return self.memo(f"column:{name}",
                         lambda: read_only(np.array(values, dtype=float if numeric else object)))

    # -- filters -------------------------------------------------------------------------

    def admitted(self, positions: IntArray, filters: Filters) -> NDArray[np.bool_]:
        """Which of ``positions`` pass ``filters`` (see :class:`stationmap.filters.FilterMasks`)."""
        return self._masks.admitted(positions, filters)

    def position(self, station_id: str) -> int | None:
        """Row position of a station id, or ``None``."""
        return self._position_of.get(station_id)

    # -- nearest ---------------------------------------------------------------------------

    def nearest(self, lon: float, lat: float, *, k: int = 5, radius_m: float | None = None,
                filters: Filters = Filters(), coordsys: str = "wgs84") -> Neighbours:
        """The ``k`` nearest admitted stations to one point, within ``radius_m`` if given.

        Exact: the k-d tree's candidates, nearest chord first, are measured by geodesic until
        no later one can be nearer (the proof is at :func:`stationmap.nearest.nearest_by_tree`).
        Ties go to the earlier row.

        This is the rider's hot path, so it runs in plain floats. It starts from the stations
        kept for the point's 1/100° square (:mod:`stationmap.cells`: no tree call at all),
        which prove nearly every query near stations; otherwise pykdtree gives the candidates
        (its call costs a quarter of SciPy's from Python); batches and balls stay on SciPy's
        ``cKDTree``. The search itself is :mod:`stationmap.nearest`.
        """
        lon, lat, k, radius_m = check_query(lon, lat, k, radius_m, coordsys)
        if not self._lon_list:
            return Neighbours([], [])
        point = geodesy.ecef_point(lon, lat)
        measure = geodesy.NearPoint(lon, lat, point).distance
        if filters.status_only and k <= cells.CELL_K:
            found = nearest_by_cell(self, lon, lat, point, measure, k, radius_m, filters)
            if found is not None:
                return found
        return nearest_by_tree(self, point, measure, k, radius_m, filters)

    def nearest_batch(self, lon: ArrayLike, lat: ArrayLike, *, k: int = 5,
                      radius_m: float | None = None, filters: Filters = Filters(),
                      coordsys: str | ArrayLike = "wgs84", chunk: int = 250_000
                      ) -> tuple[IntArray, FloatArray]:
        """Nearest stations for many points at once.

        Returns ``(positions, distance_m)``, both shaped ``(len(points), k)``, nearest first;
        missing neighbours are ``-1`` and ``nan``. ``coordsys`` may be one system for all
        points or one per point.
        """
        lon = np.asarray(lon, dtype=float).ravel()
        lat = np.asarray(lat, dtype=float).ravel()
        if lon.shape != lat.shape:
            raise InputError(f"{len(lon)} longitudes but {len(lat)} latitudes", field="lat")
        for name, values, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            bad = ~(np.abs(values) <= limit)              # also catches NaN
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise InputError(f"{int(bad.sum())} values are not finite numbers within ±{limit:g} "
                                 f"(first at index {first}: {values[first]})", field=name)
        k, radius_m = check_k_radius(k, radius_m)
        lon, lat = coords.points_to_wgs84(lon, lat, coordsys)
        order = spatial_order(lon, lat)
        lon, lat = lon[order], lat[order]
        positions = np.full((len(lon), k), -1, dtype=np.int64)
        distances = np.full((len(lon), k), np.nan)
        for start in range(0, len(lon), chunk):
            stop = start + chunk
            nearest_rows(self, lon[start:stop], lat[start:stop], radius_m, filters, order[start:stop], positions,
                         distances)
        return positions, distances

    # -- boxes and routes (the route search itself is in routes.py) ---------------------

    def within_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float, *,
                    filters: Filters = Filters()) -> IntArray:
        """Positions of admitted stations inside a WGS-84 box, in file order."""
        hits = self.stations.sindex.query(shapely.box(min_lon, min_lat, max_lon, max_lat),
                                          predicate="intersects")
        hits = np.sort(np.asarray(hits, dtype=np.int64))
        return hits[self.admitted(hits, filters)]

    def along_route(self, route: shapely.LineString, distance_m: float, *,
                    filters: Filters = Filters(), coordsys: str = "wgs84") -> RouteMatches:
        """Stations within ``distance_m`` of a route: see :func:`stationmap.routes.along_route`."""
        return along_route(self, route, distance_m, filters=filters, coordsys=coordsys)

    def near_points(self, xyz: FloatArray, reach_m: float) -> tuple[IntArray, IntArray]:
        """Every (point, station) pair whose chord is at most ``reach_m``, for ECEF points
        ``xyz``: the candidates of a search that re-ranks them by geodesic (as routes do).
        """
        near = self._tree.query_ball_point(xyz, r=reach_m, workers=-1)
        point = np.repeat(np.arange(len(near)), [len(h) for h in near])
        station = np.fromiter((s for hits in near for s in hits), dtype=np.int64, count=len(point))
        return point, station


def _values(column: Any) -> Any:
    """A column's values as its frame holds them: NumPy for a NumPy dtype, else its extension array."""
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def _same_places(index: StationIndex, ids: np.ndarray, lon: FloatArray, lat: FloatArray) -> bool:
    return len(index) == len(ids) and np.array_equal(index.ids, ids) and np.array_equal(index.lon, lon) \
        and np.array_equal(index.lat, lat)


