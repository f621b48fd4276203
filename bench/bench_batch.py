"""Benchmark the batch nearest's parts in one process: where a 100,000-point batch's time goes.

CPU time (``time.process_time``, what other processes' load inflates least) and wall time,
best and median of several runs, k = 5 within 2 km, points near stations as in
``bench_nearest``. With ``--baseline TREE`` the batch of another checkout (its
``stationmap/batch.py`` from before the compiled kernel, issue 15 part 3: ``nearest_rows``
returning the answers) runs interleaved with this one on the same index and points, and the
answers are compared; the first ``--check`` answers are compared with brute force. Usage::

    python bench/bench_batch.py --sizes 1446 186100 --baseline /work/main
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stationmap import coords, geodesy
from stationmap.batch import _NO_FAR, _rank, nearest_rows, spatial_order
from stationmap.filters import Filters
from stationmap.index import StationIndex
from stationmap.testing import brute_force_nearest

sys.path.insert(0, str(Path(__file__).parent))
from bench_nearest import _queries, _stations  # noqa: E402

K, RADIUS_M = 5, 2000.0


def _timed(call: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    cpu, wall = [], []
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        call()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return sorted(cpu), sorted(wall)


def _baseline(tree: str) -> Callable[[StationIndex, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The batch of another checkout (pre-kernel ``nearest_rows``), driven as its ``nearest_batch`` did."""
    spec = importlib.util.spec_from_file_location("stationmap._baseline_batch", Path(tree) / "stationmap/batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)

    def batch(index: StationIndex, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = coords.points_to_wgs84(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), "wgs84")
        order = module.spatial_order(lon, lat)
        positions = np.full((len(lon), K), -1, dtype=np.int64)
        distances = np.full((len(lon), K), np.nan)
        positions[order], distances[order] = module.nearest_rows(index, lon[order], lat[order], K, RADIUS_M,
                                                                  Filters())
        return positions, distances

    return batch


def _parts(index: StationIndex, lon: np.ndarray, lat: np.ndarray, runs: int) -> dict[str, tuple[list, list]]:
    order = spatial_order(lon, lat)
    slon, slat = lon[order], lat[order]
    xyz = geodesy.ecef(slon, slat)
    bound = RADIUS_M + geodesy.CHORD_SLACK_M
    chords, idx = index._tree.query(xyz, k=K + 1, distance_upper_bound=bound)
    rows = np.arange(len(lon))

    def kernel() -> None:
        out_pos, out_dist = np.full((len(lon), K), -1, dtype=np.int64), np.full((len(lon), K), np.nan)
        _rank(chords, idx, rows, slon, slat, xyz, _NO_FAR, index.lon, index.lat, index.xyz, index._masks.active,
              False, bound, RADIUS_M + geodesy.GEODESIC_SLACK_M, order, out_pos, out_dist,
              np.empty(len(lon), dtype=np.bool_))

    def rows_only() -> None:
        out_pos, out_dist = np.full((len(lon), K), -1, dtype=np.int64), np.full((len(lon), K), np.nan)
        nearest_rows(index, slon, slat, RADIUS_M, Filters(), order, out_pos, out_dist)

    return {"spatial order": _timed(lambda: spatial_order(lon, lat), runs),
            "ECEF of the points": _timed(lambda: geodesy.ecef(slon, slat), runs),
            "tree call (cKDTree, k+1, bound)": _timed(lambda: index._tree.query(xyz, k=K + 1,
                                                                                 distance_upper_bound=bound), runs),
            "rank and prove (compiled)": _timed(kernel, runs),
            "nearest_rows (ECEF, tree, kernel, rounds)": _timed(rows_only, runs)}


def main() -> None:
    """Parse the command line, time each size, print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1446, 186_100])
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--check", type=int, default=200, help="batch answers compared with brute force")
    parser.add_argument("--baseline", help="a checkout whose batch runs interleaved with this one")
    args = parser.parse_args()
    baseline = _baseline(args.baseline) if args.baseline else None
    for n in args.sizes:
        _one_size(n, args.batch, args.runs, baseline, args.check)


def _one_size(n: int, points: int, runs: int, baseline: Callable | None, check: int) -> None:
    index = StationIndex(_stations(n))
    lon, lat = _queries(index, points, seed=2)
    calls: dict[str, Callable[[], object]] = {"nearest_batch": lambda: index.nearest_batch(lon, lat, k=K,
                                                                                             radius_m=RADIUS_M)}
    if baseline is not None:
        calls["baseline nearest_batch"] = lambda: baseline(index, lon, lat)
    calls["nearest_batch"]()                                       # warm
    whole: dict[str, tuple[list, list]] = {name: ([], []) for name in calls}
    for _ in range(runs):                 # interleaved: the machine's load falls on both alike
        for name, call in calls.items():
            cpu, wall = _timed(call, 1)
            whole[name][0].append(cpu[0])
            whole[name][1].append(wall[0])
    rows = {**{k: (sorted(c), sorted(w)) for k, (c, w) in whole.items()}, **_parts(index, lon, lat, runs)}
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"\n{len(index):,} stations, {points:,} points, {time.strftime('%Y-%m-%d %H:%M %Z')}, load {load}")
    print("| part | CPU best (ms) | CPU median (ms) | wall best (ms) | wall median (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for name, (cpu, wall) in rows.items():
        mid = len(cpu) // 2
        print(f"| {name} | {cpu[0] * 1e3:.1f} | {cpu[mid] * 1e3:.1f} | {wall[0] * 1e3:.1f} | "
              f"{wall[mid] * 1e3:.1f} |")
    mine = index.nearest_batch(lon, lat, k=K, radius_m=RADIUS_M)
    same = sum(mine[0][i][mine[0][i] >= 0].tolist() ==
               brute_force_nearest(index, lon[i], lat[i], k=K, radius_m=RADIUS_M)[0].tolist() for i in range(check))
    print(f"batch answers equal to brute force (Karney to every station): {same}/{check}")
    if baseline is not None:
        theirs = baseline(index, lon, lat)
        print(f"same positions as the baseline: {np.array_equal(mine[0], theirs[0])}; largest difference in "
              f"metres {float(np.nanmax(np.abs(mine[1] - theirs[1]))):.2g}")


if __name__ == "__main__":
    main()
