"""Time the Shanghai coverage report, stage by stage, against the nearest-engine work it contains.

    python bench/bench_coverage.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.recommend import recommend
from stationmap.render import coverage_map, save_map
from stationmap.reports import write_coverage
from stationmap.stations import read_stations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    districts, index = load_districts(), StationIndex(read_stations())
    stages: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        out = tempfile.mkdtemp()
        t0 = time.perf_counter()
        report = coverage_report(districts, index, Threshold.walking(15))
        t1 = time.perf_counter()
        write_coverage(report, out)
        t2 = time.perf_counter()
        sites = recommend(report, districts, 10)
        t3 = time.perf_counter()
        save_map(coverage_map(report, districts, index, sites=sites), f"{out}/map.html")
        t4 = time.perf_counter()
        import numpy as np
        cells = report.cells
        t5 = time.perf_counter()
        index.nearest_batch(np.zeros(len(cells)) + 121.4, np.zeros(len(cells)) + 31.2, k=1)
        t6 = time.perf_counter()
        for name, seconds in (("coverage report", t1 - t0), ("csv+xlsx+geojson", t2 - t1),
                              (f"10 sites ({sites['method'].iloc[0]})", t3 - t2), ("map.html", t4 - t3),
                              ("total", t4 - t0), (f"baseline: nearest for the {len(cells):,} cells alone", t6 - t5)):
            stages.setdefault(name, []).append(seconds)
    print(f"Shanghai: {len(districts)} districts, {len(index):,} stations, 15 min walk (H3 res "
          f"{report.table['h3_resolution'].iloc[0]}, {len(report.cells):,} cells); median of {args.repeat}")
    print("| stage | seconds |\n| --- | --- |")
    for name, values in stages.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
