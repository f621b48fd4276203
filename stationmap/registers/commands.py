"""``stationmap import`` and ``stationmap export``: their arguments and what they run.

Kept here rather than in :mod:`stationmap.cli` so the CLI module stays small; ``cli`` only
registers the two commands and dispatches to :func:`run_import` and :func:`run_export`.
"""

from __future__ import annotations

import argparse
import sys

from .. import coords, vocab
from ..errors import InputError


def add_commands(commands) -> None:
    """Register ``import`` and ``export`` on the CLI's sub-command parsers."""
    importer = commands.add_parser(
        "import", help="import a union register (XLSX, CSV, GeoJSON, GeoPackage, GeoParquet)",
        description="Read a union's sheet as it is kept (Chinese or English headers, hours written in "
                    "Chinese, AMap coordinates) and show or apply what it changes.")
    importer.add_argument("file", nargs="?", help="the register file")
    importer.add_argument("--sheet", metavar="NAME", help="XLSX: the sheet to read (default: the first)")
    importer.add_argument("--coordsys", choices=coords.COORDSYS,
                          help="system of the sheet's coordinates unless a row's 坐标系 says otherwise "
                               "(default gcj02 for sheets, as picked on AMap; wgs84 for geo files)")
    importer.add_argument("--encoding", metavar="E", help="CSV text encoding (default: detected; e.g. gb18030, utf-8)")
    importer.add_argument("--dry-run", action="store_true", help="only report what the import would do")
    importer.add_argument("--mode", default="upsert", choices=("upsert", "replace-area"),
                          help="upsert (default) or replace-area: also remove the area's stations the sheet omits")
    importer.add_argument("--adcode", help="replace-area: the area (a district's or city's 6-digit code)")
    importer.add_argument("--reason", metavar="TEXT", help="why: recorded with the import")
    importer.add_argument("--report", metavar="FILE.xlsx", help="also write the report as an Excel workbook")
    importer.add_argument("--stations", metavar="CURRENT",
                          help="dry run only: compare with this stations file instead of the store")
    importer.add_argument("--revert", type=int, metavar="ID", help="undo import number ID (all or nothing)")
    importer.add_argument("--database", metavar="URL", help="the store (default: $STATIONMAP_DATABASE_URL, "
                                                            "else register.gpkg in the instance folder)")
    importer.add_argument("--lang", default="zh", choices=vocab.LANGUAGES, help="report language (default zh)")
    from ..cli_store import add_as

    add_as(importer)

    exporter = commands.add_parser("export", help="export the register for open data (.gpkg, .geojson, .csv, .xlsx)",
                                   description="CSV with a BOM for Excel; formula-like cells written as text.")
    exporter.add_argument("file", help="where to write: .gpkg, .geojson, .csv or .xlsx")
    exporter.add_argument("--stations", metavar="FILE", help="stations file (default: the shipped Shanghai sample)")
    exporter.add_argument("--lang", default="en", choices=vocab.LANGUAGES,
                          help="CSV/XLSX headers and labels: zh (Chinese) or en (schema codes, default)")


def _check_arguments(args: argparse.Namespace) -> None:
    if args.revert is not None:
        if args.file or args.dry_run or args.stations:
            raise InputError("--revert ID takes no file, --dry-run or --stations", field="revert")
        return
    if not args.file:
        raise InputError("name the register file to import (or --revert ID)", field="file")
    if args.mode == "replace-area" and not args.adcode:
        raise InputError("--mode replace-area needs --adcode (the area it replaces)", field="adcode")
    if args.adcode and args.mode != "replace-area":
        raise InputError("--adcode is only for --mode replace-area", field="adcode")
    if args.stations and not args.dry_run:
        raise InputError("--stations compares with a file, which cannot be changed: use it with --dry-run, "
                         "or import into the store (--database)", field="stations")


def run_import(args: argparse.Namespace) -> int:
    """Plan the import, print its report (and the Excel one), then apply it to the store in one
    transaction unless ``--dry-run``; or undo an import with ``--revert``.
    """
    from .._files import atomic_path
    from ..cli_store import actor_for, database_url
    from ..store import Store
    from .applying import apply_plan, current_register
    from .importing import plan_import, refuse_if_bad
    from .plan_report import text_report, xlsx_report

    _check_arguments(args)
    store = None if args.stations else Store.open(database_url(args.database))
    try:
        if store is not None and args.revert is not None:
            version = store.revert_import(args.revert, actor=actor_for(store, args.as_user),
                                          reason=args.reason or "")
            print(f"import {args.revert} reverted, register version {version} "
                  f"（导入 {args.revert} 已撤销，登记版本 {version}）")
            return 0
        if store is None:
            from ..stations import read_stations

            current = read_stations(args.stations)
        else:
            current = current_register(store)
        plan = plan_import(args.file, current, mode=args.mode, adcode=args.adcode, coordsys=args.coordsys,
                           sheet=args.sheet, encoding=args.encoding)
        sys.stdout.write(text_report(plan, args.lang))
        if args.report:
            with atomic_path(args.report) as temp:
                temp.write_bytes(xlsx_report(plan))
        refuse_if_bad(plan)
        if args.dry_run or store is None:
            return 0
        result = apply_plan(store, plan, current, actor=actor_for(store, args.as_user),
                            reason=args.reason or "")
        counts = result.counts
        print(f"import {result.import_id}: added {counts['added']}, changed {counts['changed']}, "
              f"restored {counts['restored']}, removed {counts['removed']}, unchanged {counts['unchanged']}; "
              f"register version {result.register_version} "
              f"（导入编号 {result.import_id}；撤销：stationmap import --revert {result.import_id}）")
        return 0
    finally:
        if store is not None:
            store.close()


def run_export(args: argparse.Namespace) -> int:
    """Write the register to a file for open data."""
    from ..stations import read_stations
    from .exporting import export_stations

    stations = read_stations(args.stations)
    out = export_stations(stations, args.file, lang=args.lang)
    print(f"wrote {len(stations)} stations to {out}", file=sys.stderr)
    return 0
