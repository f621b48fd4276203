"""Alembic migrations of the register's schema, run by :mod:`stationmap.store.migrate`, never by hand."""
