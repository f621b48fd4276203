"""Benchmark ``stationmap import`` of a register file into an empty store: plan, then apply.

The same steps as ``stationmap import FILE --reason bench`` (read the current register, plan
every row with its checks, apply in one transaction), each timed in wall-clock and CPU seconds,
into a fresh GeoPackage or a PostgreSQL + PostGIS database started by ``tests/postgres.py``.
Run it on two trees (``PYTHONPATH=<tree>``) one after the other to compare them. Usage::

    stationmap sample national --n 186100 --out /tmp/national.parquet
    PYTHONPATH=$PWD python bench/bench_import.py /tmp/national.parquet --backend sqlite
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from stationmap.registers.applying import apply_plan, current_register
from stationmap.registers.importing import plan_import
from stationmap.store import Store


@contextmanager
def _url(backend: str, folder: Path):
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'register.gpkg'}"
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import postgres

    with postgres.postgresql() as server:
        yield server.database()


def main() -> None:
    """Import the file into an empty store and print the time of each step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stationmap-import-") as name, _url(args.backend, Path(name)) as url:
        store = Store.open(url, upgrade=True)
        marks = [(time.perf_counter(), time.process_time())]
        current = current_register(store)
        plan = plan_import(args.file, current)
        marks.append((time.perf_counter(), time.process_time()))
        result = apply_plan(store, plan, current, who="bench", reason="bench")
        marks.append((time.perf_counter(), time.process_time()))
        store.close()
    (w0, c0), (w1, c1), (w2, c2) = marks
    print(f"{args.backend}: {result.counts['added']:,} added, {len(plan.warnings)} warnings | "
          f"plan {w1 - w0:.1f} s wall / {c1 - c0:.1f} s CPU | apply {w2 - w1:.1f} s wall / {c2 - c1:.1f} s CPU | "
          f"total {w2 - w0:.1f} s wall / {c2 - c0:.1f} s CPU | load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
