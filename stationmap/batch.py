"""Nearest stations for many points at once: the work behind
:meth:`stationmap.index.StationIndex.nearest_batch` (which checks and converts the points).

Points are taken in an order that keeps neighbours together (:func:`spatial_order`) and
answered by SciPy's ``cKDTree``: candidates by chord, re-ranked by geodesic, more each round
until the k-th geodesic beats every unseen chord. (Answering them from the kept squares of
:mod:`stationmap.cells` instead, vectorised, was measured and bought nothing: the look-up of
100,000 squares among 1.45 million and the sort of the pairs cost what the tree call saves;
docs/benchmarks.md, issue 15 part 3.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from . import geodesy
from .filters import Filters

if TYPE_CHECKING:
    from .index import StationIndex

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def nearest_rows(index: StationIndex, lon: FloatArray, lat: FloatArray, k: int, radius_m: float | None,
                 filters: Filters) -> tuple[IntArray, FloatArray]:
    """The k nearest of points already checked, converted to WGS-84 and in spatial order."""
    n = len(index)
    q = len(lon)
    out_pos = np.full((q, k), -1, dtype=np.int64)
    out_dist = np.full((q, k), np.nan)
    if n == 0 or q == 0:
        return out_pos, out_dist
    xyz = geodesy.ecef(lon, lat)
    bound = np.inf if radius_m is None else radius_m + geodesy.CHORD_SLACK_M
    m = min(n, index._first_fetch(k, filters))
    rows = np.arange(q)
    while len(rows):
        # One thread: on this project's 2-core machines SciPy's threads bought nothing
        # measurable (docs/benchmarks.md); the spatial order of the points is what pays.
        chords, idx = index._tree.query(xyz[rows], k=m, distance_upper_bound=bound)
        chords = chords.reshape(len(rows), m)
        idx = idx.reshape(len(rows), m)
        seen = idx < n                                      # cKDTree pads with n / inf
        safe = np.where(seen, idx, 0)
        ok = seen.copy()
        ok[seen] = index.admitted(idx[seen], filters)
        dist = np.full(idx.shape, np.inf)
        if ok.any():
            r, c = np.nonzero(ok)
            query, station = rows[r], safe[r, c]        # one gather each, no intermediate copies
            dist[r, c] = geodesy.geodesic_from_chord(lon[query], lat[query], xyz[query], index.lon[station],
                                                     index.lat[station], index.xyz[station])
        if radius_m is not None:
            dist[dist > radius_m + geodesy.GEODESIC_SLACK_M] = np.inf
        order = np.lexsort((safe, dist), axis=1)[:, :k]          # by distance, then row
        best = np.take_along_axis(dist, order, axis=1)
        best_idx = np.take_along_axis(safe, order, axis=1)
        # Complete when the tree had nothing more to give (m reached n, or padding shows the
        # radius ran out), or when the k-th geodesic beats every unseen chord.
        exhausted = (m >= n) | ~seen[:, -1]
        kth = best[:, k - 1] if best.shape[1] == k else np.full(len(rows), np.inf)
        proven = kth <= chords[:, -1] - geodesy.CHORD_SLACK_M
        done = exhausted | proven
        found = np.isfinite(best)
        done_rows = rows[done]
        width = best.shape[1]                           # under k when k > stations
        out_pos[done_rows, :width] = np.where(found[done], best_idx[done], -1)
        out_dist[done_rows, :width] = np.where(found[done], best[done], np.nan)
        rows = rows[~done]
        m = min(n, m * 4)
    return out_pos, out_dist


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
    return np.argsort(cell.astype(np.int64), kind="stable")
