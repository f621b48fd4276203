"""The store of record: the station register in a database, with versions and history.

Two backends, one schema (:mod:`.schema`) and one data-access API (:class:`Store`):

- the default, a single SQLite file that is also a GeoPackage (QGIS and ``ogrinfo`` open it),
  needing nothing beyond ``pip install``;
- PostgreSQL + PostGIS, for production and for more than one app server.

Migrations are Alembic scripts shipped in :mod:`stationmap.store.migrations`.

Examples
--------
>>> import tempfile, pathlib
>>> from stationmap.stations import read_stations
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = Store.open(f"sqlite:///{folder / 'register.gpkg'}", upgrade=True)
>>> store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="").counts["added"]
1446
>>> from stationmap.accounts import Account
>>> version = store.update("SH-310101-0010", {"phone": "021-63000000"}, expected_version=1,
...                        actor=Account.operator("doc"), reason="new phone")
>>> [c.action for c in store.history("SH-310101-0010")], store.register_version()
(['created', 'updated'], 2)
>>> store.close()
"""

from __future__ import annotations

from .bulk import MODES, ImportResult
from .register import Change, Conflict, NotFound, RegisterInfo, SchemaError, Store, current_user, describe
from .settings import default_url, resolve_url

__all__ = ["MODES", "Change", "Conflict", "ImportResult", "NotFound", "RegisterInfo", "SchemaError", "Store",
           "current_user", "default_url", "describe", "resolve_url"]
