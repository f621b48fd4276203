"""The register's tables, one schema for PostgreSQL + PostGIS and for the GeoPackage default.

``stations`` holds every column of :data:`stationmap.stations.COLUMNS` plus what a living register
needs: ``version`` (each station's own, for optimistic locking: an edit names the version it
started from), ``deleted`` (a soft delete: history keeps everything), ``location`` (nullable: a
station without one "needs a location", is kept and listed, and is never answered as nearest),
``opening_hours_text`` (the hours as the union wrote them) and ``changed_in`` (the register
version of its last change, for the changes feed). GeoPackage readers need an integer primary
key on a feature table, hence ``fid`` beside the station's own ``id``.

``register`` is a single row: the register version, one number bumped in the same transaction as
every change (edits, imports, reverts), which answers, pages and the index name.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..stations import COLUMNS
from .types import Json, Point

metadata = sa.MetaData()
Text = sa.Text
UTC = sa.DateTime(timezone=True)

#: The station record's own text columns (``id`` has its own definition).
TEXT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "id") + ("opening_hours_text",)

stations = sa.Table(
    "stations", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", Text, nullable=False, unique=True),
    *(sa.Column(name, Text, nullable=False, server_default="") for name in TEXT_COLUMNS),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("closed_until", Text, nullable=False, server_default=""),
    sa.Column("changed_in", sa.Integer, nullable=False, index=True),
    sa.Column("location", Point, nullable=True),
)

imports = sa.Table(
    "imports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file_name", Text, nullable=False),
    sa.Column("sha256", Text, nullable=False),
    sa.Column("mode", Text, nullable=False),
    sa.Column("adcode", Text, nullable=False, server_default=""),
    sa.Column("counts", Json, nullable=False),
    sa.Column("reason", Text, nullable=False, server_default=""),
    sa.Column("who", Text, nullable=False),
    sa.Column("at", UTC, nullable=False),
    sa.Column("register_version", sa.Integer, nullable=False),
    sa.Column("reverted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reverted_in", sa.Integer, nullable=True),
)

history = sa.Table(
    "station_history", metadata,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", Text, nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("register_version", sa.Integer, nullable=False, index=True),
    sa.Column("who", Text, nullable=False),
    sa.Column("at", UTC, nullable=False),
    sa.Column("action", Text, nullable=False),      # created | updated | deleted | restored
    sa.Column("changes", Json, nullable=False),  # {field: [old, new]}
    sa.Column("reason", Text, nullable=False, server_default=""),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=True),
    sa.UniqueConstraint("station_id", "version"),
)

register = sa.Table(
    "register", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed", UTC, nullable=False),
    #: Seeded from the shipped synthetic sample: every map made from it must say so.
    sa.Column("is_sample", sa.Boolean, nullable=False, server_default=sa.false()),
)

#: Workers' reports on stations (:mod:`stationmap.station_reports`): no raw client address, no
#: position; ``client_key`` is a keyed hash under the day's key, unique per station and day.
reports = sa.Table(
    "reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", Text, nullable=False, index=True),
    sa.Column("station_version", sa.Integer, nullable=False),
    sa.Column("adcode", Text, nullable=False, server_default=""),   # the station's district then: staff queues
    sa.Column("kind", Text, nullable=False),
    sa.Column("amenity", Text, nullable=False, server_default=""),
    sa.Column("note", Text, nullable=False, server_default=""),
    sa.Column("contact", Text, nullable=False, server_default=""),
    sa.Column("client_key", Text, nullable=False),
    sa.Column("day", Text, nullable=False),
    sa.Column("made_at", UTC, nullable=False, index=True),
    sa.Column("status", Text, nullable=False, server_default="open"),
    sa.Column("resolved_by", Text, nullable=True),
    sa.Column("resolved_at", UTC, nullable=True),
    sa.Column("resolution", Text, nullable=False, server_default=""),
    sa.Column("merged_into", sa.Integer, nullable=True),
    sa.UniqueConstraint("station_id", "day", "client_key", name="uq_reports_one_vote_a_day"),
)

#: The random key of each service day's client hashes; a day's key is deleted the day after.
report_keys = sa.Table(
    "report_keys", metadata,
    sa.Column("day", Text, primary_key=True),
    sa.Column("secret", Text, nullable=False),
)

#: People who keep the register (see :mod:`stationmap.accounts`): an Argon2id hash, never a password.
accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", Text, nullable=False, unique=True),
    sa.Column("password_hash", Text, nullable=False),
    sa.Column("role", Text, nullable=False),
    sa.Column("adcodes", Json, nullable=False),        # ["310104", ...] for an editor
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", UTC, nullable=False),
)

#: API tokens for scripts: only the SHA-256 digest is kept (a token is 256 random bits, so a fast
#: hash suffices), the token itself is shown once.
api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("digest", Text, nullable=False, unique=True),
    sa.Column("label", Text, nullable=False, server_default=""),
    sa.Column("created", UTC, nullable=False),
    sa.Column("revoked", UTC, nullable=True),
    sa.Column("last_used", UTC, nullable=True),
)

#: Every change to stations, imports and accounts, and every refusal: who, when, from where, what.
audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTC, nullable=False, index=True),
    sa.Column("who", Text, nullable=False, index=True),
    sa.Column("role", Text, nullable=False),
    sa.Column("source", Text, nullable=False),          # web | api | ogc | cli | admin
    sa.Column("address", Text, nullable=False, server_default=""),
    sa.Column("action", Text, nullable=False),          # one of stationmap.permissions.ACTIONS
    sa.Column("target_kind", Text, nullable=False),     # station | import | account | report
    sa.Column("target_id", Text, nullable=False, server_default="", index=True),
    sa.Column("before", Json, nullable=True),
    sa.Column("after", Json, nullable=True),
    sa.Column("reason", Text, nullable=False, server_default=""),
    sa.Column("outcome", Text, nullable=False),         # done | refused
    sa.Column("register_version", sa.Integer, nullable=True),
)
