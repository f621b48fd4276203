"""Geodesic metres on the WGS-84 ellipsoid, fast enough for a million queries.

Nearest-station search runs in Earth-centred (ECEF) 3-D coordinates, where the straight-line
chord between two points never exceeds the geodesic between them. That inequality is what
makes the index exact anywhere in China (a single UTM zone or a lon/lat grid distorts
distances across zones): chords give a guaranteed lower bound, geodesics give the answer.

Geodesics come from Karney's algorithm (pyproj's :class:`~pyproj.Geod`). For the short lines
a nearest-station query produces, :func:`geodesic_from_chord` gets the same number from the
chord plus the ellipsoid's curvature in the line's direction, vectorised in NumPy with no
per-call overhead; it agrees with Karney to better than 0.001 mm up to 100 km (tested), and
longer lines go to pyproj.

Examples
--------
>>> round(float(geodesic_m(121.4998, 31.2397, 121.4737, 31.2304)), 3)   # Lujiazui to the Bund area
2691.845
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

A = 6378137.0                    # WGS-84 semi-major axis, metres
F = 1.0 / 298.257223563          # WGS-84 flattening
E2 = F * (2.0 - F)               # first eccentricity squared
GEOD = Geod(ellps="WGS84")
#: Beyond this chord length :func:`geodesic_from_chord` hands over to Karney's algorithm.
SHORT_LINE_M = 100_000.0
#: Chords may exceed geodesics by floating-point noise (seen: 5e-9 m); bounds allow for it.
CHORD_SLACK_M = 1e-6
#: Our geodesic may differ from Karney's by floating-point noise (seen: 1e-9 m): a station on the
#: radius by Karney's measure is inside it by ours too.
GEODESIC_SLACK_M = 1e-6

Array = NDArray[np.float64]


def ecef(lon: ArrayLike, lat: ArrayLike) -> Array:
    """Earth-centred, Earth-fixed XYZ metres of points on the WGS-84 ellipsoid, shape (..., 3)."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = A / np.sqrt(1.0 - E2 * sin_phi * sin_phi)
    return np.stack([n * cos_phi * np.cos(lam), n * cos_phi * np.sin(lam), n * (1.0 - E2) * sin_phi], axis=-1)


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Array:
    """Geodesic distance in metres by Karney's algorithm (exact to nanometres)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)


def azimuth_deg(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Array:
    """Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    forward, _, _ = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.mod(np.asarray(forward, dtype=float), 360.0)


def geodesic_from_chord(lon1: ArrayLike, lat1: ArrayLike, xyz1: ArrayLike,
                        lon2: ArrayLike, lat2: ArrayLike, xyz2: ArrayLike) -> Array:
    """Geodesic metres between points whose ECEF coordinates are already known.

    For a line short against the Earth's radius, the geodesic is an arc of the normal section
    with curvature ``1/R`` (Euler's radius in the line's azimuth at its midpoint), so
    ``s = 2 R asin(c / 2R)`` for chord ``c``. Lines longer than :data:`SHORT_LINE_M` go to
    Karney's algorithm.
    """
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    delta = np.asarray(xyz2, dtype=float) - np.asarray(xyz1, dtype=float)
    chord = np.sqrt(np.einsum("...i,...i->...", delta, delta))
    # Halfway along the shorter way round: across the antimeridian the plain mean of 179.9 and
    # -179.9 is 0, the wrong side of the Earth.
    lam = np.radians(lon1 + np.remainder(lon2 - lon1 + 180.0, 360.0) * 0.5 - 90.0)
    phi = np.radians((lat1 + lat2) * 0.5)
    sin_lam, cos_lam, sin_phi, cos_phi = np.sin(lam), np.cos(lam), np.sin(phi), np.cos(phi)
    east = -sin_lam * delta[..., 0] + cos_lam * delta[..., 1]
    north = -sin_phi * cos_lam * delta[..., 0] - sin_phi * sin_lam * delta[..., 1] + cos_phi * delta[..., 2]
    w = 1.0 - E2 * sin_phi * sin_phi
    meridian = A * (1.0 - E2) / (w * np.sqrt(w))      # M, north-south radius of curvature
    prime_vertical = A / np.sqrt(w)                   # N, east-west radius of curvature
    horizontal = east * east + north * north
    # A zero-length line has no direction; any curvature gives s = 0, so take the meridian's.
    has_direction = horizontal > 0.0
    safe = np.where(has_direction, horizontal, 1.0)
    curvature = np.where(has_direction,
                         (north * north / safe) / meridian + (east * east / safe) / prime_vertical,
                         1.0 / meridian)
    half = 0.5 * chord * curvature
    dist = 2.0 * np.arcsin(np.minimum(half, 1.0)) / curvature
    long_lines = chord > SHORT_LINE_M
    if np.any(long_lines):
        dist = np.array(dist, dtype=float, copy=True)
        dist[long_lines] = geodesic_m(lon1[long_lines], lat1[long_lines], lon2[long_lines], lat2[long_lines])
    return dist


