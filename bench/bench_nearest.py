"""Benchmark the nearest engine: build, single-query latency, batch throughput.

Baselines run in the same session, so figures read as ratios:

* brute force: Karney geodesic to every station, then sort (what "exact" must equal);
* floor: a raw 2-D SciPy ``cKDTree`` on projected points (one Albers projection for China),
  k=5 with a 2 km bound: no geodesics, no filters, not exact across China, but the least a
  k-d tree call costs from Python;
* (if installed) the same 3-D query through ``pykdtree``, the alternative k-d tree we measured
  before choosing SciPy's.

Queries fall near stations (normal jitter, sd 1 km), as workers do. Usage::

    python bench/bench_nearest.py                 # 1.3k (Shanghai), 20k and 186k (national)
    python bench/bench_nearest.py --sizes 1328 --batch 100000
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc

import numpy as np
from pyproj import Transformer

from stationmap.index import StationIndex
from stationmap.stations import read_stations
from stationmap.testing import brute_force_nearest

K, RADIUS_M = 5, 2000.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _stations(n: int):
    if n <= 1500:
        return read_stations()
    from stationmap.sample import national_sample

    return national_sample(n=n)


def _queries(index: StationIndex, count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(index), count)
    metres_per_degree = 111_320.0
    lat = index.lat[pick] + rng.normal(0, 1000, count) / metres_per_degree
    lon = index.lon[pick] + rng.normal(0, 1000, count) / (metres_per_degree * np.cos(np.radians(lat)))
    return lon, lat


def _latencies_us(call, lon, lat) -> np.ndarray:
    out = np.empty(len(lon))
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        start = time.perf_counter_ns()
        call(x, y)
        out[i] = (time.perf_counter_ns() - start) / 1000
    return out


def bench_size(n: int, singles: int, batch: int, brute: int) -> dict[str, float]:
    """Build time, memory and query timings (single, batch, brute force, pykdtree) over ``n`` stations."""
    stations = _stations(n)
    gc.collect()
    rss0 = _rss_mb()
    start = time.perf_counter()
    index = StationIndex(stations)
    build_s = time.perf_counter() - start
    rss1 = _rss_mb()
    tracemalloc.start()                      # memory on a second build: tracing slows the first
    StationIndex(stations)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    lon, lat = _queries(index, singles)
    index.nearest(lon[0], lat[0], k=K, radius_m=RADIUS_M)      # warm up
    # First pass: most points are the first query of their cell (the index keeps a cell's
    # nearest stations from its first query on); second pass: the same points again, as a
    # city's riders ask from the same streets all day. Median of the better of the two passes
    # after it; CPU µs per query (process time / queries) is what the machine's load cannot inflate.
    cpu = time.process_time()
    cold = _latencies_us(lambda x, y: index.nearest(x, y, k=K, radius_m=RADIUS_M), lon, lat)
    cold_cpu = (time.process_time() - cpu) / len(lon) * 1e6
    warm_runs = []
    for _ in range(2):
        cpu = time.process_time()
        warm_runs.append((_latencies_us(lambda x, y: index.nearest(x, y, k=K, radius_m=RADIUS_M), lon, lat),
                          (time.process_time() - cpu) / len(lon) * 1e6))
    single, warm_cpu = min(warm_runs, key=lambda run: float(np.median(run[0])))

    blon, blat = _queries(index, batch, seed=2)
    start, cpu = time.perf_counter(), time.process_time()
    positions, _ = index.nearest_batch(blon, blat, k=K, radius_m=RADIUS_M)
    batch_s, batch_cpu_s = time.perf_counter() - start, time.process_time() - cpu

    brute_us = _latencies_us(lambda x, y: brute_force_nearest(index, x, y, k=K, radius_m=RADIUS_M),
                             lon[:brute], lat[:brute])
    for i in range(brute):     # the benchmark checks what it times
        assert index.nearest(lon[i], lat[i], k=K, radius_m=RADIUS_M).positions.tolist() == \
            brute_force_nearest(index, lon[i], lat[i], k=K, radius_m=RADIUS_M)[0].tolist()

    from scipy.spatial import cKDTree

    albers = Transformer.from_crs("EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84",
                                  always_xy=True)
    xy = np.column_stack(albers.transform(index.lon, index.lat))
    floor_tree = cKDTree(xy)
    qxy = np.column_stack(albers.transform(lon, lat))
    floor = _latencies_us(lambda x, y: floor_tree.query((x, y), k=K, distance_upper_bound=RADIUS_M),
                          qxy[:, 0], qxy[:, 1])
    bxy = np.column_stack(albers.transform(blon, blat))
    start = time.perf_counter()
    floor_tree.query(bxy, k=K, distance_upper_bound=RADIUS_M, workers=-1)
    floor_batch_s = time.perf_counter() - start

    result = {
        "stations": len(index), "build_s": build_s, "build_peak_mb": peak / 2**20, "rss_mb": rss1 - rss0,
        "single_median_us": float(np.median(single)), "single_p99_us": float(np.percentile(single, 99)),
        "single_cpu_us": warm_cpu, "single_cold_median_us": float(np.median(cold)), "single_cold_cpu_us": cold_cpu,
        "batch_queries": batch, "batch_s": batch_s, "batch_cpu_s": batch_cpu_s, "batch_qps": batch / batch_s,
        "found_share": float((positions[:, 0] >= 0).mean()),
        "brute_median_us": float(np.median(brute_us)),
        "floor_median_us": float(np.median(floor)), "floor_batch_s": floor_batch_s,
    }
    result.update(_tree_calls(index, lon, lat))
    result["near_mean"] = _near_mean(index, lon, lat)
    return result


def _near_mean(index: StationIndex, lon: np.ndarray, lat: np.ndarray) -> float:
    """Stations within ``RADIUS_M`` of a query, on average (by the straight line through the
    Earth, a hair shorter than the geodesic): what a query's cost follows, more than the count
    of stations (each is measured geodesically and ranked).
    """
    from scipy.spatial import cKDTree

    from stationmap.geodesy import ecef

    counts = cKDTree(ecef(index.lon, index.lat)).query_ball_point(ecef(lon, lat), RADIUS_M, return_length=True)
    return float(np.mean(counts))


def _tree_calls(index: StationIndex, lon: np.ndarray, lat: np.ndarray) -> dict[str, float]:
    """Median microseconds of one bare query call, pykdtree against scipy's cKDTree (none without pykdtree)."""
    try:
        from pykdtree.kdtree import KDTree
    except ImportError:
        return {}
    from stationmap.geodesy import ecef

    alt = KDTree(ecef(index.lon, index.lat))
    qxyz = ecef(lon, lat)
    alt_us = np.empty(len(lon))
    for i in range(len(lon)):
        q = qxyz[i:i + 1]
        start = time.perf_counter_ns()
        alt.query(q, k=K + 1, distance_upper_bound=RADIUS_M)
        alt_us[i] = (time.perf_counter_ns() - start) / 1000
    ckd = index._tree
    ckd_us = np.empty(len(lon))
    for i in range(len(lon)):
        q = tuple(qxyz[i])
        start = time.perf_counter_ns()
        ckd.query(q, k=K + 1, distance_upper_bound=RADIUS_M)
        ckd_us[i] = (time.perf_counter_ns() - start) / 1000
    return {"pykdtree_call_median_us": float(np.median(alt_us)), "ckdtree_call_median_us": float(np.median(ckd_us))}


def main() -> None:
    """Parse the command line, run every size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1328, 20_000, 186_100])
    parser.add_argument("--singles", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--brute", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {platform.processor() or 'cpu'}; "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    rows = [bench_size(n, args.singles, args.batch, args.brute) for n in args.sizes]
    keys = list(rows[0])
    for extra in ("pykdtree_call_median_us", "ckdtree_call_median_us"):
        if any(extra in r for r in rows) and extra not in keys:
            keys.append(extra)
    print("| metric | " + " | ".join(f"{r['stations']:,}" for r in rows) + " |")
    print("| --- |" + " --- |" * len(rows))
    for key in keys:
        cells = []
        for r in rows:
            v = r.get(key, float("nan"))
            cells.append(f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")
        print(f"| {key} | " + " | ".join(cells) + " |")
    for r in rows:
        print(f"{r['stations']:,} stations: single query {r['single_median_us'] / r['floor_median_us']:.1f}× "
              f"the raw 2-D cKDTree floor, {r['brute_median_us'] / r['single_median_us']:,.0f}× faster than brute "
              f"force; batch {r['batch_s'] / r['floor_batch_s']:.1f}× the floor's batch time")


if __name__ == "__main__":
    main()
