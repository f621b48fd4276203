"""A local equal-area projection for a picture, in metres, and the scale bar and north arrow
drawn on it.

The map is drawn in a Lambert azimuthal equal-area projection centred on the area: within a
city's extent its scale is true to better than 0.01 %, so the scale bar means what it says (its
length is also checked against the geodesic at the place it is drawn), and areas compare fairly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class LocalProjection:
    """A Lambert azimuthal equal-area projection in metres centred on an area."""

    lon_0: float
    lat_0: float

    @classmethod
    def centred_on(cls, geometry: shapely.Geometry) -> LocalProjection:
        """The projection centred on the middle of ``geometry``'s bounds."""
        west, south, east, north = geometry.bounds
        return cls((west + east) / 2, (south + north) / 2)

    @property
    def crs(self) -> CRS:
        """The projection as a pyproj CRS."""
        return CRS.from_proj4(f"+proj=laea +lat_0={self.lat_0} +lon_0={self.lon_0} +datum=WGS84 +units=m +no_defs")

    def forward(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat to projected metres."""
        x, y = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def inverse(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Projected metres back to WGS-84 lon/lat."""
        lon, lat = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True).transform(x, y)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def geometry(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A WGS-84 shapely geometry in projected metres."""
        transformer = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def round_length(limit_m: float) -> float:
    """The longest 1, 2 or 5 × 10ⁿ metres not above ``limit_m``: a scale bar's length.

    >>> round_length(23_400), round_length(4_999), round_length(1_000)
    (20000.0, 2000.0, 1000.0)
    """
    if not (limit_m > 0 and math.isfinite(limit_m)):
        raise ValueError(f"{limit_m!r} is not a positive length")
    power = 10.0 ** math.floor(math.log10(limit_m))
    return max(step * power for step in (1, 2, 5) if step * power <= limit_m * (1 + 1e-12))


def scale_bar(projection: LocalProjection, x0: float, y0: float, map_width_m: float,
              fraction: float = 0.22) -> tuple[float, float]:
    """A scale bar starting at ``(x0, y0)`` (projected metres): its true length in metres and its
    length in map units, corrected by the geodesic at that place so the bar is exact there.
    """
    length_m = round_length(map_width_m * fraction)
    lon, lat = projection.inverse([x0, x0 + length_m], [y0, y0])
    true_m = _GEOD.inv(lon[0], lat[0], lon[1], lat[1])[2]
    return length_m, length_m * length_m / true_m


def north_angle(projection: LocalProjection, x: float, y: float) -> float:
    """Direction of true north at a projected point, in degrees anticlockwise from the map's up."""
    lon, lat = projection.inverse(x, y)
    nx, ny = projection.forward(lon, min(float(lat) + 0.01, 89.99))
    return math.degrees(math.atan2(-(float(nx) - x), float(ny) - y))


def scale_label(metres: float, lang: str) -> str:
    """A scale bar's length as its label says it: kilometres from 1 km up, else metres.

    >>> scale_label(2000, "zh"), scale_label(500, "en")
    ('2 公里', '500 m')
    """
    if metres >= 1000:
        value = metres / 1000
        return f"{value:g} km" if lang == "en" else f"{value:g} 公里"
    return f"{metres:g} m" if lang == "en" else f"{metres:g} 米"
