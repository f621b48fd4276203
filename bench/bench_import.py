"""Benchmark ``stationmap import`` of a register file into an empty store: plan, then apply.

The same steps as ``stationmap import FILE --reason bench`` (read the current register, plan
every row with its checks, apply in one transaction), each timed in wall-clock and CPU seconds,
into a fresh GeoPackage or a PostgreSQL + PostGIS database started by ``tests/postgres.py``.
On PostgreSQL the server's own CPU seconds (its processes, read from ``/proc``) are shown too:
the benchmark's CPU alone would hide the work the server does; and the seconds the benchmark
was ready to run but waited for a CPU (``/proc/self/schedstat``), which is where the wall-clock
time beyond the CPU time goes on a shared machine. Run it on two trees
(``PYTHONPATH=<tree>``) one after the other to compare them. Usage::

    stationmap sample national --n 186100 --out /tmp/national.parquet
    PYTHONPATH=$PWD python bench/bench_import.py /tmp/national.parquet --backend sqlite
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from stationmap.accounts import Account
from stationmap.registers.applying import apply_plan, current_register
from stationmap.registers.importing import plan_import
from stationmap.store import Store


def _no_server() -> float:
    return 0.0


@contextmanager
def _url(backend: str, folder: Path) -> Iterator[tuple[str, Callable[[], float]]]:
    """The store's URL, and a function giving the CPU seconds its server has used so far."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'register.gpkg'}", _no_server
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import postgres

    with postgres.postgresql() as server:
        yield server.database(), lambda: _server_cpu(server.port)


def _server_cpu(port: int) -> float:
    """CPU seconds of the PostgreSQL server on ``port``: its postmaster (with its reaped
    children) and every live child (the backends, the WAL writer, the checkpointer).
    """
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    postmaster = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        stats[int(entry.name)] = fields
        if command[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(command):
            postmaster = int(entry.name)
    if postmaster is None:
        return 0.0
    # fields[1] is the parent; 11, 12 user and system time; 13, 14 those of reaped children.
    total = sum(int(v) for v in stats[postmaster][11:15])
    total += sum(int(f[11]) + int(f[12]) for f in stats.values() if int(f[1]) == postmaster)
    return total / tick


def _cpu_wait() -> float:
    """Seconds this process has spent runnable but waiting for a CPU (``/proc/self/schedstat``):
    on a shared machine, the part of the wall-clock time that other processes took.
    """
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def main() -> None:
    """Import the file into an empty store and print the time of each step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stationmap-import-") as name, \
            _url(args.backend, Path(name)) as (url, server_cpu):
        store = Store.open(url, upgrade=True)
        waited = _cpu_wait()
        marks = [(time.perf_counter(), time.process_time(), server_cpu())]
        current = current_register(store)
        plan = plan_import(args.file, current)
        marks.append((time.perf_counter(), time.process_time(), server_cpu()))
        result = apply_plan(store, plan, current, actor=Account.operator("bench"), reason="bench")
        marks.append((time.perf_counter(), time.process_time(), server_cpu()))
        waited = _cpu_wait() - waited
        store.close()
    (w0, c0, s0), (w1, c1, s1), (w2, c2, s2) = marks
    server = f" | server CPU {s2 - s0:.1f} s" if args.backend == "postgresql" else ""
    print(f"{args.backend}: {result.counts['added']:,} added, {len(plan.warnings)} warnings | "
          f"plan {w1 - w0:.1f} s wall / {c1 - c0:.1f} s CPU | apply {w2 - w1:.1f} s wall / {c2 - c1:.1f} s CPU | "
          f"total {w2 - w0:.1f} s wall / {c2 - c0:.1f} s CPU{server} | waiting for a CPU {waited:.1f} s | "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
