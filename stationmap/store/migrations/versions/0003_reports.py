"""Workers' reports on stations, and the daily keys of their anonymous client hashes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``reports`` (one vote per client, station and day: a unique key) and ``report_keys``."""
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.Text, nullable=False),
        sa.Column("station_version", sa.Integer, nullable=False),
        sa.Column("adcode", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("amenity", sa.Text, nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("contact", sa.Text, nullable=False, server_default=""),
        sa.Column("client_key", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("resolved_by", sa.Text, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
        sa.Column("merged_into", sa.Integer, nullable=True),
        sa.UniqueConstraint("station_id", "day", "client_key", name="uq_reports_one_vote_a_day"),
    )
    op.create_index("ix_reports_station_id", "reports", ["station_id"])
    op.create_index("ix_reports_made_at", "reports", ["made_at"])
    op.create_table(
        "report_keys",
        sa.Column("day", sa.Text, primary_key=True),
        sa.Column("secret", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop both tables (the reports go with them)."""
    op.drop_table("report_keys")
    op.drop_table("reports")
