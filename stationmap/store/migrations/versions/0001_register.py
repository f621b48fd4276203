"""The register: stations, their history, imports and the register version.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from stationmap.store import geopackage
from stationmap.store.types import Json, Point

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TEXT = ("name", "name_en", "type", "access", "amenities", "opening_hours", "operator", "address", "phone",
         "adcode", "status", "last_verified", "source", "opening_hours_text")


def upgrade() -> None:
    """Create the register's tables (and, in a GeoPackage, the metadata its readers need first)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        geopackage.create(bind)
    op.create_table(
        "stations",
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        *(sa.Column(name, sa.Text, nullable=False, server_default="") for name in _TEXT),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("closed_until", sa.Text, nullable=False, server_default=""),
        sa.Column("changed_in", sa.Integer, nullable=False),
        sa.Column("location", Point, nullable=True),
    )
    op.create_index("ix_stations_changed_in", "stations", ["changed_in"])
    if bind.dialect.name == "postgresql":
        op.create_index("ix_stations_location", "stations", ["location"], postgresql_using="gist")
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("adcode", sa.Text, nullable=False, server_default=""),
        sa.Column("counts", Json, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("register_version", sa.Integer, nullable=False),
        sa.Column("reverted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reverted_in", sa.Integer, nullable=True),
    )
    op.create_table(
        "station_history",
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("register_version", sa.Integer, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changes", Json, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
        sa.UniqueConstraint("station_id", "version"),
    )
    op.create_index("ix_station_history_station_id", "station_history", ["station_id"])
    op.create_index("ix_station_history_register_version", "station_history", ["register_version"])
    register = op.create_table(
        "register",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.bulk_insert(register, [{"id": 1, "version": 0, "changed": datetime.now(UTC), "is_sample": False}])


def downgrade() -> None:
    """Drop the tables, history before the imports it refers to (``alembic downgrade base``, for starting over)."""
    for table in ("register", "station_history", "imports", "stations"):
        op.drop_table(table)
