"""``stationmap db …`` and ``stationmap station …``: the register from the command line.

Every change is recorded as made by the operating-system user (``cli:OSUSER``, with an admin's
rights: whoever runs the command can reach the database anyway), or with ``--as NAME`` by that
person's account with that person's rights (an editor's districts only), with the ``--reason``
given. Both pass through the same permission check as the web (:mod:`stationmap.permissions`).
A bad value exits with status 2 and one message naming the field (see :mod:`stationmap.cli`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from . import vocab
from .errors import InputError
from .safetext import for_terminal

_DATABASE_HELP = ("store URL: sqlite:///FILE.gpkg or postgresql://USER@HOST/DB (default: $STATIONMAP_DATABASE_URL, "
                  "else register.gpkg in the instance folder, seeded from the shipped sample)")


def add_parsers(commands: Any) -> None:
    """Add the ``db`` and ``station`` commands to the ``stationmap`` parser."""
    db = commands.add_parser("db", help="create, migrate or seed the station register (the store)",
                             description="The store of record: a GeoPackage file or PostgreSQL + PostGIS.")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=type(db))
    upgrade = db_commands.add_parser("upgrade", help="create the schema, or migrate it to this version")
    init = db_commands.add_parser("init", help="create a new store and fill it from a stations file")
    init.add_argument("--from", dest="source", required=True, metavar="FILE",
                      help="GeoJSON, GeoPackage, GeoParquet or CSV, as `stationmap nearest --stations` reads")
    init.add_argument("--reason", default="", help="why (kept in the history)")
    for parser in (upgrade, init):
        parser.add_argument("--database", metavar="URL", help=_DATABASE_HELP)

    station = commands.add_parser("station", help="change one station, or show its history",
                                  description="Edit the register: every change keeps who, when, what and why.")
    station_commands = station.add_subparsers(dest="station_command", required=True, parser_class=type(station))
    edit = station_commands.add_parser("set", help="set fields: stationmap station set ID phone=021-… --reason …")
    edit.add_argument("id")
    edit.add_argument("assignments", nargs="+", metavar="FIELD=VALUE",
                      help="fields of the station record, lon=/lat= (with coordsys=gcj02|bd09 for a point "
                           "picked on AMap or Baidu); an empty value clears a field")
    close = station_commands.add_parser("close", help="close a station for a while (status temporarily_closed)")
    close.add_argument("id")
    close.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="the day it is expected to reopen")
    reopen = station_commands.add_parser("reopen", help="open a closed station again")
    reopen.add_argument("id")
    delete = station_commands.add_parser("delete", help="remove a station (history keeps it)")
    delete.add_argument("id")
    for parser in (edit, close, reopen, delete):
        parser.add_argument("--reason", required=True, help="why (kept in the history)")
        add_as(parser)
        parser.add_argument("--version", type=int, metavar="N",
                            help="refuse the change unless the station is still at version N")
    show = station_commands.add_parser("history", help="every version of a station: who, when, what, why")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--lang", default="zh", choices=vocab.LANGUAGES)
    for parser in (edit, close, reopen, delete, show):
        parser.add_argument("--database", metavar="URL", help=_DATABASE_HELP)


def add_as(parser: Any) -> None:
    """``--as NAME``: act as a person's account, with their rights (default: the operator, an admin)."""
    parser.add_argument("--as", dest="as_user", metavar="NAME",
                        help="act as this account, with its rights and in its name (default: you, as operator)")


def actor_for(store, name: str | None):
    """The account a command acts as: ``--as NAME``'s, or the operating-system user as operator."""
    from .accounts import Account
    from .store import current_user

    if name:
        return store.account(name).acting_from("cli")
    return Account.operator(current_user())


def database_url(explicit: str | None) -> str:
    """``--database``, else ``STATIONMAP_DATABASE_URL``, else the default file (created and seeded
    from the shipped sample the first time, as ``stationmap serve`` does).
    """
    from .store.settings import ensure_default, instance_path, resolve_url

    folder = instance_path()
    url = resolve_url(explicit, folder)
    if url == f"sqlite:///{Path(folder).resolve() / 'register.gpkg'}":
        ensure_default(folder)
    return url


