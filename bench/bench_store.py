"""Benchmark the store of record: seeding a register, and the cost of a swap.

For each backend (a GeoPackage file; PostgreSQL + PostGIS started in a temporary directory by
``tests/postgres.py``): time to seed the stations in one transaction (``stationmap db init``),
time to edit one station, and the swap cost (read every live station and build the index:
what each worker does after a change). The time from a commit to a worker answering from the
new version is at most the wake-up (PostgreSQL: NOTIFY, immediate; SQLite: the 1 s version
check) plus that swap cost. Usage::

    python bench/bench_store.py                                   # the shipped Shanghai sample
    python bench/bench_store.py --stations national.parquet       # stationmap sample national
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.stations import read_stations
from stationmap.store import Store

BENCH = Account.operator("bench")


def _measure(url: str, frame, label: str) -> None:
    store = Store.open(url, upgrade=True)
    started = time.perf_counter()
    store.seed(frame, file_name="bench", digest="")
    seeded = time.perf_counter() - started
    station = str(frame["id"].iloc[len(frame) // 2])
    started = time.perf_counter()
    store.update(station, {"phone": "021-00000000"}, expected_version=1, actor=BENCH, reason="bench")
    edited = time.perf_counter() - started
    swaps = []
    for _ in range(3):
        started = time.perf_counter()
        Dataset.from_store(store)
        swaps.append(time.perf_counter() - started)
    store.close()
    print(f"{label:<11} {len(frame):>8,} stations  seed {seeded:6.1f} s  edit {edited * 1000:6.1f} ms  "
          f"swap (load + index) {min(swaps):5.2f} s (best of 3)")


def main() -> None:
    """Seed, edit and swap timings for a GeoPackage and (when installed) PostgreSQL + PostGIS, on the same stations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", help="stations file (default: the shipped Shanghai sample)")
    args = parser.parse_args()
    frame = read_stations(args.stations)
    print(f"{platform.node()} · Python {platform.python_version()} · {platform.processor() or platform.machine()}")
    with tempfile.TemporaryDirectory() as folder:
        _measure(f"sqlite:///{Path(folder) / 'register.gpkg'}", frame, "GeoPackage")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import postgres

    if not postgres.available():
        print("PostgreSQL 15 + PostGIS not installed: skipped")
        return
    with postgres.postgresql() as server:
        _measure(server.database(), frame, "PostgreSQL")


if __name__ == "__main__":
    main()
