"""Alembic, configured in code: the migration scripts ship inside the package, so ``stationmap db
upgrade`` works from an installed wheel with no ``alembic.ini`` anywhere.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .engine import WRITE

SCRIPTS = Path(__file__).with_name("migrations")


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest schema revision this version of stationmap knows."""
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: sa.Engine) -> str | None:
    """The store's schema revision (``None``: an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Create the schema in an empty store, or migrate an older one, in one transaction."""
    with engine.connect() as connection:
        connection.execution_options(**WRITE)
        with connection.begin():
            command.upgrade(_config(connection), "head")
