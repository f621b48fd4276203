"""Benchmark what a server does after a commit, at national scale: the old full reload and
the incremental update, in one process on one store.

* **full** (what every worker did before): read every live station, build the index, build the
  search (``Dataset.from_store`` + ``search.for_index``, as ``LiveDataset.before_swap`` does).
* **incremental**: ``Dataset.updated`` after an edit that leaves names and places alone (a
  phone: the search is carried over), and after one that moves, renames, creates or deletes a
  station (the search patched where the tree can, rebuilt where it cannot).

Each step also builds what the first nearest answer after a swap needs (the index's column
lists), so the figure is commit → a worker ready to answer from the new version.

Each is timed in wall-clock and CPU seconds, best of ``--repeat``. Usage::

    PYTHONPATH=$PWD python bench/bench_swap.py /tmp/national.parquet --area 100000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import partial
from pathlib import Path

from stationmap.accounts import Account
from stationmap.dataset import Dataset
from stationmap.search import for_index
from stationmap.stations import read_stations
from stationmap.store import Store

OP = Account.operator("tester")  # edits are made by someone: here the command line's operator


def _timed(step) -> tuple[float, float, object]:
    w, c = time.perf_counter(), time.process_time()
    out = step()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    """Seed a GeoPackage with the stations, then time each way of bringing a dataset up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stations")
    parser.add_argument("--area", default="100000", help="the served area whose districts the search holds")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = read_stations(args.stations)
    with tempfile.TemporaryDirectory(prefix="stationmap-swap-") as name:
        store = Store.open(f"sqlite:///{Path(name) / 'register.gpkg'}", upgrade=True)
        store.seed(frame, file_name="bench", digest="")
        current = Dataset.from_store(store)
        for_index(current.index, args.area)                # districts read once, as in a running server
        station = str(frame["id"].iloc[len(frame) // 2])
        rows: dict[str, list[tuple[float, float]]] = {k: [] for k in ("full", *EDITS)}
        for i in range(args.repeat):
            def full() -> Dataset:
                new = Dataset.from_store(store)
                for_index(new.index, args.area)
                _first_answer(new)
                return new

            w, c, _ = _timed(full)
            rows["full"].append((w, c))
            if not hasattr(current, "updated"):            # a tree from before the incremental update
                continue
            for label, edit in EDITS.items():
                edit(store, station, i)
                w, c, new = _timed(partial(_updated, current, store, args.area))
                rows[label].append((w, c))
                current = new
        store.close()
    print(f"{len(frame):,} stations, load average {os.getloadavg()[0]:.1f}")
    for label, times in rows.items():
        if not times:
            continue
        w, c = min(times)
        print(f"{label:<6} best wall {w:6.2f} s, CPU {min(t[1] for t in times):6.2f} s  (all: "
              + ", ".join(f"{t[0]:.2f}" for t in times) + ")")


def _updated(current: Dataset, store: Store, area: str) -> Dataset:
    new = current.updated(store)
    for_index(new.index, area)
    _first_answer(new)
    return new


def _first_answer(dataset: Dataset) -> None:
    """What a worker's first nearest answer after a swap builds if it is not there yet: the
    index's column lists (``records.py`` reads them).
    """
    if hasattr(dataset.index, "columns"):
        assert dataset.index.columns["id"]


#: The edits timed, each followed by the worker's update: one that leaves names and places alone
#: (the search is carried over) and the four that change them (the search patched, or rebuilt).
EDITS = {
    "phone": lambda store, station, i: store.update(station, {"phone": f"021-{i:08d}"}, expected_version=None,
                                                    actor=OP),
    "move": lambda store, station, i: store.update(station, {"lon": 116.4 + i * 1e-3, "lat": 39.9},
                                                   expected_version=None, actor=OP),
    "rename": lambda store, station, i: store.update(station, {"name": f"改名驿站{i}"}, expected_version=None,
                                                     actor=OP),
    "create": lambda store, station, i: store.create(f"BENCH-{i}", {"name": f"新建驿站{i}", "lon": 121.4,
                                                                    "lat": 31.2}, actor=OP),
    "delete": lambda store, station, i: store.delete(f"BENCH-{i}", expected_version=None, actor=OP),
}


if __name__ == "__main__":
    main()
