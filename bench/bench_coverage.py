"""Time the coverage report, stage by stage, against the nearest-engine work it contains.

    python bench/bench_coverage.py [--repeat 3]                       # Shanghai, in process
    python bench/bench_coverage.py --national national.parquet        # all China, as a planner runs it

The national run is the command a planner types (``stationmap coverage --adcode 100000``), timed
end to end in a subprocess, then its map.html is opened in headless Chromium (Debian's) with
every outside request refused, timed until the page has loaded and drawn its districts and
station clusters.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.maps.html import coverage_map, save_map
from stationmap.recommend import recommend
from stationmap.reports import write_coverage
from stationmap.stations import read_stations


def shanghai(repeat: int) -> None:
    """Time each stage of the Shanghai coverage run (report, files, map), ``repeat`` times."""
    districts, index = load_districts(), StationIndex(read_stations())
    stages: dict[str, list[float]] = {}
    for _ in range(repeat):
        out = tempfile.mkdtemp()
        t0 = time.perf_counter()
        report = coverage_report(districts, index, Threshold.walking(15))
        t1 = time.perf_counter()
        write_coverage(report, out)
        t2 = time.perf_counter()
        save_map(coverage_map(report, districts, index), f"{out}/map.html")
        t3 = time.perf_counter()
        sites = recommend(report, districts, 10)
        t4 = time.perf_counter()
        cells = report.cells
        index.nearest_batch(cells["lon"].to_numpy(), cells["lat"].to_numpy(), k=1)
        t5 = time.perf_counter()
        for name, seconds in (("coverage report", t1 - t0), ("csv+xlsx+geojson", t2 - t1), ("map.html", t3 - t2),
                              ("full report (report + files + map)", t3 - t0),
                              (f"10 new sites ({sites['method'].iloc[0]})", t4 - t3),
                              (f"baseline: nearest for the {len(cells):,} cells alone", t5 - t4)):
            stages.setdefault(name, []).append(seconds)
    print(f"Shanghai: {len(districts)} districts, {len(index):,} stations, 15 min walk (H3 res "
          f"{report.table['h3_resolution'].iloc[0]}, {len(report.cells):,} cells); median of {repeat}")
    print("| stage | seconds |\n| --- | --- |")
    for name, values in stages.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


def open_in_chromium(path: Path) -> tuple[float, float, int]:
    """Seconds from navigation until the map has drawn its districts, and until every station
    is clustered (the stations are clustered in chunks after the map shows); the station count.
    """
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=flags, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.route(re.compile(r"^https?://"), lambda route: route.abort())
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_selector(".leaflet-interactive", timeout=120_000)
        drawn = time.perf_counter() - start
        page.wait_for_selector("html[data-stations-loaded]", timeout=120_000)
        page.wait_for_selector(".marker-cluster", timeout=120_000)
        loaded = time.perf_counter() - start
        stations = page.evaluate("document.documentElement.dataset.stationsLoaded")
        browser.close()
    return drawn, loaded, int(stations)


def national(stations: str) -> None:
    """Time the national coverage report over the stations file ``stations``."""
    out = Path(tempfile.mkdtemp())
    command = [sys.executable, "-m", "stationmap", "coverage", "--adcode", "100000", "--stations", stations,
               "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    index = StationIndex(read_stations(stations))
    t0 = time.perf_counter()
    index.nearest_batch(np.full(1_000_000, 116.4), np.full(1_000_000, 39.9), k=1)
    baseline = time.perf_counter() - t0
    size = (out / "map.html").stat().st_size
    print(f"National: {len(index):,} stations over every county-level unit, 15 min walk")
    print("| measure | value |\n| --- | --- |")
    print(f"| `stationmap coverage --adcode 100000` end to end (s) | {seconds:.1f} |")
    print(f"| map.html size (MB) | {size / 1e6:.1f} |")
    drawn, loaded, stations = open_in_chromium(out / "map.html")
    print(f"| map.html in headless Chromium: districts and gaps drawn (s) | {drawn:.1f} |")
    print(f"| map.html in headless Chromium: all {stations:,} stations clustered (s) | {loaded:.1f} |")
    print(f"| baseline: 1,000,000 nearest queries (s) | {baseline:.2f} |")


def main() -> None:
    """Parse the command line and run the chosen benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--national", metavar="STATIONS", help="time the national report on this stations file")
    args = parser.parse_args()
    if args.national:
        national(args.national)
    else:
        shanghai(args.repeat)


if __name__ == "__main__":
    main()
