"""Kept cells: the stations nearest each 1/100° square, so a single nearest query needs no tree call.

A single query (:meth:`stationmap.index.StationIndex.nearest`) keys its square (1/100° of
longitude by 1/100° of latitude: about 1.1 × 0.9 km in China) and walks the stations kept for
it in order of their chord from the square's centre ``c``. Every station *not* kept has a chord
from ``c`` at least the square's ``bound``, and ``chord(q, s) ≥ chord(c, s) − chord(q, c)``
(the triangle inequality, in straight lines through the Earth), so each kept station's chord
bounds from below the geodesic of every station after it, kept or not. The answer is final
once the k-th geodesic is strictly shorter than that bound (strictly: a tie could be an
earlier row), or the bound passes the radius; otherwise the tree decides.

Where the kept stations come from:

* **made at build** (:class:`Table`), for every square holding a station and its eight
  neighbours: every station within :data:`PROVEN_RADIUS_M` plus the square's half diagonal of
  the centre (:data:`REACH_M`), at most :data:`CELL_STATIONS`. A query within that radius is
  then always proved, even with fewer than ``k`` stations in reach (the rest lie beyond); one
  for more stations or no radius is proved when enough were in reach, else the tree answers.
  Batch tree calls over the squares' centres, stored flat (CSR: int32 rows, float32 chords
  rounded *down*, so every stored chord is still a lower bound). A first query of such a
  square is answered like a repeated one.
* **made on demand** (:class:`KeptCells`), for the other squares: ``None`` the first time a
  square is asked for (that query goes to the tree), the :data:`CELL_STATIONS` nearest made
  on the second; at most :data:`CELLS_KEPT` squares, oldest out first.

A live edit that moves, adds or deletes stations makes a new index: its table is the previous
one with the rows renumbered and only the squares the edit can touch made again
(:meth:`Table.patched`), never a stale square: one whose kept stations include a changed
station, or a new station comes within :data:`REACH_M` of its centre.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from . import geodesy

#: Squares of 1/100 degree (about 1.1 km by 0.8-1.1 km in China) ...
CELLS_PER_DEGREE = 100
#: ... each keeping at most its 24 nearest stations: enough to prove the 5 nearest of nearly
#: every query near stations, where the tree's call alone costs more than the whole query.
CELL_STATIONS = 24
#: Queries for more than this many stations go to the tree directly.
CELL_K = 12
#: At most this many squares are kept on demand per index (about 1.5 kB each); oldest out first.
CELLS_KEPT = 32_768
#: Squares made at build keep every station this close to their centre (plus the square's
#: half diagonal, so a query within this radius from anywhere in the square is always proved) ...
PROVEN_RADIUS_M = 2_000.0
#: Half the diagonal of the widest square (at the equator: 1,113 × 1,106 m), rounded up.
_HALF_DIAGONAL_M = 800.0
#: ... that is, every station within this chord of the centre (at most CELL_STATIONS).
REACH_M = PROVEN_RADIUS_M + _HALF_DIAGONAL_M + 2 * geodesy.CHORD_SLACK_M
#: Above this latitude a new station's squares are too many to list: the table is made anew.
_PATCH_MAX_LAT = 80.0
#: ... or this close to the antimeridian, where squares on both sides are neighbours.
_PATCH_MAX_LON = 179.0
#: An edit changing more places than this (or a tenth of the stations) makes the table anew.
_PATCH_MAX_CHANGED = 200

_SHIFT = 20_000            # keys: (lon square + _SHIFT) * _ROW + (lat square + _SHIFT), all positive
_ROW = 40_000
_UNSEEN = object()
_WIDEN = object()

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Point = tuple[float, float, float]
#: A kept square: its centre (ECEF), the kept stations' chords from it (ascending) and rows,
#: and the bound every station not kept reaches or passes.
Cell = tuple[Point, list[float], list[int], float]


def square_key(lon: float, lat: float) -> tuple[int, int, int]:
    """The square of a point: ``(key, lon square, lat square)``."""
    i, j = math.floor(lon * CELLS_PER_DEGREE), math.floor(lat * CELLS_PER_DEGREE)
    return (i + _SHIFT) * _ROW + j + _SHIFT, i, j


def _centre(i: int, j: int) -> Point:
    return geodesy.ecef_point(min((i + 0.5) / CELLS_PER_DEGREE, 180.0), min((j + 0.5) / CELLS_PER_DEGREE, 90.0))


def _centres(keys: IntArray) -> FloatArray:
    """:func:`_centre` of many keys (the same arithmetic, so the same points to within 1 nm)."""
    i, j = keys // _ROW - _SHIFT, keys % _ROW - _SHIFT
    return geodesy.ecef(np.minimum((i + 0.5) / CELLS_PER_DEGREE, 180.0),
                        np.minimum((j + 0.5) / CELLS_PER_DEGREE, 90.0))


def _down32(values: FloatArray) -> NDArray[np.float32]:
    """``values`` as float32, each rounded down (a lower bound stays a lower bound)."""
    out = values.astype(np.float32)
    return np.where(out > values, np.nextafter(out, np.float32(-np.inf)), out)


class Table:
    """The kept stations of many squares, made in one batch (see the module's docstring).

    ``keys`` sorted; square ``r`` keeps ``rows[starts[r]:starts[r + 1]]``, every station whose
    chord from its centre is within :data:`REACH_M` (at most :data:`CELL_STATIONS`: then the
    nearest, and the last one's chord bounds the rest), with their chords.
    """

    __slots__ = ("chords", "keys", "rows", "starts", "_key_list", "_start_list")

    def __init__(self, keys: IntArray, starts: NDArray[np.int32], rows: NDArray[np.int32],
                 chords: NDArray[np.float32]):
        # Plain-int sequences for the single query's bisect (a NumPy call costs more than it);
        # the arrays are views of the same memory.
        self._key_list = array("q", keys.astype(np.int64).tobytes())
        self._start_list = array("i", starts.astype(np.int32).tobytes())
        self.keys = np.frombuffer(self._key_list, dtype=np.int64)
        self.starts = np.frombuffer(self._start_list, dtype=np.int32)
        self.rows, self.chords = rows, chords

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return sum(a.nbytes for a in (self.keys, self.starts, self.rows, self.chords))

    def __len__(self) -> int:
        return len(self.keys)

    def cell(self, key: int, centre: Callable[[], Point], n: int) -> Cell | None:
        """The square ``key`` as a :data:`Cell` (of ``n`` stations), or ``None`` if the table
        does not hold it.
        """
        keys = self._key_list
        r = bisect_left(keys, key)
        if r == len(keys) or keys[r] != key:
            return None
        a, b = self._start_list[r], self._start_list[r + 1]
        chords = self.chords[a:b].tolist()
        count = b - a
        bound = chords[-1] if count >= CELL_STATIONS else math.inf if count >= n else REACH_M
        return centre(), chords, self.rows[a:b].tolist(), bound

    @classmethod
    def build(cls, lon: FloatArray, lat: FloatArray, tree: Any) -> Table:
        """The table for stations at ``lon``/``lat`` (``tree``: SciPy's ``cKDTree`` of their ECEF
        points): every square holding a station, and its eight neighbours.
        """
        i = np.floor(lon * CELLS_PER_DEGREE).astype(np.int64)
        j = np.floor(lat * CELLS_PER_DEGREE).astype(np.int64)
        held = _unique((i + _SHIFT) * _ROW + j + _SHIFT)
        around = np.array([di * _ROW + dj for di in (-1, 0, 1) for dj in (-1, 0, 1)], dtype=np.int64)
        keys = _unique((held[:, None] + around).ravel())
        si, sj = keys // _ROW - _SHIFT, keys % _ROW - _SHIFT
        keys = keys[(np.abs(si) <= 180 * CELLS_PER_DEGREE) & (np.abs(sj) <= 90 * CELLS_PER_DEGREE)]
        return cls(keys, *_kept(keys, tree, len(lon)))

    def patched(self, old_lon: FloatArray, old_lat: FloatArray, old_ids: np.ndarray, lon: FloatArray,
                lat: FloatArray, ids: np.ndarray, tree: Any) -> Table:
        """The table for the stations after an edit (``tree`` is theirs): rows renumbered, the
        squares the edit can touch made again, the rest kept. The squares are the same ones
        (a station in a new place adds no squares until the next build: its neighbours are
        answered on demand meanwhile).
        """
        n = len(lon)
        new_index, old_index = pd.Index(ids), pd.Index(old_ids)
        if not (new_index.is_unique and old_index.is_unique):        # ids cannot say which row is which
            return Table.build(lon, lat, tree)
        new_of_old = new_index.get_indexer(old_index)
        found = new_of_old >= 0
        same = np.zeros(len(old_ids), dtype=bool)
        same[found] = (lon[new_of_old[found]] == old_lon[found]) & (lat[new_of_old[found]] == old_lat[found])
        new_of_old = np.where(same, new_of_old, -1)
        arrived = np.ones(n, dtype=bool)
        arrived[new_of_old[same]] = False
        arrivals = np.flatnonzero(arrived)
        if len(arrivals) + int((~same).sum()) > min(_PATCH_MAX_CHANGED, max(n // 10, 10)) \
                or min(n, len(old_ids)) <= 2 * CELL_STATIONS or n > 2 ** 31 - 1 \
                or (len(arrivals) and (np.abs(lat[arrivals]).max() > _PATCH_MAX_LAT
                                       or np.abs(lon[arrivals]).max() > _PATCH_MAX_LON)):
            return Table.build(lon, lat, tree)
        moved_rows = new_of_old[self.rows].astype(np.int32)
        entry_gone = np.flatnonzero(moved_rows < 0)
        stale = np.zeros(len(self.keys), dtype=bool)
        stale[np.searchsorted(self.starts, entry_gone, side="right") - 1] = True
        stale[self._undercut(lon[arrivals], lat[arrivals])] = True
        if not stale.any():
            return Table(self.keys, self.starts, moved_rows, self.chords)
        fresh_starts, fresh_rows, fresh_chords = _kept(self.keys[stale], tree, n)
        new_counts = np.diff(self.starts)
        new_counts[stale] = np.diff(fresh_starts)
        starts = np.zeros(len(self.keys) + 1, dtype=np.int32)
        np.cumsum(new_counts, out=starts[1:])
        rows = np.empty(starts[-1], dtype=np.int32)
        chords = np.empty(starts[-1], dtype=np.float32)
        keep = ~stale
        old_at, new_at = _segments(self.starts, keep), _segments(starts, keep)
        rows[new_at], chords[new_at] = moved_rows[old_at], self.chords[old_at]
        fresh_at = _segments(starts, stale)
        rows[fresh_at], chords[fresh_at] = fresh_rows, fresh_chords
        return Table(self.keys, starts, rows, chords)

    def _undercut(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Rows of the squares whose promise a new station at ``lon``/``lat`` would break: its
        chord from the centre within :data:`REACH_M` (every bound is at most that), so only the
        squares around it, listed by key and checked by chord.
        """
        hit = [np.empty(0, dtype=np.int64)]
        reach = REACH_M + 2 * _HALF_DIAGONAL_M              # the margin covers chord against arc
        dj = math.ceil(reach / 110_000.0 * CELLS_PER_DEGREE) + 1
        for x, y, p in zip(lon.tolist(), lat.tolist(), geodesy.ecef(lon, lat), strict=True):
            width = 111_000.0 * math.cos(math.radians(min(abs(y) + (dj + 1) / CELLS_PER_DEGREE, 89.9)))
            di = math.ceil(reach / width * CELLS_PER_DEGREE) + 1
            _, i, j = square_key(x, y)
            near = np.array([(i + a + _SHIFT) * _ROW + j + b + _SHIFT for a in range(-di, di + 1)
                             for b in range(-dj, dj + 1)], dtype=np.int64)
            at = np.searchsorted(self.keys, near)
            at = at[at < len(self.keys)]
            at = at[np.isin(self.keys[at], near)]
            close = np.linalg.norm(_centres(self.keys[at]) - p, axis=1) < REACH_M + 1.0
            hit.append(at[close])
        return np.concatenate(hit)


def _unique(values: IntArray) -> IntArray:
    """``np.unique`` by a sort: NumPy 2's hashing ``unique`` took 1 s on 1.6 million keys."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _segments(starts: NDArray[np.integer], mask: NDArray[np.bool_]) -> IntArray:
    """Flat positions of the segments ``starts[r]:starts[r + 1]`` of the rows where ``mask``."""
    return _ranges(starts[:-1][mask].astype(np.int64), np.diff(starts)[mask].astype(np.int64))


def _kept(keys: IntArray, tree: Any, n: int) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32]]:
    """``(starts, rows, chords)`` of the squares ``keys`` (see :class:`Table`).

    One dual-tree search (SciPy's ``sparse_distance_matrix`` between a tree of the centres and
    the stations' ``tree``: neighbouring centres share their walk, 4× faster than a query per
    centre), then one sort of (square, chord) packed in an int64: a float32 of a non-negative
    number orders as its bits do.
    """
    starts = np.zeros(len(keys) + 1, dtype=np.int32)
    if not len(keys) or not n:
        return starts, np.empty(0, np.int32), np.empty(0, np.float32)
    centres = cKDTree(_centres(keys), balanced_tree=False, compact_nodes=False)
    pairs = centres.sparse_distance_matrix(tree, REACH_M, output_type="ndarray")
    chords = _down32(pairs["v"])
    square = pairs["i"].astype(np.int64)
    at = np.argsort((square << 32) | chords.view(np.uint32).astype(np.int64))
    square = square[at]
    counts = np.bincount(square, minlength=len(keys))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    keep = at[np.arange(len(at)) - first[square] < CELL_STATIONS]          # the 24 nearest at most
    rows = pairs["j"][keep].astype(np.int32)
    np.cumsum(np.minimum(counts, CELL_STATIONS), out=starts[1:])
    return starts, rows, chords[keep]


class KeptCells:
    """The squares a single query starts from: the :class:`Table` made at build and, for the
    other squares, those made on demand (see the module's docstring). Plain dict operations
    only, each atomic under the GIL, so threads share it without a lock.
    """

    __slots__ = ("recent", "table", "_tree")

    def __init__(self, table: Table | None, tree: Any):
        self.table = table
        self._tree = tree                   # pykdtree's, for squares made on demand
        #: Square -> its cell; ``None`` once asked (made on the next query), ``_WIDEN`` when the
        #: table's could not prove a query (the next makes the 24 nearest).
        self.recent: OrderedDict[int, Cell | object | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.recent)

    def get(self, lon: float, lat: float, n: int) -> Cell | None:
        """The kept stations of the point's square, or ``None`` (then the tree answers)."""
        key, i, j = square_key(lon, lat)
        recent = self.recent
        cell = recent.get(key, _UNSEEN)
        if cell is not _UNSEEN and cell is not None and cell is not _WIDEN:
            return cell  # type: ignore[return-value]
        if len(recent) >= CELLS_KEPT:
            try:           # the oldest square goes: O(1), where next(iter(dict)) walks every key deleted before
                recent.popitem(last=False)
            except KeyError:                        # another thread emptied it first
                pass
        made = None if self.table is None or cell is _WIDEN else self.table.cell(key, lambda: _centre(i, j), n)
        if made is None:
            if cell is _UNSEEN:
                recent[key] = None
                return None
            centre = _centre(i, j)
            m = min(n, CELL_STATIONS)
            chords, idx = self._tree.query(np.array((centre,)), k=m)
            chord_list = chords.ravel().tolist()
            made = (centre, chord_list, idx.ravel().tolist(), math.inf if m >= n else chord_list[-1])
        recent[key] = made
        return made

    def widen(self, lon: float, lat: float, cell: Cell) -> None:
        """``cell`` could not prove a query: if it is the table's (the stations within reach
        only: a query with no radius in thin country needs more), the square's next query
        makes its 24 nearest on demand instead, as a square outside the table does.
        """
        if cell[3] == REACH_M:
            self.recent[square_key(lon, lat)[0]] = _WIDEN


def nearest_from_cell(cell: Cell, point: Point, measure: Callable[[float, float, Point], float], k: int,
                      radius_m: float | None, active: list[bool] | None, lon_list: list[float],
                      lat_list: list[float], xyz_list: list[Point]) -> tuple[list[int], list[float]] | None:
    """The ``k`` nearest (rows, metres) from a kept square, or ``None`` when its stations cannot
    prove the answer (then the tree decides). No tree call, no NumPy: arithmetic on plain floats.
    """
    centre, chords, idx, last = cell
    dx, dy, dz = point[0] - centre[0], point[1] - centre[1], point[2] - centre[2]
    offset = math.sqrt(dx * dx + dy * dy + dz * dz) + 2 * geodesy.CHORD_SLACK_M
    bound = math.inf if radius_m is None else radius_m + geodesy.CHORD_SLACK_M
    within = math.inf if radius_m is None else radius_m + geodesy.GEODESIC_SLACK_M
    ranked: list[tuple[float, int]] = []
    for j, p in enumerate(idx):
        lower = chords[j] - offset
        if lower > bound:
            break
        if len(ranked) >= k:
            ranked.sort()
            if ranked[k - 1][0] < lower:
                break
        if active is not None and not active[p]:
            continue
        distance = measure(lon_list[p], lat_list[p], xyz_list[p])
        if distance <= within:
            ranked.append((distance, p))
    else:
        # Every kept station was measured: the rest of the stations are bounded by the square's bound.
        lower = last - offset
        ranked.sort()
        if not (lower > bound or (len(ranked) >= k and ranked[k - 1][0] < lower)):
            return None
    ranked.sort()
    del ranked[k:]
    return [p for _, p in ranked], [d for d, _ in ranked]


def _ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """The concatenation of ``range(s, s + c)`` for each start and count."""
    total = int(counts.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return np.arange(total) + offsets
