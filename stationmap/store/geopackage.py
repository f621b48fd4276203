"""What makes the SQLite store a GeoPackage (OGC 12-128r18, version 1.4) that QGIS and ``ogrinfo``
open directly: the application id, the spatial reference systems table, the contents table and
the geometry columns table, with the ``stations`` table registered as point features in WGS-84.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

APPLICATION_ID = 0x47504B47     # "GPKG"
USER_VERSION = 10400            # GeoPackage 1.4.0

_WGS84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
          'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
          'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
          'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')

_TABLES = (
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
       organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
       description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
       identifier TEXT UNIQUE, description TEXT DEFAULT '',
       last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
       min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
       CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
       geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
       CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
       CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
       CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)


def create(connection: Connection) -> None:
    """Create the GeoPackage metadata tables and register ``stations`` (a fresh SQLite file)."""
    connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.exec_driver_sql(f"PRAGMA user_version = {USER_VERSION}")
    for statement in _TABLES:
        connection.exec_driver_sql(statement)
    connection.execute(text(
        "INSERT INTO gpkg_spatial_ref_sys VALUES "
        "('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),"
        "('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),"
        "('WGS 84 geodetic', 4326, 'EPSG', 4326, :wgs84, "
        "'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')"),
        {"wgs84": _WGS84})
    connection.exec_driver_sql(
        "INSERT INTO gpkg_contents "
        "(table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) "
        "VALUES ('stations', 'features', 'stations', 'union rest stations (stationmap register)', "
        "-180, -90, 180, 90, 4326)")
    connection.exec_driver_sql(
        "INSERT INTO gpkg_geometry_columns VALUES ('stations', 'location', 'POINT', 4326, 0, 0)")


def touch(connection: Connection) -> None:
    """Record a change in ``gpkg_contents.last_change`` (readers use it to notice new data)."""
    connection.exec_driver_sql(
        "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = 'stations'")
