"""The ``stationmap`` command.

Every mistake in what a user typed or supplied ends in one clear message naming the field or
row, and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import cli_store, cli_users, coords, vocab
from .errors import DataFileError, InputError, StationmapError
from .safetext import for_terminal

EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are ours: one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


#: Most stations one ``nearest`` query may ask for (``-k``): a rider needs a handful; a larger
#: number is a bulk export, which ``--queries`` and the OGC API do in bounded pages.
K_MAX = 100
#: What ``coverage --out DIR`` writes: a DIR holding only these may be replaced.
COVERAGE_FILES = ("coverage.csv", "coverage.xlsx", "gaps.geojson", "recommendations.csv", "map.html")
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stationmap", description="Union rest stations for outdoor workers in China.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_nearest(commands)
    _add_serve(commands)
    _add_coverage(commands)
    _add_exports(commands)
    cli_store.add_parsers(commands)
    cli_users.add_parsers(commands)
    _add_sample(commands)

    from .registers.commands import add_commands

    add_commands(commands)
    return parser


def _add_nearest(commands: Any) -> None:
    """``stationmap nearest``: one point, or a CSV of them."""
    near = commands.add_parser("nearest", help="the nearest stations to a point, or to each point of a CSV",
                               description="Nearest stations by geodesic distance on WGS-84.")
    near.add_argument("--lat", help="latitude of the query point")
    near.add_argument("--lon", help="longitude of the query point")
    near.add_argument("--coordsys", default="wgs84",
                      help="system of --lat/--lon: wgs84 (GPS), gcj02 (AMap, Tencent) or bd09 (Baidu)")
    near.add_argument("-k", type=int, default=5, help=f"how many stations (default 5, at most {K_MAX})")
    near.add_argument("--radius", type=float, metavar="METRES", help="only stations within this many metres")
    near.add_argument("--type", action="append", default=[], metavar="T",
                      help=f"station type, repeatable: {', '.join(vocab.STATION_TYPES)}")
    near.add_argument("--amenity", action="append", default=[], metavar="A",
                      help=f"required amenity, repeatable: {', '.join(vocab.AMENITIES)}")
    near.add_argument("--access", action="append", default=[], metavar="A",
                      help=f"access, repeatable: {', '.join(vocab.ACCESS)}")
    near.add_argument("--open-at", metavar="ISO8601|now",
                      help="only stations open then (China Standard Time unless an offset is given)")
    near.add_argument("--include-closed", action="store_true",
                      help="also return closed and temporarily closed stations")
    near.add_argument("--stations", metavar="PATH",
                      help="GeoJSON, GeoPackage, GeoParquet or CSV (default: the shipped Shanghai sample)")
    near.add_argument("--json", action="store_true", help="print JSON instead of a table")
    near.add_argument("--lang", default="zh", choices=vocab.LANGUAGES, help="label language (default zh)")
    near.add_argument("--queries", metavar="FILE.csv", help="batch mode: CSV with columns id,lat,lon[,coordsys]")
    near.add_argument("--out", metavar="FILE", help="batch mode: write the CSV here instead of standard output")


def _add_serve(commands: Any) -> None:
    """``stationmap serve``: the web service."""
    serve = commands.add_parser("serve", help="serve the worker and planner pages, embeds, API and OGC API",
                                description="Production WSGI server (gunicorn) unless --dev.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    serve.add_argument("--stations", metavar="PATH", help="stations file (default: the shipped Shanghai sample)")
    serve.add_argument("--database", metavar="URL", help="the register: sqlite:///FILE.gpkg or postgresql://… "
                       "(default: $STATIONMAP_DATABASE_URL, else register.gpkg in the instance folder)")
    serve.add_argument("--dev", action="store_true", help="Flask's development server instead of gunicorn")
    serve.add_argument("--access-log", default="-", metavar="PATH",
                       help="JSON-lines access log: - for stderr (default), a file, or off "
                            "(route templates only: no coordinates, query strings or client addresses)")


def _add_coverage(commands: Any) -> None:
    """``stationmap coverage``: the planners' report."""
    cover = commands.add_parser("coverage", help="coverage by district: table, Excel, gaps and a map",
                                description="How much of each district is within reach of a station.")
    where = cover.add_mutually_exclusive_group()
    where.add_argument("--adcode", help="districts of this area (default 310100, Shanghai; 100000: all of China; "
                                         "others need stationmap[china])")
    where.add_argument("--districts", metavar="FILE",
                       help="GeoJSON/GeoPackage with adcode, name, polygons[, population]")
    cover.add_argument("--stations", metavar="FILE", help="stations file (default: the shipped Shanghai sample)")
    cover.add_argument("--mode", default="walk", choices=("walk", "ebike"), help="travel mode (default walk)")
    reach = cover.add_mutually_exclusive_group()
    reach.add_argument("--minutes", type=float, help="covered within this many minutes (default 15)")
    reach.add_argument("--radius-m", type=float, help="covered within this many straight-line metres")
    cover.add_argument("--at", metavar="HH:MM|ISO8601",
                       help="only stations open then (HH:MM: today, China Standard Time)")
    cover.add_argument("--demand", metavar="FILE",
                       help="weighted demand (CSV lon,lat,weight or GeoJSON points/hexagons)")
    cover.add_argument("--recommend", type=int, metavar="N", help="also propose N new sites (recommendations.csv)")
    cover.add_argument("--max-cells", type=int, default=None, metavar="N",
                       help="sample at most about N H3 cells (default 4,000,000); larger districts get coarser cells")
    cover.add_argument("--lang", default="zh", choices=vocab.LANGUAGES, help="headers and notes language")
    cover.add_argument("--tiles", default="none", choices=("none", "osm", "amap"),
                       help="base map of map.html (default none: it opens with no network at all)")
    cover.add_argument("--out", required=True, metavar="DIR",
                       help="folder for coverage.csv, coverage.xlsx, gaps.geojson and map.html")


