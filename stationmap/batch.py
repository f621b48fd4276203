"""Nearest stations for many points at once: the work behind
:meth:`stationmap.index.StationIndex.nearest_batch` (which checks and converts the points).

Points are taken in an order that keeps neighbours together (:func:`spatial_order`). SciPy's
``cKDTree`` gives each point its candidates by chord, nearest first; one compiled pass
(:func:`_rank_rows`, compiled by numba) then measures them by geodesic, ranks them and proves each point's
answer, exactly as a single query does: the k-th geodesic so far is no longer than the next
candidate's chord, or the tree had nothing more within reach. Points not proved ask the tree for
four times the candidates, and so on.

Why compiled: in NumPy the same work (the gathers of every candidate's coordinates, the masks,
the vectorised geodesic, a sort of the (point, station) pairs) cost more than the tree call
itself, 50 ms of a 100,000-point batch's 120 ms at 186,100 stations; in one pass over each
point's few candidates it is a few milliseconds (docs/benchmarks.md, issue 15 part 4). The
geodesic formulas are :mod:`stationmap.geodesy`'s own functions, compiled here.

Answering from the kept squares of :mod:`stationmap.cells` instead, vectorised, was measured
and bought nothing (issue 15 part 3).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
from numba import types
from numpy.typing import NDArray

from . import geodesy
from .filters import Filters
from .nearest import first_fetch

if TYPE_CHECKING:
    from .index import StationIndex

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def nearest_rows(index: StationIndex, lon: FloatArray, lat: FloatArray, radius_m: float | None, filters: Filters,
                 dest: IntArray, out_pos: IntArray, out_dist: FloatArray) -> None:
    """The nearest stations of points already checked, converted to WGS-84 and in spatial order,
    written to rows ``dest`` of ``out_pos``/``out_dist`` (k columns, filled with -1 and NaN):
    the caller's order, so the answers need no second pass to be put back.
    """
    n = len(index)
    q = len(lon)
    k = out_pos.shape[1]
    if n == 0 or q == 0:
        return
    lon, lat = np.ascontiguousarray(lon), np.ascontiguousarray(lat)
    xyz = geodesy.ecef(lon, lat)
    bound = math.inf if radius_m is None else radius_m + geodesy.CHORD_SLACK_M
    within = math.inf if radius_m is None else radius_m + geodesy.GEODESIC_SLACK_M
    status = filters.status_only
    admit = _NO_MASK if status and filters.include_closed else index._masks.active
    m = min(n, first_fetch(k, filters))
    rows = np.arange(q)
    while len(rows):
        # One thread: two saved a sixth of the tree call's wall time on this project's 2-core
        # machine but cost more CPU, taken from the requests beside it (docs/benchmarks.md, issue
        # 15 part 4); the spatial order of the points is what pays.
        chords, idx = index._tree.query(xyz if len(rows) == q else xyz[rows], k=m, distance_upper_bound=bound)
        chords = chords.reshape(len(rows), m)
        idx = idx.reshape(len(rows), m)
        if not status:
            admit = _admitted_candidates(index, idx, filters)
        far = _karney_beyond_short_lines(index, lon, lat, rows, chords, idx, admit) \
            if bound > geodesy.SHORT_LINE_M else _NO_FAR
        done = np.empty(len(rows), dtype=np.bool_)
        _rank(chords, idx, rows, lon, lat, xyz, far, index.lon, index.lat, index.xyz, admit, m >= n, bound,
              within, dest, out_pos, out_dist, done)
        rows = rows[~done]
        m = min(n, m * 4)


#: The compiled functions, made by :func:`_build` when this module is imported.
_point_frame: Any = None
_near_arc: Any = None
_midpoint_arc: Any = None
_metres: Any = None
_keep: Any = None
_rank_plain: Any = None

_NO_MASK = np.zeros(0, dtype=np.bool_)
_NO_FAR = np.zeros((0, 0))


def _admitted_candidates(index: StationIndex, idx: IntArray, filters: Filters) -> NDArray[np.bool_]:
    """Which stations pass ``filters``, evaluated only on the candidates (the rest read False)."""
    n = len(index)
    seen = np.zeros(n + 1, dtype=np.bool_)          # the tree pads with n
    seen[idx.ravel()] = True
    touched = np.flatnonzero(seen[:n])
    admit = np.zeros(n, dtype=np.bool_)
    admit[touched] = index.admitted(touched, filters)
    return admit


def _karney_beyond_short_lines(index: StationIndex, lon: FloatArray, lat: FloatArray, rows: IntArray,
                               chords: FloatArray, idx: IntArray, admit: NDArray[np.bool_]) -> FloatArray:
    """Karney's geodesic for the admitted candidates (``admit`` over the stations, empty for all)
    farther than :data:`geodesy.SHORT_LINE_M` by chord (pyproj cannot be called from the
    compiled kernel; only a search with no radius or one of over 100 km meets them), NaN
    elsewhere. Stations the filters drop are never measured: with a selective filter they are
    most of a far point's candidates.
    """
    far = np.full(chords.shape, np.nan)
    long = (chords > geodesy.SHORT_LINE_M) & (idx < len(index))
    if len(admit):
        long[long] = admit[idx[long]]
    if long.any():
        r, c = np.nonzero(long)
        point, station = rows[r], idx[r, c]
        far[r, c] = geodesy.geodesic_m(lon[point], lat[point], index.lon[station], index.lat[station])
    return far


_F1 = types.Array(types.float64, 1, "C", readonly=True)
_F2 = types.Array(types.float64, 2, "C", readonly=True)
_I1 = types.Array(types.int64, 1, "C", readonly=True)
_I2 = types.Array(types.int64, 2, "C", readonly=True)
_B1 = types.Array(types.boolean, 1, "C", readonly=True)
_RANK_SIGNATURE = types.void(_F2, _I2, _I1, _F1, _F1, _F2, _F2, _F1, _F1, _F2, _B1, types.boolean, types.float64,
                             types.float64, _I1, types.int64[:, ::1], types.float64[:, ::1], types.boolean[::1])


def _metres_py(frame, lon1, lat1, lon2, lat2, dx, dy, dz):  # pragma: no cover (compiled: runs outside Python)
    """Geodesic metres from a point (its :func:`geodesy.point_frame`) along a chord of at most
    :data:`geodesy.SHORT_LINE_M`: what :meth:`geodesy.NearPoint.distance` measures, by the same
    functions.
    """
    chord2 = dx * dx + dy * dy + dz * dz
    if chord2 > _NEAR_CHORD2:
        return _midpoint_arc(lon1, lat1, lon2, lat2, dx, dy, dz, math.sqrt(chord2))
    if chord2 == 0.0:
        return 0.0
    return _near_arc(frame, dx, dy, dz, chord2)


def _keep_py(best_d, best_p, count, d, p):  # pragma: no cover (compiled: runs outside Python)
    """Put station ``p`` at ``d`` metres among the ``count`` best so far (ascending by metres,
    then row; at most ``len(best_d)``, the last falling off); returns the new count.
    """
    k = best_d.shape[0]
    at = count
    while at > 0 and (best_d[at - 1] > d or (best_d[at - 1] == d and best_p[at - 1] > p)):
        if at < k:
            best_d[at], best_p[at] = best_d[at - 1], best_p[at - 1]
        at -= 1
    if at < k:
        best_d[at], best_p[at] = d, p
        return min(count + 1, k)
    return count


def _rank_rows(chords, idx, rows, lon, lat, xyz, far, station_lon, station_lat, station_xyz, admit,
               exhausted, bound, within, dest, out_pos, out_dist, done):  # pragma: no cover (compiled)
    """Each of ``rows`` (points, by their place in ``lon``/``lat``/``xyz`` and the outputs) with
    its tree candidates ``chords``/``idx`` (one row each, nearest first, padded with ``inf``/n):
    measure, rank and prove, as :func:`stationmap.nearest.nearest_by_tree` does for one point.

    Candidates are walked by chord; each admitted one (``admit`` over the stations, empty for
    all) is measured by geodesic and kept among the k best by (metres, row), those within
    ``within`` only. The point is done when the k-th geodesic so far is no longer than the next
    candidate's chord less the slack (that one and every later station are at least as far),
    when a candidate is beyond ``bound`` or padding (the tree had nothing more within reach),
    or when ``exhausted`` (every station was a candidate). A done point's answer is written to
    row ``dest[i]`` of ``out_pos``/``out_dist`` (left at -1/NaN past its last station); ``done``
    says which.
    """
    n = station_lon.shape[0]
    m = chords.shape[1]
    k = out_pos.shape[1]
    slack, short = _CHORD_SLACK, _SHORT_LINE       # geodesy's constants, frozen at compile time
    best_d = np.empty(k)
    best_p = np.empty(k, dtype=np.int64)
    for r in range(rows.shape[0]):
        i = rows[r]
        x1, y1, z1 = xyz[i, 0], xyz[i, 1], xyz[i, 2]
        frame = _point_frame(lon[i], lat[i])
        count = 0
        complete = exhausted
        for j in range(m):
            chord = chords[r, j]
            p = idx[r, j]
            if chord > bound or p >= n:
                complete = True
                break
            if count == k and best_d[k - 1] <= chord - slack:
                complete = True
                break
            if admit.shape[0] and not admit[p]:
                continue
            if chord > short:
                d = far[r, j]
            else:
                d = _metres(frame, lon[i], lat[i], station_lon[p], station_lat[p], station_xyz[p, 0] - x1,
                            station_xyz[p, 1] - y1, station_xyz[p, 2] - z1)
            if d <= within:
                count = _keep(best_d, best_p, count, d, p)
        if not complete and count == k and best_d[k - 1] <= chords[r, m - 1] - slack:
            complete = True
        done[r] = complete
        if complete:
            for j in range(count):
                out_pos[dest[i], j] = best_p[j]
                out_dist[dest[i], j] = best_d[j]


#: geodesy's constants, read by the compiled functions (numba freezes them when it compiles).
_NEAR_CHORD2 = geodesy.NEAR_CHORD_M ** 2
_CHORD_SLACK, _SHORT_LINE = geodesy.CHORD_SLACK_M, geodesy.SHORT_LINE_M


def _sources_digest() -> str:
    """SHA-256 of the files compiled into the kernel: this module and :mod:`stationmap.geodesy`."""
    digest = hashlib.sha256()
    for name in (__file__, geodesy.__file__):
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def _keyed(key: str) -> Callable[..., None]:
    """:func:`_rank_rows` (compiled, :data:`_rank_plain`) called from a function with ``key`` in
    its closure. numba keys a cached function by its own bytecode and its closure's contents
    only, not by the functions it calls: a kernel cached before :mod:`stationmap.geodesy`
    changed would go on running the old formulas. With the sources' digest in its closure, a
    change to either file is a new key, so the kernel is compiled again.
    """
    def keyed(chords, idx, rows, lon, lat, xyz, far, station_lon, station_lat, station_xyz, admit,
              exhausted, bound, within, dest, out_pos, out_dist, done):  # pragma: no cover (compiled)
        if len(key) >= 0:                                       # always: it only keys the cache
            _rank_plain(chords, idx, rows, lon, lat, xyz, far, station_lon, station_lat, station_xyz, admit,
                        exhausted, bound, within, dest, out_pos, out_dist, done)
    return keyed


def _build(cache: bool) -> Any:
    """Compile the pass: the formulas and helpers as plain numba functions (never cached on their
    own, so none can outlive a change of its source), the kernel with the given signature, cached
    on disk under the sources' digest when ``cache`` (beside the module, or in the user's cache
    folder when the install is read-only; ``NUMBA_CACHE_DIR`` chooses another).
    """
    global _point_frame, _near_arc, _midpoint_arc, _metres, _keep, _rank_plain
    plain = numba.njit(nogil=True)
    _point_frame, _near_arc, _midpoint_arc = (plain(f) for f in (geodesy.point_frame, geodesy.near_arc,
                                                                   geodesy.midpoint_arc))
    _metres, _keep, _rank_plain = plain(_metres_py), plain(_keep_py), plain(_rank_rows)
    return numba.njit(_RANK_SIGNATURE, cache=cache, nogil=True)(_keyed(_sources_digest()))


# Compiled when this module is imported (the signature is given): compiling takes about 3 s,
# loading from numba's cache a few milliseconds; never on a request. A cache that cannot be used
# at all (no writable folder, a full disk, a damaged file) costs the compile at each start, not
# the import.
try:
    _rank = _build(cache=True)
except Exception:  # noqa: BLE001 -- numba raises RuntimeError (no cache folder) or OSError, maybe wrapped
    _rank = _build(cache=False)


#: Cells of this many degrees order a batch's points (see :func:`spatial_order`).
_ORDER_CELL_DEG = 0.1


def spatial_order(lon: FloatArray, lat: FloatArray) -> IntArray:
    """An order of the points that keeps neighbours together: by 0.1° cell, row by row.

    The k-d tree walks the same nodes and reads the same stations for points close together,
    so a batch in this order stays in the processor's caches: at 186,100 stations the tree call
    on 100,000 scattered points took a third of the time once sorted (docs/benchmarks.md).
    Answers do not depend on the order; it only changes where they are computed.
    """
    if len(lon) < 2:
        return np.arange(len(lon))
    columns = int(360 / _ORDER_CELL_DEG) + 1
    cell = (np.floor((lat + 90.0) / _ORDER_CELL_DEG) * columns + np.floor((lon + 180.0) / _ORDER_CELL_DEG))
    return np.argsort(cell.astype(np.int64))      # not stable: half the time, and any order will do
