"""Chinese map coordinate systems: WGS-84, GCJ-02 and BD-09.

Every station is stored in WGS-84 (what GPS and OpenStreetMap use). Phones and map apps in
China speak other systems: AMap and Tencent use GCJ-02, which is WGS-84 pushed by an
obfuscating offset of 21–698 m (about 500 m in Shanghai); Baidu uses BD-09, a further
shift of GCJ-02. A point in the wrong system lands on the wrong street, so every coordinate
that enters or leaves stationmap passes through :func:`convert`.

The forward GCJ-02 formula is public. Its inverse is not closed-form; the common one-step
inverse errs by 1–5 m, so :func:`gcj02_to_wgs84` iterates the forward formula to a fixed
point (well under a millimetre). BD-09's inverse is done the same way. As the providers do,
points outside China's bounding box are passed through unchanged.

All functions take scalars or array-likes and return ``numpy`` arrays (0-d for scalars).

Examples
--------
>>> lon, lat = wgs84_to_gcj02(121.4998, 31.2397)      # Lujiazui
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(float(back[0]), 9), round(float(back[1]), 9)
(121.4998, 31.2397)
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import InputError

CoordSys = Literal["wgs84", "gcj02", "bd09"]
COORDSYS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

# GCJ-02 works on the Krasovsky 1940 ellipsoid.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09's extra shift.
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006
# The box the providers treat as "China" (the same one prcoords and most SDKs use).
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)

# Iteration stops when the forward image is this close to the target, in degrees
# (1e-11 degrees is about a micrometre).
_TOLERANCE_DEG = 1e-11
_MAX_ITERATIONS = 30

Array = NDArray[np.float64]

#: The functions the offset formula needs, for one point in plain floats: NumPy on 0-d arrays
#: costs about 3 µs a call, forty calls a point, which a web request should not pay.
_MATH = SimpleNamespace(sin=math.sin, cos=math.cos, sqrt=math.sqrt, abs=abs, radians=math.radians)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the box where Chinese map providers shift coordinates."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    west, south, east, north = CHINA_BBOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _gcj_offset(lon, lat, xp=np):
    """The GCJ-02 offset (degrees) at a WGS-84 point, with no China check.

    ``xp`` is ``numpy`` for arrays or :data:`_MATH` for one point in plain floats.
    """
    pi = math.pi
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = xp.sqrt(xp.abs(x))
    common = (20.0 * xp.sin(6.0 * x * pi) + 20.0 * xp.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
        + common
        + (20.0 * xp.sin(y * pi) + 40.0 * xp.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * xp.sin(y / 12.0 * pi) + 320.0 * xp.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
        + common
        + (20.0 * xp.sin(x * pi) + 40.0 * xp.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * xp.sin(x / 12.0 * pi) + 300.0 * xp.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = xp.radians(lat)
    magic = 1.0 - _GCJ_EE * xp.sin(rad_lat) ** 2
    sqrt_magic = xp.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * xp.cos(rad_lat) * pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def _gcj_forward(lon: Array, lat: Array) -> tuple[Array, Array]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 to BD-09, with no China check."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _invert(forward, lon: Array, lat: Array) -> tuple[Array, Array]:
    """Solve ``forward(x) == target`` by fixed-point iteration.

    Both shifts are small, smooth perturbations of the identity (Jacobian within 1e-4 of I),
    so ``x <- x - (forward(x) - target)`` contracts by about four orders of magnitude a step.
    """
    x_lon, x_lat = lon.copy(), lat.copy()
    active = np.arange(lon.size)
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(x_lon[active], x_lat[active])
        d_lon, d_lat = f_lon - lon[active], f_lat - lat[active]
        x_lon[active] -= d_lon
        x_lat[active] -= d_lat
        moving = (np.abs(d_lon) > _TOLERANCE_DEG) | (np.abs(d_lat) > _TOLERANCE_DEG)
        if not moving.any():
            break
        active = active[moving]          # iterate only the points still moving
    return x_lon, x_lat


def _shift_in_china(transform, lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = in_china(lon_a, lat_a)
    if inside.any():
        new_lon, new_lat = transform(lon_a[inside], lat_a[inside])
        lon_a[inside] = new_lon
        lat_a[inside] = new_lat
    return lon_a, lat_a


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 to GCJ-02 (AMap, Tencent). Plain floats in, plain floats out (faster for one point)."""
    if isinstance(lon, float) and isinstance(lat, float):
        west, south, east, north = CHINA_BBOX
        if not (west <= lon <= east and south <= lat <= north):
            return lon, lat
        dlon, dlat = _gcj_offset(lon, lat, _MATH)
        return lon + dlon, lat + dlat
    return _shift_in_china(_gcj_forward, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 to WGS-84 by exact iterative inverse (round trip well under 1 mm)."""
    return _shift_in_china(lambda x, y: _invert(_gcj_forward, x, y), lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 to BD-09 (Baidu)."""
    return _shift_in_china(_bd_forward, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 to GCJ-02 by exact iterative inverse."""
    return _shift_in_china(lambda x, y: _invert(_bd_forward, x, y), lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 to BD-09: GCJ-02 shift, then Baidu's."""
    return _shift_in_china(lambda x, y: _bd_forward(*_gcj_forward(x, y)), lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 to WGS-84, inverting both shifts exactly."""
    def inverse(x: Array, y: Array) -> tuple[Array, Array]:
        return _invert(_gcj_forward, *_invert(_bd_forward, x, y))

    return _shift_in_china(inverse, lon, lat)


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def check_coordsys(coordsys: str) -> str:
    """Return ``coordsys`` lower-cased, or raise ``ValueError`` naming the choices."""
    name = str(coordsys).strip().lower()
    if name not in COORDSYS:
        raise ValueError(f"unknown coordinate system {coordsys!r}; use one of {', '.join(COORDSYS)}")
    return name


def convert(lon: ArrayLike, lat: ArrayLike, source: str, target: str) -> tuple[Array, Array]:
    """Convert points between ``wgs84``, ``gcj02`` and ``bd09``.

    Examples
    --------
    >>> lon, lat = convert(121.4998, 31.2397, "wgs84", "bd09")
    >>> lon2, lat2 = convert(lon, lat, "bd09", "wgs84")
    >>> abs(float(lon2) - 121.4998) < 1e-9 and abs(float(lat2) - 31.2397) < 1e-9
    True
    """
    source, target = check_coordsys(source), check_coordsys(target)
    if source == target:
        return _as_arrays(lon, lat)
    return _CONVERTERS[(source, target)](lon, lat)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, coordsys: str) -> tuple[Array, Array]:
    """Bring points given in ``coordsys`` into WGS-84."""
    return convert(lon, lat, coordsys, "wgs84")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, coordsys: str) -> tuple[Array, Array]:
    """Express WGS-84 points in ``coordsys``."""
    return convert(lon, lat, "wgs84", coordsys)


def geometry_from_wgs84(geometry, coordsys: str):
    """A shapely geometry (or array of them) in WGS-84, every vertex expressed in ``coordsys``:
    outlines and gaps drawn over AMap tiles must be in GCJ-02 like everything else on them.

    Examples
    --------
    >>> import shapely
    >>> moved = geometry_from_wgs84(shapely.Point(121.4737, 31.2304), "gcj02")
    >>> round(moved.x - 121.4737, 4), round(moved.y - 31.2304, 4)
    (0.0045, -0.0019)
    """
    import shapely

    if check_coordsys(coordsys) == "wgs84":
        return geometry
    return shapely.transform(geometry, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], coordsys)))


def check_lon_lat(lon: Any, lat: Any, *, row: int | None = None, source: str | None = None
                  ) -> tuple[float, float]:
    """Parse one longitude/latitude pair or raise :class:`InputError` naming the field.

    Examples
    --------
    >>> check_lon_lat("121.5", 31.2)
    (121.5, 31.2)
    >>> check_lon_lat(200, 31.2, row=3)
    Traceback (most recent call last):
    ...
    stationmap.errors.InputError: row 3, field 'lon': 200.0 is outside -180..180
    """
    values = []
    for field, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{value!r} is not a number", field=field, row=row, source=source) from None
        if not math.isfinite(number):
            raise InputError(f"{value!r} is not a finite number", field=field, row=row, source=source)
        if abs(number) > limit:
            raise InputError(f"{number} is outside -{limit:g}..{limit:g}", field=field, row=row,
                             source=source)
        values.append(number)
    return values[0], values[1]


def points_to_wgs84(lon: Array, lat: Array, coordsys: str | ArrayLike) -> tuple[Array, Array]:
    """Points in WGS-84 from arrays in one ``coordsys`` or one system per point; an unknown
    system raises :class:`InputError` on the field ``coordsys``.
    """
    if isinstance(coordsys, str):
        try:
            system = check_coordsys(coordsys)
        except ValueError as exc:
            raise InputError(str(exc), field="coordsys") from None
        return (lon, lat) if system == "wgs84" else to_wgs84(lon, lat, system)
    systems = np.asarray(coordsys, dtype=object)
    lon, lat = lon.copy(), lat.copy()
    for system in set(systems.tolist()):
        try:
            checked = check_coordsys(system)
        except ValueError as exc:
            raise InputError(str(exc), field="coordsys") from None
        rows = systems == system
        lon[rows], lat[rows] = to_wgs84(lon[rows], lat[rows], checked)
    return lon, lat


def _system_name(value: Any) -> str:
    """A ``coordsys`` cell as a system name: spaces and case ignored, empty means WGS-84."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return "wgs84"
    return str(value).strip().lower() or "wgs84"


def points_from_rows(frame: pd.DataFrame, *, source: str | None = None
                     ) -> tuple[Array, Array, list[InputError]]:
    """WGS-84 points of a table's ``lon``/``lat`` columns, each row in the system named in its
    optional ``coordsys`` cell (``wgs84``, ``gcj02`` or ``bd09``; empty means ``wgs84``).

    Every file of points stationmap reads (stations, demand, batch queries) goes through
    here, so they all accept the same cells and explain a bad one the same way. Problems are
    returned, not raised, one :class:`InputError` per bad cell naming field and 1-based row,
    so a caller can report them together with its own; a bad row's point is NaN.

    Examples
    --------
    >>> table = pd.DataFrame({"lon": ["121.4737", "x"], "lat": ["31.2304", "31"],
    ...                       "coordsys": [" GCJ02 ", "baidu"]})
    >>> lon, lat, problems = points_from_rows(table)
    >>> round(float(lon[0]), 4), bool(np.isnan(lon[1]))
    (121.4692, True)
    >>> [p.message for p in problems]       # doctest: +NORMALIZE_WHITESPACE
    ["row 2, field 'lon': 'x' is not a number",
     "row 2, field 'coordsys': unknown coordinate system 'baidu'; use one of wgs84, gcj02, bd09"]
    """
    problems: list[InputError] = []
    lon = np.array(pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    lat = np.array(pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    # Most rows are plain numbers: only the others are parsed one by one, for their message.
    suspicious = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    for i in np.flatnonzero(suspicious):
        try:
            lon[i], lat[i] = check_lon_lat(frame["lon"].iat[i], frame["lat"].iat[i], row=int(i) + 1, source=source)
        except InputError as exc:
            lon[i] = lat[i] = np.nan
            problems.append(exc)
    if "coordsys" not in frame.columns:
        return lon, lat, problems
    systems = np.array([_system_name(v) for v in frame["coordsys"].tolist()], dtype=object)
    for i in np.flatnonzero(~np.isin(systems, COORDSYS)):
        problems.append(InputError(f"unknown coordinate system {systems[i]!r}; use one of {', '.join(COORDSYS)}",
                                   field="coordsys", row=int(i) + 1, source=source))
    for system in ("gcj02", "bd09"):
        rows = (systems == system) & np.isfinite(lon)
        if rows.any():
            lon[rows], lat[rows] = to_wgs84(lon[rows], lat[rows], system)
    return lon, lat, problems