def _add_exports(commands: Any) -> None:
    """``stationmap export-image`` and ``export-html``: maps for articles and CMS pages."""
    image = commands.add_parser("export-image", help="a map picture (PNG or SVG) for an article",
                                description="A print-quality map picture, drawn without any tile server: "
                                            "for WeChat articles and other pages that cannot embed a live map.")
    _map_arguments(image)
    image.add_argument("--width", default="1200", metavar="PX",
                       help="width in pixels, 300–6000 (default 1200; the height follows the area)")
    image.add_argument("--out", required=True, metavar="FILE.png|FILE.svg",
                       help="where to write; PNG or SVG by extension")

    page = commands.add_parser("export-html", help="a self-contained HTML map for a CMS",
                               description="One HTML file with every script and style inlined: opens from disk "
                                           "with no network (with --tiles none).")
    _map_arguments(page)
    page.add_argument("--tiles", default="none", choices=("none", "osm", "amap"),
                      help="base map (default none: no outside request at all)")
    page.add_argument("--out", required=True, metavar="FILE.html", help="where to write")


def _add_sample(commands: Any) -> None:
    """``stationmap sample``: the synthetic stations."""
    sample = commands.add_parser("sample", help="generate the synthetic sample stations",
                                 description="Deterministic synthetic stations (not real ones).")
    sample.add_argument("area", choices=("shanghai", "national"))
    sample.add_argument("--n", type=int, default=186_100, help="national: how many stations (default 186100)")
    sample.add_argument("--seed", type=int, default=2024)
    sample.add_argument("--out", metavar="PATH", help="where to write (.geojson, .gpkg, .parquet, .csv)")


