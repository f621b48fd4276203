"""Stations along a route at a cost bounded by the route and the stations near it, not their product.

The first along-route query tested every (route point, station in reach) pair: a 10,000-vertex
zig-zag with ``distance_m=50000`` made every one of Shanghai's stations a candidate of every
vertex, about 2 MB per vertex, and drove a worker past 15 GB. Here:

1. The middles of the route's pieces go into a k-d tree of their own; *one* query per station
   gives ``u``, the chord to its nearest middle. A station within ``D`` of a piece is within
   ``D`` plus half the piece of its middle, so stations with ``u`` beyond that are out: the candidates
   cost O(stations · log vertices) and hold one number each.
2. A candidate's closest point ``f`` is no farther (geodesically, hence by chord) than the foot
   on the piece of its nearest middle, which is at most ``u`` plus the chord/geodesic
   excess; and ``f`` lies within half a piece of an end of its own piece. So only pieces with
   an end within ``u + half the longest piece + excess`` can hold the minimum: each station
   is measured to those alone, in batches of at most :data:`BATCH_PAIRS` pairs, keeping only
   each station's best piece.

The answer is the old one's (``tests/test_along.py`` compares with the brute force on ordinary
routes), except that of two pieces at exactly the same distance the earlier one along the
route is taken.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from . import geodesy

#: Most (station, route piece) pairs measured at once: about 50 MB of arrays at the peak.
BATCH_PAIRS = 200_000
#: Most route pieces (each at most about 550 m) one query may have: about 270,000 km of route.
MAX_PIECES = 500_000
_EARTH_M = 6_371_000.0


def best_pieces(vlon: np.ndarray, vlat: np.ndarray, vxyz: np.ndarray, station_lon: np.ndarray,
                station_lat: np.ndarray, station_xyz: np.ndarray, distance_m: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """For every station within ``distance_m`` of the route through ``v*`` (dense vertices):
    ``(station positions, geodesic metres, metres along the route, route length)``, unordered.
    """
    piece_m = geodesy.geodesic_m(vlon[:-1], vlat[:-1], vlon[1:], vlat[1:])
    start_m = np.concatenate([[0.0], np.cumsum(piece_m)])
    middle = (vxyz[1:] + vxyz[:-1]) / 2
    half = np.linalg.norm(vxyz[1:] - vxyz[:-1], axis=1).max(initial=0.0) / 2
    reach = distance_m + half + geodesy.CHORD_SLACK_M
    tree = cKDTree(middle)
    u, _ = tree.query(station_xyz, k=1, distance_upper_bound=reach)
    candidates = np.flatnonzero(np.isfinite(u))
    nothing = np.zeros(0, np.int64), np.zeros(0), np.zeros(0), float(start_m[-1])
    if not len(candidates):
        return nothing
    u = u[candidates]
    radius = u + half + 1.0 + u**3 / (12 * _EARTH_M**2) + geodesy.CHORD_SLACK_M
    counts = tree.query_ball_point(station_xyz[candidates], r=radius, return_length=True)
    found_s, found_d, found_a = [], [], []
    start = 0
    while start < len(candidates):
        stop = start + 1
        total = int(counts[start])
        while stop < len(candidates) and total + counts[stop] <= BATCH_PAIRS:
            total += int(counts[stop])
            stop += 1
        s, d, a = _measure(candidates[start:stop], radius[start:stop], tree, vlon, vlat, vxyz, piece_m,
                           start_m, station_lon, station_lat, station_xyz)
        keep = d <= distance_m
        found_s.append(s[keep])
        found_d.append(d[keep])
        found_a.append(a[keep])
        start = stop
    return np.concatenate(found_s), np.concatenate(found_d), np.concatenate(found_a), float(start_m[-1])


def _measure(stations, radius, tree, vlon, vlat, vxyz, piece_m, start_m, station_lon, station_lat, station_xyz):
    """Each of ``stations``' closest piece among those whose middle is within its ``radius``."""
    near = tree.query_ball_point(station_xyz[stations], r=radius)
    lengths = np.fromiter((len(h) for h in near), dtype=np.int64, count=len(near))
    piece = np.concatenate([np.asarray(h, dtype=np.int64) for h in near])
    station = np.repeat(stations, lengths)            # grouped by station, in ``stations``' order
    a, p = vxyz[piece], station_xyz[station]
    ab = vxyz[piece + 1] - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0.0, 1.0)
    # Chords first (cheap): the geodesic to a foot is at least its chord (less a few mm of sag
    # between the lon/lat foot and the chord's) and at most the chord plus the excess, so only
    # pieces within that margin of their station's shortest chord can hold its minimum.
    chord = np.linalg.norm(p - (a + t[:, None] * ab), axis=1)
    del a, ab, p
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    floor = np.repeat(np.minimum.reduceat(chord, starts), lengths)
    close = chord <= floor + 2.0 + floor**3 / (12 * _EARTH_M**2)
    piece, station, t = piece[close], station[close], t[close]
    foot_lon = vlon[piece] + t * (vlon[piece + 1] - vlon[piece])
    foot_lat = vlat[piece] + t * (vlat[piece + 1] - vlat[piece])
    dist = geodesy.geodesic_from_chord(foot_lon, foot_lat, geodesy.ecef(foot_lon, foot_lat),
                                       station_lon[station], station_lat[station], station_xyz[station])
    along = start_m[piece] + t * piece_m[piece]
    order = np.lexsort((along, dist, station))
    station, dist, along = station[order], dist[order], along[order]
    first = np.ones(len(station), dtype=bool)
    first[1:] = station[1:] != station[:-1]
    return station[first], dist[first], along[first]
