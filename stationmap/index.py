"""Exact nearest-station search over a GeoDataFrame of stations.

Two spatial indexes serve different questions:

* **Nearest / within a radius** uses a k-d tree (SciPy's ``cKDTree``) over the stations' ECEF
  coordinates. Chord length is a lower bound of geodesic length, so the tree's candidates can
  be re-ranked by true geodesic metres and the answer *proved* complete (see
  :meth:`StationIndex.nearest`). A lon/lat R-tree cannot do this: a degree of longitude is
  111 km at the equator and 68 km at Harbin, and planar nearest in degrees is simply wrong.
  (That is also why stationmap does not use ``rtree``: the GeoDataFrame's own shapely STRtree
  already answers the planar box queries, and ``rtree`` would add a C library for nothing.)
* **Bounding boxes** use the GeoDataFrame's own spatial index (``stations.sindex``, a shapely
  STRtree), where planar lon/lat is exactly the question asked.

The index works in WGS-84; queries in GCJ-02 or BD-09 are converted on the way in.

Examples
--------
>>> from stationmap.stations import read_stations
>>> index = StationIndex(read_stations())
>>> found = index.nearest(121.4998, 31.2397, k=3, radius_m=2000)
>>> bool((found.distance_m[:-1] <= found.distance_m[1:]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Callable, Hashable, Iterable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from . import coords, geodesy, hours, vocab
from .errors import InputError
from .stations import amenity_codes, check_lon_lat

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Largest piece an along-route query cuts a route into, in degrees (about 550 m). The
#: chord of such a piece sags 6 mm below the ground: far below the metre that matters.
_ROUTE_STEP_DEG = 0.005


@dataclass(frozen=True)
class Filters:
    """Which stations a query may return.

    ``types`` and ``access`` admit any of their values; ``amenities`` requires all of them;
    ``open_at`` admits only stations whose hours say open at that moment (unknown hours never
    count as open). Stations with status ``closed`` or ``temporarily_closed`` are left out
    unless ``include_closed``.
    """

    types: frozenset[str] = frozenset()
    access: frozenset[str] = frozenset()
    amenities: frozenset[str] = frozenset()
    open_at: datetime | None = None
    include_closed: bool = False

    @classmethod
    def build(cls, *, types: Iterable[str] = (), access: Iterable[str] = (),
              amenities: Iterable[str] = (), open_at: str | datetime | None = None,
              include_closed: bool = False) -> "Filters":
        """Validated filters; raises :class:`InputError` naming the offending field."""
        checked = {}
        for name, values, vocabulary in (("type", types, vocab.STATION_TYPES),
                                         ("access", access, vocab.ACCESS),
                                         ("amenity", amenities, vocab.AMENITIES)):
            values = frozenset(str(v).strip() for v in values if str(v).strip())
            unknown = sorted(vocab.unknown_codes(vocabulary, values))
            if unknown:
                raise InputError(f"unknown {name} {', '.join(map(repr, unknown))}; "
                                 f"use one of {', '.join(vocabulary)}", field=name)
            checked[name] = values
        when = None
        if open_at is not None:
            try:
                when = hours.parse_when(open_at)
            except ValueError as exc:
                raise InputError(str(exc), field="open_at") from None
        return cls(types=checked["type"], access=checked["access"], amenities=checked["amenity"],
                   open_at=when, include_closed=include_closed)


@dataclass(frozen=True)
class Neighbours:
    """Stations found for one query: row positions in the GeoDataFrame and geodesic metres,
    nearest first."""

    positions: IntArray
    distance_m: FloatArray

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class RouteMatches:
    """Stations near a route, in the order a traveller meets them."""

    positions: IntArray
    distance_m: FloatArray     # from the route
    along_m: FloatArray        # from the route's start to the closest point
    route_length_m: float

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(eq=False)      # identity equality: an index is hashable, so caches can key on it
class StationIndex:
    """Stations plus the indexes and columns that queries need as plain arrays."""

    stations: gpd.GeoDataFrame
    lon: FloatArray = field(init=False, repr=False)
    lat: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        stations = self.stations.reset_index(drop=True)
        self.stations = stations
        self.lon = np.ascontiguousarray(stations.geometry.x.to_numpy(dtype=float))
        self.lat = np.ascontiguousarray(stations.geometry.y.to_numpy(dtype=float))
        self._xyz = geodesy.ecef(self.lon, self.lat)
        # Plain-float copies for the single-query path, which cannot afford NumPy indexing.
        self._lon_list, self._lat_list = self.lon.tolist(), self.lat.tolist()
        self._xyz_list = [tuple(p) for p in self._xyz.tolist()]
        self._tree = cKDTree(self._xyz, balanced_tree=False, compact_nodes=False)
        self.ids = stations["id"].to_numpy(dtype=object)
        self._position_of = {station_id: i for i, station_id in enumerate(self.ids)}
        self._type = stations["type"].to_numpy(dtype=object)
        self._access = stations["access"].to_numpy(dtype=object)
        self._active = (stations["status"] == "open").to_numpy()
        self._active_list = self._active.tolist()
        amenity_bit = {code: 1 << i for i, code in enumerate(vocab.AMENITIES)}
        # Registers repeat a few kits many times: one bitmask per distinct string.
        kits, kit_of = np.unique(stations["amenities"].to_numpy(dtype=str), return_inverse=True)
        kit_bits = np.array([sum(amenity_bit[c] for c in amenity_codes(k)) for k in kits], dtype=np.uint64)
        self._amenity_bits = kit_bits[kit_of.reshape(-1)]
        self._amenity_bit = {code: np.uint64(bit) for code, bit in amenity_bit.items()}
        self._hours_patterns, self._hours_group = np.unique(
            stations["opening_hours"].to_numpy(dtype=str), return_inverse=True)

    def __len__(self) -> int:
        return len(self.lon)

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """A structure built from this index on first use and kept with it (e.g. the search of
        :mod:`stationmap.search`). Replacing the index on a register change drops them all
        together, so nothing answers from an old register; a module-level cache keyed by the
        index could not promise that."""
        store = self.__dict__.setdefault("_derived", {})
        if key not in store:
            store[key] = build()
        return store[key]

    @cached_property
    def columns(self) -> dict[str, list]:
        """Every column as a plain list, plus GCJ-02 and BD-09 coordinates: building a result
        from lists costs microseconds where a pandas row costs a hundred."""
        table = {c: self.stations[c].tolist() for c in self.stations.columns if c != self.stations.geometry.name}
        for system in ("gcj02", "bd09"):
            x, y = coords.from_wgs84(self.lon, self.lat, system)
            table[f"{system}_lon"], table[f"{system}_lat"] = x.tolist(), y.tolist()
        return table

    # -- filters -------------------------------------------------------------------------

    def admitted(self, positions: IntArray, filters: Filters) -> NDArray[np.bool_]:
        """Which of ``positions`` pass ``filters`` (evaluated only on these stations)."""
        if not filters.include_closed:
            ok = self._active[positions]
        else:
            ok = np.ones(len(positions), dtype=bool)
        if filters.types:
            ok &= np.isin(self._type[positions], list(filters.types))
        if filters.access:
            ok &= np.isin(self._access[positions], list(filters.access))
        if filters.amenities:
            need = np.uint64(sum(self._amenity_bit[a] for a in filters.amenities))
            ok &= (self._amenity_bits[positions] & need) == need
        if filters.open_at is not None and ok.any():
            groups = self._hours_group[positions]
            wanted = np.unique(groups[ok])
            open_groups = np.zeros(len(self._hours_patterns), dtype=bool)
            open_groups[wanted] = hours.is_open(self._hours_patterns[wanted], filters.open_at)
            ok &= open_groups[groups]
        return ok

    def position(self, station_id: str) -> int | None:
        """Row position of a station id, or ``None``."""
        return self._position_of.get(station_id)

    # -- nearest ---------------------------------------------------------------------------

    def nearest(self, lon: float, lat: float, *, k: int = 5, radius_m: float | None = None,
                filters: Filters = Filters(), coordsys: str = "wgs84") -> Neighbours:
        """The ``k`` nearest admitted stations to one point, within ``radius_m`` if given.

        The k-d tree yields candidates by chord. Re-ranked by geodesic, the first ``k`` are
        final once the k-th geodesic is no longer than the chord of the last candidate seen:
        every unseen station has a longer chord, hence a longer geodesic. Otherwise the
        candidate count grows and the search repeats. Ties go to the earlier row.
        """
        lon, lat, k, radius_m = _check_query(lon, lat, k, radius_m, coordsys)
        n = len(self)
        if n == 0:
            return Neighbours(np.zeros(0, np.int64), np.zeros(0))
        point = geodesy.ecef_point(lon, lat)
        bound = np.inf if radius_m is None else radius_m + geodesy.CHORD_SLACK_M
        m = min(n, self._first_fetch(k, filters))
        while True:
            chords, idx = self._tree.query(point, k=m, distance_upper_bound=bound)
            chords, idx = np.atleast_1d(chords).tolist(), np.atleast_1d(idx).tolist()
            seen = idx.index(n) if idx[-1] == n else m      # cKDTree pads the end with n / inf
            if self._first_fetch(k, filters) == k + 1 and not filters.include_closed:
                candidates = [p for p in idx[:seen] if self._active_list[p]]
            else:
                candidates = np.array(idx[:seen], dtype=np.int64)
                candidates = candidates[self.admitted(candidates, filters)].tolist()
            ranked = []
            for p in candidates:
                distance = geodesy.geodesic_from_chord_point(lon, lat, point, self._lon_list[p],
                                                             self._lat_list[p], self._xyz_list[p])
                if radius_m is None or distance <= radius_m:
                    ranked.append((distance, p))
            ranked.sort()
            ranked = ranked[:k]
            exhausted = m >= n or seen < m
            if exhausted or (len(ranked) == k
                             and ranked[-1][0] <= chords[-1] - geodesy.CHORD_SLACK_M):
                return Neighbours(np.array([p for _, p in ranked], dtype=np.int64),
                                  np.array([d for d, _ in ranked], dtype=float))
            m = min(n, m * 4)

    @staticmethod
    def _first_fetch(k: int, filters: Filters) -> int:
        """Candidates to ask the tree for first: one spare, or more when filters will drop some."""
        plain = not (filters.types or filters.access or filters.amenities or filters.open_at)
        return k + 1 if plain else 4 * k + 8

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
        k, radius_m = _check_k_radius(k, radius_m)
        lon, lat = _points_to_wgs84(lon, lat, coordsys)
        positions = np.full((len(lon), k), -1, dtype=np.int64)
        distances = np.full((len(lon), k), np.nan)
        for start in range(0, len(lon), chunk):
            stop = start + chunk
            positions[start:stop], distances[start:stop] = self._nearest_rows(
                lon[start:stop], lat[start:stop], k, radius_m, filters)
        return positions, distances

    def _nearest_rows(self, lon: FloatArray, lat: FloatArray, k: int, radius_m: float | None,
                      filters: Filters) -> tuple[IntArray, FloatArray]:
        n = len(self)
        q = len(lon)
        out_pos = np.full((q, k), -1, dtype=np.int64)
        out_dist = np.full((q, k), np.nan)
        if n == 0 or q == 0:
            return out_pos, out_dist
        xyz = geodesy.ecef(lon, lat)
        bound = np.inf if radius_m is None else radius_m + geodesy.CHORD_SLACK_M
        m = min(n, self._first_fetch(k, filters))
        rows = np.arange(q)
        while len(rows):
            workers = -1 if len(rows) > 5_000 else 1     # threads cost more than small batches
            chords, idx = self._tree.query(xyz[rows], k=m, distance_upper_bound=bound, workers=workers)
            chords = chords.reshape(len(rows), m)
            idx = idx.reshape(len(rows), m)
            seen = idx < n                                      # cKDTree pads with n / inf
            safe = np.where(seen, idx, 0)
            ok = seen.copy()
            ok[seen] = self.admitted(idx[seen], filters)
            dist = np.full(idx.shape, np.inf)
            if ok.any():
                r, c = np.nonzero(ok)
                query, station = rows[r], safe[r, c]        # one gather each, no intermediate copies
                dist[r, c] = geodesy.geodesic_from_chord(lon[query], lat[query], xyz[query], self.lon[station],
                                                         self.lat[station], self._xyz[station])
            if radius_m is not None:
                dist[dist > radius_m] = np.inf
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
            out_pos[done_rows] = np.where(found[done], best_idx[done], -1)[:, :k]
            out_dist[done_rows] = np.where(found[done], best[done], np.nan)[:, :k]
            rows = rows[~done]
            m = min(n, m * 4)
        return out_pos, out_dist

    # -- boxes and routes ---------------------------------------------------------------

    def within_bbox(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float, *,
                    filters: Filters = Filters()) -> IntArray:
        """Positions of admitted stations inside a WGS-84 box, in file order."""
        hits = self.stations.sindex.query(shapely.box(min_lon, min_lat, max_lon, max_lat),
                                          predicate="intersects")
        hits = np.sort(np.asarray(hits, dtype=np.int64))
        return hits[self.admitted(hits, filters)]

    def along_route(self, route: shapely.LineString, distance_m: float, *,
                    filters: Filters = Filters(), coordsys: str = "wgs84") -> RouteMatches:
        """Stations within ``distance_m`` of a route, ordered by where the route passes them.

        The route is read as GeoJSON does (straight lines in lon/lat between vertices), cut
        into pieces of at most about 550 m, and each station is measured to the closest point
        of the closest piece by geodesic metres.
        """
        if not isinstance(route, shapely.LineString) or route.is_empty or len(route.coords) < 2:
            raise InputError("must be a LineString with at least two positions", field="route")
        if not (isinstance(distance_m, (int, float)) and np.isfinite(distance_m) and 0 < distance_m <= 50_000):
            raise InputError(f"{distance_m!r} must be a number of metres in (0, 50000]", field="distance_m")
        xy = np.asarray(route.coords, dtype=float)[:, :2]
        for x, y in xy:
            check_lon_lat(x, y)
        x, y = _points_to_wgs84(xy[:, 0], xy[:, 1], coordsys)
        dense = np.asarray(shapely.segmentize(shapely.LineString(np.column_stack([x, y])),
                                              _ROUTE_STEP_DEG).coords)
        vlon, vlat = dense[:, 0], dense[:, 1]
        vxyz = geodesy.ecef(vlon, vlat)
        piece_m = geodesy.geodesic_m(vlon[:-1], vlat[:-1], vlon[1:], vlat[1:])
        start_m = np.concatenate([[0.0], np.cumsum(piece_m)])
        piece_chord = np.linalg.norm(vxyz[1:] - vxyz[:-1], axis=1)
        # A station within D of a piece is within D + half the piece of one of its ends.
        reach = distance_m + piece_chord.max(initial=0.0) / 2 + geodesy.CHORD_SLACK_M
        near = self._tree.query_ball_point(vxyz, r=reach, workers=-1)
        pairs_v = np.repeat(np.arange(len(near)), [len(h) for h in near])
        pairs_s = np.fromiter((s for hits in near for s in hits), dtype=np.int64, count=len(pairs_v))
        empty = RouteMatches(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), float(start_m[-1]))
        if len(pairs_s) == 0:
            return empty
        # Each (vertex, station) pair tests the pieces on both sides of the vertex.
        piece = np.concatenate([pairs_v - 1, pairs_v])
        station = np.concatenate([pairs_s, pairs_s])
        valid = (piece >= 0) & (piece < len(piece_m))
        piece, station = piece[valid], station[valid]
        a, b, p = vxyz[piece], vxyz[piece + 1], self._xyz[station]
        ab = b - a
        t = np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
        t = np.clip(t, 0.0, 1.0)
        foot_lon = vlon[piece] + t * (vlon[piece + 1] - vlon[piece])
        foot_lat = vlat[piece] + t * (vlat[piece + 1] - vlat[piece])
        dist = geodesy.geodesic_from_chord(foot_lon, foot_lat, geodesy.ecef(foot_lon, foot_lat),
                                           self.lon[station], self.lat[station], p)
        along = start_m[piece] + t * piece_m[piece]
        # Keep, per station, the closest piece.
        order = np.lexsort((dist, station))
        station, dist, along = station[order], dist[order], along[order]
        first = np.ones(len(station), dtype=bool)
        first[1:] = station[1:] != station[:-1]
        station, dist, along = station[first], dist[first], along[first]
        keep = (dist <= distance_m) & self.admitted(station, filters)
        station, dist, along = station[keep], dist[keep], along[keep]
        order = np.lexsort((dist, along))
        return RouteMatches(station[order], dist[order], along[order], float(start_m[-1]))


def _check_k_radius(k: int, radius_m: float | None) -> tuple[int, float | None]:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"{k!r} must be a whole number ≥ 1", field="k")
    if radius_m is not None:
        if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float, np.floating, np.integer)) \
                or not np.isfinite(radius_m) or radius_m <= 0:
            raise InputError(f"{radius_m!r} must be a positive number of metres", field="radius_m")
        radius_m = float(radius_m)
    return int(k), radius_m


def _check_query(lon: float, lat: float, k: int, radius_m: float | None, coordsys: str
                 ) -> tuple[float, float, int, float | None]:
    lon, lat = check_lon_lat(lon, lat)
    k, radius_m = _check_k_radius(k, radius_m)
    if coordsys != "wgs84":
        x, y = _points_to_wgs84(np.array([lon]), np.array([lat]), coordsys)
        lon, lat = float(x[0]), float(y[0])
    return lon, lat, k, radius_m


def _points_to_wgs84(lon: FloatArray, lat: FloatArray, coordsys: str | ArrayLike
                     ) -> tuple[FloatArray, FloatArray]:
    if isinstance(coordsys, str):
        try:
            system = coords.check_coordsys(coordsys)
        except ValueError as exc:
            raise InputError(str(exc), field="coordsys") from None
        return (lon, lat) if system == "wgs84" else coords.to_wgs84(lon, lat, system)
    systems = np.asarray(coordsys, dtype=object)
    lon, lat = lon.copy(), lat.copy()
    for system in set(systems.tolist()):
        try:
            checked = coords.check_coordsys(system)
        except ValueError as exc:
            raise InputError(str(exc), field="coordsys") from None
        rows = systems == system
        lon[rows], lat[rows] = coords.to_wgs84(lon[rows], lat[rows], checked)
    return lon, lat