def _map_arguments(parser: argparse.ArgumentParser) -> None:
    """What a map shows: the same for a picture and for an HTML page."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--adcode", help="area (default 310100, Shanghai; a district's code maps that district; "
                                         "others need stationmap[china])")
    where.add_argument("--districts", metavar="FILE", help="GeoJSON/GeoPackage with adcode, name[, name_en], polygons")
    parser.add_argument("--stations", metavar="FILE", help="stations file (default: the shipped Shanghai sample)")
    parser.add_argument("--layer", default="stations", choices=("stations", "coverage"),
                        help="stations by type (default), or districts by the share of their area within a "
                             "15-minute walk of a station")
    parser.add_argument("--type", action="append", default=[], metavar="T",
                        help=f"only this station type, repeatable: {', '.join(vocab.STATION_TYPES)}")
    parser.add_argument("--title", help="title (default: one per language and area)")
    parser.add_argument("--lang", default="zh", choices=vocab.LANGUAGES, help="language of every text (default zh)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "nearest" and args.k > K_MAX:
            raise InputError(f"{args.k} is more than one query may ask for (at most {K_MAX})", field="k")
        if args.command == "nearest":
            return _nearest(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "coverage":
            return _coverage(args)
        if args.command in ("export-image", "export-html"):
            return _export(args)
        if args.command in ("db", "station"):
            return cli_store.run(args)
        if args.command == "users":
            return cli_users.run(args)
        if args.command in ("import", "export"):
            from .registers.commands import run_export, run_import

            return run_import(args) if args.command == "import" else run_export(args)
        return _sample(args)
    except DataFileError as exc:
        print(f"stationmap: error: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except StationmapError as exc:
        print(f"stationmap: error: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("stationmap: interrupted; nothing half-written was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED


def _load_index(path: str | None):
    from .index import StationIndex
    from .stations import read_stations

    return StationIndex(read_stations(path))


def _filters(args: argparse.Namespace):
    from .filters import Filters

    return Filters.build(types=args.type, access=args.access, amenities=args.amenity,
                         open_at=args.open_at, include_closed=args.include_closed)


def _nearest(args: argparse.Namespace) -> int:
    if args.queries:
        if args.lat is not None or args.lon is not None:
            raise InputError("give either --lat/--lon or --queries, not both", field="queries")
        return _nearest_batch(args)
    if args.lat is None or args.lon is None:
        raise InputError("--lat and --lon are required (or --queries FILE.csv)",
                         field="lat" if args.lat is None else "lon")
    if args.out:
        raise InputError("--out is for batch mode (--queries)", field="out")
    from . import hours
    from .coords import check_lon_lat
    from .records import nearest_records

    lon, lat = check_lon_lat(args.lon, args.lat)
    filters = _filters(args)
    try:
        system = coords.check_coordsys(args.coordsys)
    except ValueError as exc:
        raise InputError(str(exc), field="coordsys") from None
    index = _load_index(args.stations)
    found = index.nearest(lon, lat, k=args.k, radius_m=args.radius, filters=filters, coordsys=system)
    when = filters.open_at or hours.parse_when("now")
    wgs_lon, wgs_lat = (float(v) for v in coords.to_wgs84(lon, lat, system))
    results = nearest_records(index, found, lon=wgs_lon, lat=wgs_lat, when=when, lang=args.lang)
    if args.json:
        query = {"lon": lon, "lat": lat, "coordsys": system,
                 "wgs84": [round(wgs_lon, 7), round(wgs_lat, 7)],
                 "k": args.k, "radius_m": args.radius, "at": when.isoformat()}
        json.dump({"query": query, "results": results}, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(_table(results, args.lang, when))
    return 0


def _display_width(text: str) -> int:
    """Columns a terminal uses for ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def _table(results: list[dict], lang: str, when) -> str:
    zh = lang == "zh"
    heads = ["#", "距离" if zh else "Distance", "现在" if zh else "Now", "名称" if zh else "Name",
             "类型" if zh else "Type", "编号" if zh else "ID"]
    rows = []
    for r in results:
        metres = r["distance_m"]
        distance = f"{metres:,.0f} m" if metres < 1000 else f"{metres / 1000:,.2f} km"
        if r["open_now"]:
            now = "开放" if zh else "open"
        elif r["hours_state"] == "unknown":
            now = "时间不详" if zh else "unknown"
        else:
            now = "未开放" if zh else "closed"
        name = r["name"] if zh or not r["name_en"] else r["name_en"]
        rows.append([str(r["rank"]), distance, now, for_terminal(name), for_terminal(r["type_label"]),
                     for_terminal(r["id"])])
    if not rows:
        return "附近没有符合条件的站点。" if zh else "No matching station nearby."
    widths = [max(_display_width(row[i]) for row in rows + [heads]) for i in range(len(heads))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [heads] + rows]
    stamp = when.strftime("%Y-%m-%d %H:%M")
    footer = (f"距离为 WGS-84 椭球面测地线直线距离；开放状态按北京时间 {stamp} 计算。" if zh else
              f"Distances are straight-line geodesic metres on WGS-84; open status at {stamp} China Standard Time.")
    return "\n".join(lines + ["", footer])