def ecef_point(lon: float, lat: float) -> tuple[float, float, float]:
    """:func:`ecef` for one point, in plain floats (a single query cannot afford NumPy calls)."""
    lam, phi = math.radians(lon), math.radians(lat)
    sin_phi, cos_phi = math.sin(phi), math.cos(phi)
    n = A / math.sqrt(1.0 - E2 * sin_phi * sin_phi)
    return n * cos_phi * math.cos(lam), n * cos_phi * math.sin(lam), n * (1.0 - E2) * sin_phi


def geodesic_from_chord_point(lon1: float, lat1: float, xyz1: tuple[float, float, float],
                              lon2: float, lat2: float, xyz2: tuple[float, float, float]) -> float:
    """:func:`geodesic_from_chord` for one pair, in plain floats.

    A NumPy call costs about 2 µs here, so a single nearest query measuring its five or six
    candidates this way is several times faster than with arrays. Same formula, same tests.
    """
    dx, dy, dz = xyz2[0] - xyz1[0], xyz2[1] - xyz1[1], xyz2[2] - xyz1[2]
    chord = math.sqrt(dx * dx + dy * dy + dz * dz)
    if chord == 0.0:
        return 0.0
    if chord > SHORT_LINE_M:
        return float(geodesic_m(lon1, lat1, lon2, lat2))
    return midpoint_arc(lon1, lat1, lon2, lat2, dx, dy, dz, chord)


# The two formulas below are plain arithmetic on floats (no NumPy, no pyproj), so that the
# batch's compiled kernel (stationmap.batch, numba) runs these very functions: one formula for
# the single query and the batch.

def midpoint_arc(lon1: float, lat1: float, lon2: float, lat2: float, dx: float, dy: float, dz: float,
                 chord: float) -> float:
    """Geodesic metres of a line from its chord ``(dx, dy, dz)`` (length ``chord`` > 0, at most
    :data:`SHORT_LINE_M`), curved as the normal section at the line's midpoint.
    """
    lam = math.radians(lon1 + ((lon2 - lon1 + 180.0) % 360.0) * 0.5 - 90.0)    # the shorter way round
    phi = math.radians((lat1 + lat2) * 0.5)
    sin_lam, cos_lam, sin_phi, cos_phi = math.sin(lam), math.cos(lam), math.sin(phi), math.cos(phi)
    east = cos_lam * dy - sin_lam * dx
    north = cos_phi * dz - sin_phi * (cos_lam * dx + sin_lam * dy)
    w = 1.0 - E2 * sin_phi * sin_phi
    horizontal = east * east + north * north
    curvature = (north * north * w * math.sqrt(w) / (A * (1.0 - E2)) + east * east * math.sqrt(w) / A) / horizontal
    return 2.0 * math.asin(min(0.5 * chord * curvature, 1.0)) / curvature


def point_frame(lon: float, lat: float) -> tuple[float, float, float, float, float, float]:
    """What :func:`near_arc` needs of its fixed point: sin and cos of its longitude and latitude,
    and the inverse radii of curvature there (``1/M`` north-south, ``1/N`` east-west).
    """
    lam, phi = math.radians(lon), math.radians(lat)
    sin_lam, cos_lam, sin_phi, cos_phi = math.sin(lam), math.cos(lam), math.sin(phi), math.cos(phi)
    w = 1.0 - E2 * sin_phi * sin_phi
    return (sin_lam, cos_lam, sin_phi, cos_phi,
            w * math.sqrt(w) / (A * (1.0 - E2)),     # 1 / M
            math.sqrt(w) / A)                       # 1 / N


