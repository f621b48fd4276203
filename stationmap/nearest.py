"""One nearest-station query, exactly: the search behind :meth:`stationmap.index.StationIndex.nearest`.

The rider's hot path. A query is checked (:func:`check_query`, in plain Python for the common
case), then answered from the stations kept for its 1/100° square (:func:`nearest_by_cell`,
:mod:`stationmap.cells`: no tree call at all) or, when they cannot prove the answer, from the
k-d tree (:func:`nearest_by_tree`, where the proof that the answer is complete is given). Both
run in plain floats over the index's lists: NumPy indexing costs more than a single query's
own work. The answer is a :class:`Neighbours`.

Batches are :mod:`stationmap.batch`; the index itself (what these read) is
:mod:`stationmap.index`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from . import cells, coords, geodesy
from .coords import check_lon_lat
from .errors import InputError
from .filters import Filters

if TYPE_CHECKING:
    from .index import StationIndex

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
#: How a query measures a station: ``(lon, lat, ecef) -> geodesic metres`` (:class:`stationmap.geodesy.NearPoint`).
Measure = Callable[[float, float, tuple[float, float, float]], float]


def _pykdtree_on_one_thread() -> type:
    """Pykdtree's ``KDTree``, its OpenMP limited to one thread.

    pykdtree runs every query in an OpenMP parallel region. For one point that buys nothing,
    and on a busy machine (gunicorn workers on every core) the region waits for a second
    thread the scheduler has not run: measured p99 24 ms instead of 0.2 ms. Its wheels carry
    a private libgomp that reads ``OMP_NUM_THREADS`` when it is loaded, so the setting is
    made for the import only and then put back (other libraries never see it).
    """
    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from pykdtree.kdtree import KDTree
    finally:
        if saved is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = saved
    return KDTree


#: The tree single queries ask (:func:`nearest_by_tree`); batches and balls stay on SciPy's ``cKDTree``.
KDTree = _pykdtree_on_one_thread()


class Neighbours:
    """Stations found for one query: row positions in the GeoDataFrame and geodesic metres,
    nearest first.

    The single query finds them as plain Python numbers; :attr:`positions` and
    :attr:`distance_m` are read-only NumPy arrays made on first use (two arrays cost a single
    query more than its own re-rank), and :meth:`pairs` gives the numbers as they are, for
    callers that want plain values anyway (a web answer).
    """

    __slots__ = ("_distance_array", "_distances", "_position_array", "_positions")

    def __init__(self, positions: Sequence[int] | IntArray, distance_m: Sequence[float] | FloatArray):
        self._positions: list[int] = positions.tolist() if isinstance(positions, np.ndarray) else list(positions)
        self._distances: list[float] = (distance_m.tolist() if isinstance(distance_m, np.ndarray)
                                        else list(distance_m))
        self._position_array: IntArray | None = None
        self._distance_array: FloatArray | None = None

    @property
    def positions(self) -> IntArray:
        """Row positions, nearest first (int64, read-only)."""
        if self._position_array is None:
            self._position_array = read_only(np.array(self._positions, dtype=np.int64))
        return self._position_array

    @property
    def distance_m(self) -> FloatArray:
        """Geodesic metres, nearest first (float64, read-only)."""
        if self._distance_array is None:
            self._distance_array = read_only(np.array(self._distances, dtype=np.float64))
        return self._distance_array

    def pairs(self) -> list[tuple[int, float]]:
        """``(position, metres)`` as plain ``int`` and ``float``, nearest first."""
        return list(zip(self._positions, self._distances, strict=True))

    def __len__(self) -> int:
        return len(self._positions)

    def __repr__(self) -> str:
        return f"Neighbours(positions={self.positions!r}, distance_m={self.distance_m!r})"


def read_only(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only (what an index hands out is never changed: safe to share)."""
    array.setflags(write=False)
    return array