def _read_queries(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Query ids and their points in WGS-84 (each row in its own ``coordsys``)."""
    source = str(path)
    if not Path(path).is_file():
        raise DataFileError(source, [InputError("no such file")])
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise DataFileError(source, [InputError(f"cannot be read as CSV: {exc}")]) from None
    missing = [c for c in ("id", "lat", "lon") if c not in table.columns]
    if missing:
        raise DataFileError(source, [InputError(f"required column {c!r} is missing", field=c) for c in missing])
    if len(table) == 0:
        raise DataFileError(source, [InputError("has no queries")])
    lon, lat, problems = coords.points_from_rows(table)
    ids = table["id"].to_numpy(dtype=object)
    for i in np.flatnonzero(table["id"].str.strip().to_numpy() == ""):
        problems.append(InputError("is empty; every query needs an id", field="id", row=int(i) + 1))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise DataFileError(source, problems)
    return ids, lon, lat


def _nearest_batch(args: argparse.Namespace) -> int:
    ids, lon, lat = _read_queries(args.queries)
    filters = _filters(args)
    index = _load_index(args.stations)
    positions, distances = index.nearest_batch(lon, lat, k=args.k, radius_m=args.radius,
                                               filters=filters)
    found = positions >= 0
    rows, ranks = np.nonzero(found)
    table = pd.DataFrame({
        "query_id": ids[rows],
        "rank": ranks + 1,
        "station_id": index.ids[positions[found]],
        "distance_m": np.round(distances[found], 2),
    })
    from .reports import as_cells

    table = as_cells(table)       # query ids are the user's text: `> out.csv` is a spreadsheet too
    if args.out:
        _write_atomically(Path(args.out), lambda f: table.to_csv(f, index=False, lineterminator="\n"))
        print(f"wrote {len(table)} rows for {len(ids)} queries to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _write_atomically(path: Path, write) -> None:
    from ._files import atomic_path

    with atomic_path(path) as temp:
        with open(temp, "w", encoding="utf-8", newline="") as f:
            write(f)


def _coverage(args: argparse.Namespace) -> int:
    from ._files import atomic_dir
    from .coverage import MAX_CELLS, Threshold, coverage_report
    from .districts import load_districts
    from .planner import parse_at
    from .reports import as_cells, write_coverage

    threshold = Threshold.radius(args.radius_m) if args.radius_m is not None else \
        Threshold.walking(args.minutes if args.minutes is not None else 15, args.mode)
    at = parse_at(args.at)
    from .maps.html import coverage_map, save_map

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{args.out!r} is a file; --out names a directory", field="out")
    districts = load_districts(args.adcode, path=args.districts)
    index = _load_index(args.stations)
    if args.recommend is not None and args.recommend < 1:
        raise InputError(f"{args.recommend} must be ≥ 1", field="recommend")
    demand = None
    if args.demand:
        from .demand import read_demand

        demand = read_demand(args.demand)
    if args.max_cells is not None and args.max_cells < 1:
        raise InputError(f"{args.max_cells} must be ≥ 1", field="max-cells")
    with _progress(len(districts), "districts" if args.lang == "en" else "区县") as progress:
        report = coverage_report(districts, index, threshold, at=at, demand=demand, progress=progress,
                                 max_cells=args.max_cells or MAX_CELLS)
    sites = None
    if args.recommend:
        from .recommend import recommend

        sites = recommend(report, districts, args.recommend, demand=demand, index=index)
    with atomic_dir(out, replaceable=COVERAGE_FILES) as temp:
        write_coverage(report, temp, args.lang)
        if sites is not None:
            as_cells(sites.assign(assumptions=report.assumptions(args.lang))).to_csv(
                temp / "recommendations.csv", index=False, encoding="utf-8")
        save_map(coverage_map(report, districts, index, tile_provider=args.tiles, lang=args.lang, sites=sites),
                 temp / "map.html")
        written = [out / p.name for p in sorted(temp.iterdir())]
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    print(report.assumptions(args.lang), file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .dataset import Dataset
    from .districts import load_districts
    from .filters import Filters

    html = args.command == "export-html"
    if html and Path(args.out).suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{args.out!r} must end in .html", field="out")
    if not html:
        from .maps.picture import check_width, format_of

        format_of(args.out)
        width = check_width(args.width)
    Filters.build(types=args.type)                      # an unknown type is refused before any work
    districts = load_districts(args.adcode, path=args.districts)
    data = Dataset.load(args.stations)
    source = Path(args.districts).name if args.districts else None
    adcode = None if args.districts else (args.adcode or "310100")
    if not html:
        from .maps.picture import save_picture

        written = save_picture(args.out, districts, data, layer=args.layer, types=args.type, title=args.title,
                               lang=args.lang, width=width, adcode=adcode, districts_source=source)
    else:
        from .maps.html import coverage_map, save_map, stations_map
        from .maps.picture import area_name, default_title, stations_inside

        title = args.title or default_title(area_name(adcode, districts, args.lang), args.layer, args.lang)
        if args.layer == "coverage":
            from .coverage import Threshold, coverage_report

            report = coverage_report(districts, data.index, Threshold.walking(15))
            m = coverage_map(report, districts, data.index, tile_provider=args.tiles, lang=args.lang,
                             title=title, caption=data.caption(args.lang))
        else:
            m = stations_map(districts, data.index, stations_inside(districts, data.index, args.type),
                             tile_provider=args.tiles, lang=args.lang, title=title, caption=data.caption(args.lang))
        written = save_map(m, args.out)
    print(f"wrote {written}", file=sys.stderr)
    return 0


@contextmanager
def _progress(total: int, unit: str):
    """A ``progress(done, total)`` callback drawing a bar on standard error, only on a terminal."""
    from tqdm import tqdm

    with tqdm(total=total, unit=f" {unit}", disable=not sys.stderr.isatty(), file=sys.stderr,
              dynamic_ncols=True, leave=False) as bar:
        yield lambda done, _total, **_detail: bar.update(done - bar.n)


def _serve(args: argparse.Namespace) -> int:
    from .web.serve import serve

    if not 0 < args.port < 65536:
        raise InputError(f"{args.port} is not a TCP port", field="port")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"{args.workers} must be ≥ 1", field="workers")
    serve(host=args.host, port=args.port, workers=args.workers, stations=args.stations, database=args.database,
          dev=args.dev, access_log=args.access_log)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from . import sample
    from .stations import write_stations

    if args.area == "shanghai":
        stations = sample.shanghai_sample(seed=args.seed)
        default = "shanghai_stations.geojson"
    else:
        if args.n < 1:
            raise InputError(f"{args.n} must be ≥ 1", field="n")
        stations = sample.national_sample(n=args.n, seed=args.seed)
        default = "national_stations.parquet"
    out = write_stations(stations, args.out or default)
    print(f"wrote {len(stations)} synthetic stations to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