def near_arc(frame: tuple[float, float, float, float, float, float], dx: float, dy: float, dz: float,
             chord2: float) -> float:
    """Geodesic metres of a line from a point (its :func:`point_frame`) along the chord
    ``(dx, dy, dz)`` of squared length ``chord2`` (> 0, at most :data:`NEAR_CHORD_M` squared),
    curved as the normal section at the point: arithmetic only, no sines or cosines.
    """
    sin_lam, cos_lam, sin_phi, cos_phi, inv_m, inv_n = frame
    east = cos_lam * dy - sin_lam * dx
    north = cos_phi * dz - sin_phi * (cos_lam * dx + sin_lam * dy)
    curvature = (north * north * inv_m + east * east * inv_n) / (east * east + north * north)
    return 2.0 * math.asin(min(0.5 * math.sqrt(chord2) * curvature, 1.0)) / curvature


#: Up to this chord, :class:`NearPoint` takes the curvature at the query point instead of the
#: line's midpoint. Over 10 km that moves the radius of curvature by under 1e-5 of itself,
#: and it only scales the arc's excess over the chord (under 1 mm at 10 km): 1e-8 m.
NEAR_CHORD_M = 10_000.0


class NearPoint:
    """Geodesic metres from one fixed point to stations near it, in plain floats.

    A single nearest query measures five or six candidates from the same point. The point's
    trigonometry and radii of curvature are computed once here, so each candidate costs
    arithmetic only (no sines or cosines): the rider's hot path. Lines longer than
    :data:`NEAR_CHORD_M` go through :func:`geodesic_from_chord_point` (midpoint curvature, or
    Karney beyond :data:`SHORT_LINE_M`).
    """

    __slots__ = ("_frame", "lat", "lon", "xyz")

    def __init__(self, lon: float, lat: float, xyz: tuple[float, float, float]):
        self.lon, self.lat, self.xyz = lon, lat, xyz
        self._frame = point_frame(lon, lat)

    def distance(self, lon2: float, lat2: float, xyz2: tuple[float, float, float]) -> float:
        """Geodesic metres to a point whose ECEF coordinates are known."""
        x1, y1, z1 = self.xyz
        dx, dy, dz = xyz2[0] - x1, xyz2[1] - y1, xyz2[2] - z1
        chord2 = dx * dx + dy * dy + dz * dz
        if chord2 > NEAR_CHORD_M * NEAR_CHORD_M:
            return geodesic_from_chord_point(self.lon, self.lat, self.xyz, lon2, lat2, xyz2)
        if chord2 == 0.0:
            return 0.0
        # near_arc's arithmetic, inlined: the call alone would cost this hot path 0.15-0.25 µs
        # per station (tests/test_batch.py checks the two give the same metres).
        sin_lam, cos_lam, sin_phi, cos_phi, inv_m, inv_n = self._frame
        east = cos_lam * dy - sin_lam * dx
        north = cos_phi * dz - sin_phi * (cos_lam * dx + sin_lam * dy)
        curvature = (north * north * inv_m + east * east * inv_n) / (east * east + north * north)
        return 2.0 * math.asin(min(0.5 * math.sqrt(chord2) * curvature, 1.0)) / curvature

    def bearing(self, lon2: float, lat2: float, xyz2: tuple[float, float, float]) -> float:
        """Initial bearing in degrees [0, 360) to a point whose ECEF coordinates are known.

        Up to :data:`NEAR_CHORD_M` this is the azimuth of the normal section (the chord seen in
        the tangent plane), which differs from the geodesic's by under 1e-5 degrees there;
        farther (or on the point itself) it is Karney's, as :func:`azimuth_deg` gives.
        """
        x1, y1, z1 = self.xyz
        dx, dy, dz = xyz2[0] - x1, xyz2[1] - y1, xyz2[2] - z1
        chord2 = dx * dx + dy * dy + dz * dz
        if chord2 > NEAR_CHORD_M * NEAR_CHORD_M or chord2 == 0.0:
            return float(azimuth_deg(self.lon, self.lat, lon2, lat2))
        sin_lam, cos_lam, sin_phi, cos_phi = self._frame[:4]
        east = cos_lam * dy - sin_lam * dx
        north = cos_phi * dz - sin_phi * (cos_lam * dx + sin_lam * dy)
        return math.degrees(math.atan2(east, north)) % 360.0
