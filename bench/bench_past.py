"""Benchmark the register as of an earlier version (``stationmap.store.past``) against a swap.

For each backend (a GeoPackage file; PostgreSQL + PostGIS started in a temporary directory by
``tests/postgres.py``): seed the stations, make 200 single edits (moves, renames, deletes), then
time, best of 3:

- the baseline, a swap: read every live station and index them (``Dataset.from_store``);
- ``as_of`` 100 edits back, read alone (every unchanged station read from the store) and with
  the server's current frame in memory (only the changed rows read);
- ``Dataset.as_of`` (read with the current frame, then index): what the first comparison with
  that version costs in a pool worker;
- the worst case: ``as_of`` the version before an import that changed every station's hours.

Usage::

    python bench/bench_past.py                                   # the shipped Shanghai sample
    python bench/bench_past.py --national                        # the synthetic national sample (186,100)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.sample import national_sample
from stationmap.stations import read_stations
from stationmap.store import Store
from stationmap.store.past import as_of

BENCH = Account.operator("bench")


def _best(call: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def _measure(url: str, frame, label: str) -> None:
    store = Store.open(url, upgrade=True)
    store.seed(frame, file_name="bench", digest="")
    ids = frame["id"].tolist()
    for i in range(200):
        station = ids[(i * 7919) % len(ids)]
        kind = i % 3
        if kind == 0:
            point = frame.geometry.iloc[(i * 7919) % len(ids)]
            store.update(station, {"lon": point.x + 0.001, "lat": point.y}, expected_version=None, actor=BENCH)
        elif kind == 1:
            store.update(station, {"name": f"改名 {i}"}, expected_version=None, actor=BENCH)
        else:
            store.delete(station, expected_version=None, actor=BENCH)
    newest = store.register_version()
    back = newest - 100
    current = Dataset.from_store(store)
    base = current.index.stations.assign(fid=current.fids)
    swap = _best(lambda: Dataset.from_store(store))
    alone = _best(lambda: as_of(store, back))
    with_base = _best(lambda: as_of(store, back, base=base, base_version=newest))
    indexed = _best(lambda: Dataset.as_of(store, back, current=current))
    hours = frame[["id", "name", "adcode", "opening_hours", frame.geometry.name]].copy()
    hours["opening_hours"] = "Mo-Su 06:00-22:00"
    live = store.load()[0]
    hours = hours[hours["id"].isin(set(live["id"]))]
    store.apply_import(hours, actor=BENCH, file_name="hours", fields=["name", "adcode", "opening_hours"])
    before_import = store.register_version() - 1
    worst = _best(lambda: as_of(store, before_import), repeat=1)
    store.close()
    print(f"{label:<11} {len(frame):>8,} stations  swap (load + index) {swap:6.2f} s   as_of 100 edits back: "
          f"alone {alone:6.2f} s ({alone / swap:.2f}), with the current frame {with_base:6.3f} s "
          f"({with_base / swap:.3f}), indexed {indexed:6.2f} s ({indexed / swap:.2f})   "
          f"before an import of every station {worst:6.2f} s ({worst / swap:.2f})")


def main() -> None:
    """Time ``as_of`` against a swap on a GeoPackage and (when installed) PostgreSQL + PostGIS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--national", action="store_true", help="the synthetic national sample (186,100 stations)")
    args = parser.parse_args()
    frame = national_sample() if args.national else read_stations()
    print(f"{platform.node()} · Python {platform.python_version()} · {platform.processor() or platform.machine()} · "
          f"load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        _measure(f"sqlite:///{Path(folder) / 'register.gpkg'}", frame, "GeoPackage")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import postgres

    if postgres.available():
        with postgres.postgresql() as server:
            _measure(server.database(), frame, "PostgreSQL")
    print(f"load {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