def nearest_by_tree(index: StationIndex, point: tuple[float, float, float], measure: Measure, k: int,
                    radius_m: float | None, filters: Filters) -> Neighbours:
    """The ``k`` nearest admitted stations to ``point`` (ECEF metres), within ``radius_m`` if
    given, by asking the tree for candidates, more each round until proven.

    The k-d tree yields candidates by chord, nearest first; each admitted one is measured by
    geodesic. The first ``k`` are final as soon as the k-th geodesic so far is no longer
    than the chord of the next candidate: every later station, seen or not, has a longer
    chord, hence a longer geodesic. If the tree's candidates run out first, the count grows
    and the search repeats. Ties go to the earlier row.

    pykdtree gives the candidates (its call costs a quarter of SciPy's from Python). An index
    of no stations has no tree (pykdtree refuses one of no points): nothing is found.
    """
    tree = index._point_tree
    if tree is None:
        return Neighbours([], [])
    n = len(index._lon_list)
    query = np.array((point,))
    slack = geodesy.CHORD_SLACK_M
    # The radius is applied here, not by the tree: pykdtree's distance_upper_bound costs
    # more per call (3-5 µs) than skipping the few candidates beyond it.
    bound = math.inf if radius_m is None else radius_m + slack
    within = math.inf if radius_m is None else radius_m + geodesy.GEODESIC_SLACK_M
    plain = filters.status_only
    active = None if filters.include_closed else index._masks.active_list
    m = min(n, first_fetch(k, filters))
    lon_list, lat_list, xyz_list = index._lon_list, index._lat_list, index._xyz_list
    while True:
        chords, idx = tree.query(query, k=m)
        chords, idx = chords.ravel().tolist(), idx.ravel().tolist()
        admitted = None if plain else index.admitted(np.array(idx, dtype=np.int64), filters).tolist()
        ranked: list[tuple[float, int]] = []
        complete = m >= n
        for j in range(m):
            chord = chords[j]
            if chord > bound:               # this and every later candidate is out of reach
                complete = True
                break
            if len(ranked) >= k:
                ranked.sort()
                if ranked[k - 1][0] <= chord - slack:
                    complete = True
                    break
            p = idx[j]
            if admitted is not None:
                if not admitted[j]:
                    continue
            elif active is not None and not active[p]:
                continue
            distance = measure(lon_list[p], lat_list[p], xyz_list[p])
            if distance <= within:
                ranked.append((distance, p))
        ranked.sort()
        del ranked[k:]
        if complete or (len(ranked) == k and ranked[-1][0] <= chords[-1] - slack):
            return Neighbours([p for _, p in ranked], [d for d, _ in ranked])
        m = min(n, m * 4)


def nearest_by_cell(index: StationIndex, lon: float, lat: float, point: tuple[float, float, float],
                    measure: Measure, k: int, radius_m: float | None, filters: Filters) -> Neighbours | None:
    """What :func:`nearest_by_tree` would answer, from the stations kept for the point's 1/100°
    square, or ``None`` when they cannot prove the answer (then the tree decides): see
    :mod:`stationmap.cells`.
    """
    cell = index._cells.get(lon, lat, len(index._lon_list))
    if cell is None:
        return None
    active = None if filters.include_closed else index._masks.active_list
    found = cells.nearest_from_cell(cell, point, measure, k, radius_m, active, index._lon_list, index._lat_list,
                                    index._xyz_list)
    if found is None:
        index._cells.widen(lon, lat, cell)
        return None
    return Neighbours(*found)


def first_fetch(k: int, filters: Filters) -> int:
    """Candidates to ask the tree for first: one spare, or more when filters will drop some."""
    return k + 1 if filters.status_only else 4 * k + 8


def check_k_radius(k: int, radius_m: float | None) -> tuple[int, float | None]:
    """``k`` and ``radius_m`` as numbers a search can use, or :class:`InputError` naming the field."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"{k!r} must be a whole number ≥ 1", field="k")
    if radius_m is not None:
        if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float, np.floating, np.integer)) \
                or not np.isfinite(radius_m) or radius_m <= 0:
            raise InputError(f"{radius_m!r} must be a positive number of metres", field="radius_m")
        radius_m = float(radius_m)
    return int(k), radius_m


def check_query(lon: float, lat: float, k: int, radius_m: float | None, coordsys: str
                ) -> tuple[float, float, int, float | None]:
    """One query's point (converted to WGS-84), ``k`` and ``radius_m``, checked."""
    if (type(lon) is float and type(lat) is float and type(k) is int and coordsys == "wgs84"
            and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 and k >= 1     # NaN fails these
            and (radius_m is None or (type(radius_m) in (float, int) and 0.0 < radius_m < math.inf))):
        # The common case, checked in plain Python: 0.3 µs, not 3.
        return lon, lat, k, None if radius_m is None else float(radius_m)
    lon, lat = check_lon_lat(lon, lat)
    k, radius_m = check_k_radius(k, radius_m)
    if coordsys != "wgs84":
        x, y = coords.points_to_wgs84(np.array([lon]), np.array([lat]), coordsys)
        lon, lat = float(x[0]), float(y[0])
    return lon, lat, k, radius_m