def run(args: argparse.Namespace) -> int:
    """Run a ``db`` or ``station`` command; returns the exit status."""
    from .store import Store

    if args.command == "db":
        store = Store.open(args.database or database_url(None), upgrade=True)
        try:
            if args.db_command == "init":
                return _init(store, args)
            print(f"{store.label}: schema up to date, register version {store.register_version()}")
            return 0
        finally:
            store.close()
    store = Store.open(database_url(args.database))
    try:
        if args.station_command == "history":
            return _history(store, args)
        return _edit(store, args)
    finally:
        store.close()


def _init(store, args: argparse.Namespace) -> int:
    from .stations import default_path, read_stations

    path = Path(args.source)
    frame = read_stations(path)
    result = store.seed(frame, file_name=path.name, digest=hashlib.sha256(path.read_bytes()).hexdigest(),
                        reason=args.reason, is_sample=path.resolve() == default_path().resolve())
    print(f"{store.label}: {result.counts['added']} stations from {path.name}, "
          f"register version {result.register_version}")
    return 0


def _assignments(pairs: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise InputError(f"{pair!r} is not FIELD=VALUE", field=field.strip() or pair)
        fields[field.strip()] = value
    return fields


def _edit(store, args: argparse.Namespace) -> int:
    actor = actor_for(store, args.as_user)
    if args.station_command == "delete":
        version = store.delete(args.id, expected_version=args.version, actor=actor, reason=args.reason)
    else:
        if args.station_command == "set":
            fields: dict[str, Any] = _assignments(args.assignments)
        elif args.station_command == "close":
            try:
                until = date.fromisoformat(args.until)
            except ValueError:
                raise InputError(f"{args.until!r} is not a date (YYYY-MM-DD)", field="until") from None
            fields = {"status": "temporarily_closed", "closed_until": until.isoformat()}
        else:
            fields = {"status": "open", "closed_until": ""}
        version = store.update(args.id, fields, expected_version=args.version, actor=actor,
                               reason=args.reason)
    print(f"{for_terminal(args.id)}: version {version}, register version {store.register_version()}")
    return 0


_HEADS = {"zh": ("版本", "时间（UTC）", "操作者", "操作", "变更", "原因"),
          "en": ("Version", "When (UTC)", "Who", "Action", "Changes", "Reason")}
_ACTIONS = {"zh": {"created": "新增", "updated": "修改", "deleted": "删除", "restored": "恢复"}}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _history(store, args: argparse.Namespace) -> int:
    from .store import NotFound

    changes = store.history(args.id)
    if not changes:
        raise NotFound(f"no station {args.id!r}")
    if args.json:
        print(json.dumps({"id": args.id, "history": [c.as_json() for c in changes]}, ensure_ascii=False, indent=2))
        return 0
    rows = []
    for c in changes:
        what = "; ".join(f"{field}: {_short(old)} → {_short(new)}" for field, (old, new) in c.changes.items())
        if c.action == "created":
            what = f"{len(c.changes)} fields" if args.lang == "en" else f"{len(c.changes)} 项"
        action = _ACTIONS.get(args.lang, {}).get(c.action, c.action)
        reason = c.reason + (f" (import {c.import_id})" if c.import_id else "")
        rows.append([str(c.version), c.at.strftime("%Y-%m-%d %H:%M:%S"), c.who, action, what, reason])
    rows = [[for_terminal(cell) for cell in row] for row in rows]
    heads = list(_HEADS[args.lang])
    widths = [max(_width(r[i]) for r in [heads, *rows]) for i in range(len(heads) - 1)]
    for row in [heads, *rows]:
        print("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
    return 0


def _short(value: Any) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, list):
        return ",".join(f"{v:.6f}" for v in value)
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
