"""A point column that is PostGIS ``geometry(Point,4326)`` on PostgreSQL and a GeoPackage
geometry on SQLite.

Why not GeoAlchemy2's own GeoPackage dialect: it loads the ``mod_spatialite`` extension, a Debian
package, and ``pip install .`` alone must give a working register. A GeoPackage geometry is
simple enough to write in Python: the 8-byte ``GP`` header (version 0, little-endian flags, no
envelope, the SRS id) followed by the point as ISO WKB (GeoPackage 1.4, clause 2.1.3). GDAL,
QGIS and ``ogrinfo`` read such a file as any GeoPackage.

Values are shapely points or ``(lon, lat)`` pairs (WGS-84) when written, shapely points when read,
or ``None`` (a station that still needs a location).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from sqlalchemy.types import LargeBinary, Text, TypeDecorator, UserDefinedType

SRID = 4326
_HEADER = struct.Struct("<2sBBi")          # magic, version, flags, srs_id
_LITTLE_ENDIAN, _EMPTY = 0b1, 0b1_0000


_POINT_WKB = struct.Struct("<BIdd")      # little-endian, type 1 (Point), x, y


def to_gpkg_header(*, empty: bool = False) -> bytes:
    """The 8-byte GeoPackage header of a WGS-84 geometry without an envelope (flagged when empty)."""
    return _HEADER.pack(b"GP", 0, _LITTLE_ENDIAN | (_EMPTY if empty else 0), SRID)


def to_gpkg(point: shapely.Point | Sequence[float]) -> bytes:
    """A GeoPackage geometry blob for a point or an ``(x, y)`` pair (empty points are flagged as
    the spec says). Pairs are packed directly: seeding 186k stations must not build 186k shapely
    objects.
    """
    if not isinstance(point, shapely.Point):
        return _HEADER.pack(b"GP", 0, _LITTLE_ENDIAN, SRID) + _POINT_WKB.pack(1, 1, float(point[0]), float(point[1]))
    flags = _LITTLE_ENDIAN | (_EMPTY if point.is_empty else 0)
    return _HEADER.pack(b"GP", 0, flags, SRID) + shapely.to_wkb(point, byte_order=1, flavor="iso")


def from_gpkg(blob: bytes) -> shapely.Point:
    """The point in a GeoPackage geometry blob (any envelope, either byte order)."""
    magic, _version, flags, _srid = _HEADER.unpack_from(blob)
    if magic != b"GP":
        raise ValueError("not a GeoPackage geometry")
    envelope = (flags >> 1) & 0b111
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[envelope]
    return shapely.from_wkb(bytes(blob[_HEADER.size + size:]))


class _GeoPackagePoint(UserDefinedType):
    """The declared type GeoPackage readers expect for a point column."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        """``POINT``: the GeoPackage spec's name, which QGIS and ogr read as the column's geometry type."""
        return "POINT"


class Point(TypeDecorator):
    """A WGS-84 point: PostGIS geometry on PostgreSQL, a GeoPackage blob elsewhere."""

    impl = LargeBinary
    cache_ok = True
    #: GeoAlchemy2's DDL hooks read these; the GiST index is created by the migration itself.
    spatial_index = False
    use_N_D_index = False

    def load_dialect_impl(self, dialect):
        """PostGIS ``geometry(POINT, 4326)`` on PostgreSQL (so it is indexed and queried as geometry), else the blob."""
        # GeoAlchemy2's DDL hooks ask with ``dialect=None`` whether a column is spatial.
        if dialect is None or dialect.name == "postgresql":
            geometry = Geometry("POINT", srid=SRID, spatial_index=False)
            return dialect.type_descriptor(geometry) if dialect is not None else geometry
        return dialect.type_descriptor(_GeoPackagePoint())

    def process_bind_param(self, value: shapely.Point | Sequence[float] | None, dialect) -> Any:
        """A point or ``(lon, lat)`` as EWKT for PostGIS (full precision), or a GeoPackage blob."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            if not isinstance(value, shapely.Point):
                return f"SRID={SRID};POINT({float(value[0])!r} {float(value[1])!r})"
            return f"SRID={SRID};{shapely.to_wkt(value, rounding_precision=-1)}"
        return to_gpkg(value)

    def process_result_value(self, value: Any, dialect) -> shapely.Point | None:
        """A shapely point from whichever form the driver returns (WKB element, hex WKB, or GeoPackage blob)."""
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return shapely.from_wkb(bytes(value.data) if not isinstance(value.data, str) else value.data)
        if isinstance(value, str):
            return shapely.from_wkb(value)
        data = bytes(value)
        return from_gpkg(data) if data[:2] == b"GP" else shapely.from_wkb(data)


class Json(TypeDecorator):
    """A JSON document: ``jsonb`` on PostgreSQL, ``TEXT`` in the GeoPackage (whose readers know no
    ``JSON`` column type).
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        """``jsonb`` on PostgreSQL (queryable, compact), plain ``TEXT`` elsewhere."""
        if dialect is not None and dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect) -> Any:
        """The value as JSON text for the GeoPackage, Chinese kept readable; PostgreSQL's driver encodes it itself."""
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Any, dialect) -> Any:
        """The decoded document (PostgreSQL's driver has already decoded ``jsonb``)."""
        if value is None or not isinstance(value, str):
            return value
        return json.loads(value)
