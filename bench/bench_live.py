"""Benchmark the living register under load: nearest throughput with and without edits, no
half-applied answers, memory after a minute of swaps, and the time for a commit to go live.

One gunicorn server (``stationmap serve``) answers from a store (a GeoPackage file, or
PostgreSQL + PostGIS started by ``tests/postgres.py``) seeded with the stations. Then:

1. **Freshness**: an edit is committed and new connections ask ``/api/v1/meta`` until 12 answers
   in a row carry the new register version (requests land on any worker): commit → live.
2. **Baseline**: wrk on nearest (points near stations, jitter sd 1 km) for ``--seconds``.
3. **Under edits**: the same wrk run while, every second, an import changes two neighbouring
   stations together (``stationmap import``'s plan and apply) and a client PATCHes a third through
   the write API; a polling client asks nearest around the pair and counts any answer where the
   two differ (half of an import). The server processes' memory is sampled throughout.

Both runs also count the server's own CPU seconds (every process of ``stationmap serve``): on
this machine wrk, the benchmark's imports and the server share two cores, so the requests/s
ratio mixes what the server's swaps cost with what the benchmark's own edits take. Nearest
answers per server CPU-second, with and without edits, is the ratio a server would see whose
load and edits come from elsewhere. ``--server-cpus 0`` measures that directly: the server on
processor 0, wrk and the edits on the others.

Prints the figures for docs/benchmarks.md. Usage::

    python bench/bench_live.py --backend sqlite --seconds 60
    python bench/bench_live.py --backend postgresql --stations /tmp/national.parquet --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from bench_http import LUA, _wait, cpu_s  # noqa: E402 - bench/ and tests/ are put on the path first

from stationmap.accounts import Account  # noqa: E402
from stationmap.registers.applying import apply_plan, current_register  # noqa: E402
from stationmap.registers.importing import plan_import  # noqa: E402
from stationmap.stations import read_stations  # noqa: E402
from stationmap.store import Store  # noqa: E402

BENCH = Account.operator("bench")

#: Set by :func:`serve`: an API token made through the store for the "bench" account (an admin).
TOKEN = ""


def _bench_token(url: str) -> str:
    """An admin account "bench" (a random password) and a new API token for it."""
    import secrets

    store = Store.open(url)
    try:
        if "bench" not in {a.name for a in store.accounts()}:
            store.add_account("bench", "admin", password=secrets.token_urlsafe(16), actor=BENCH)
        return store.new_token("bench", "bench", actor=BENCH)
    finally:
        store.close()


@contextmanager
def store_url(backend: str, folder: Path):
    """A fresh, empty store of ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'register.gpkg'}"
        return
    import postgres

    if not postgres.available():
        raise SystemExit("PostgreSQL 15 + PostGIS are not installed (scripts/test.sh installs them)")
    with postgres.postgresql() as server:
        yield server.database()


def _wrk(url: str, lua: str, connections: int, seconds: int, threads: int) -> dict:
    """Wrk's figures, errors split by kind; a 10 s timeout, so a slow answer on a busy machine is
    counted as slow, not as an error (wrk's default is 2 s).
    """
    import re

    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "--latency", "-s", lua, url], capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)] if match else float("nan")

    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    kinds = dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True)) if socket else {}
    kinds["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": latency("50"),
            "p99_ms": latency("99"), "errors": sum(kinds.values()), "kinds": kinds}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(url: str, workers: int, folder: Path, cpus: set[int] | None = None):
    """``stationmap serve`` on the store; yields (base URL, process). ``cpus``: the processors
    the server (and every process it forks) may run on.
    """
    global TOKEN
    port = _free_port()
    TOKEN = _bench_token(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATIONMAP_")}
    env.update(STATIONMAP_DATABASE_URL=url, STATIONMAP_INSTANCE_PATH=str(folder / "instance"))
    process = subprocess.Popen([sys.executable, "-m", "stationmap", "serve", "--port", str(port),
                                "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                               stderr=(folder / "server.log").open("w"),
                               preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/healthz", process, seconds=600)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=60)


def _get(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Connection": "close", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), {}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(c) for c in children.read().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def time_to_live(base: str, store: Store, station: str, streak: int = 12, bound: float = 120) -> float:
    """Seconds from an edit's commit until ``streak`` answers in a row carry its register version."""
    phone = f"021-{int(time.time() * 1000) % 100_000_000:08d}"
    store.update(station, {"phone": phone}, expected_version=None, actor=BENCH, reason="bench: freshness")
    committed = time.perf_counter()
    target = store.register_version()
    in_a_row = 0
    while in_a_row < streak:
        if time.perf_counter() - committed > bound:
            return float("inf")
        _, _, meta = _get(f"{base}/api/v1/meta")
        fresh = int(meta["dataset"]["version"].lstrip("r")) >= target
        in_a_row = in_a_row + 1 if fresh else 0
        if not fresh:
            time.sleep(0.02)
    return time.perf_counter() - committed


@dataclass
class Churn:
    """Imports and edits every second, a client watching for half-applied imports, memory samples."""

    base: str
    store: Store
    pid: int
    folder: Path
    pair: list[dict]
    edited: str
    stop: threading.Event = field(default_factory=threading.Event)
    imports: int = 0
    edits: int = 0
    errors: list[str] = field(default_factory=list)
    polls: int = 0
    mixed: int = 0
    memory: list[tuple[float, float]] = field(default_factory=list)

    def run_changes(self) -> None:
        """Every second: an import changing the pair together, then a PATCH of the third station."""
        round_ = 0
        while not self.stop.is_set():
            started = time.perf_counter()
            round_ += 1
            sheet = self.folder / "pair.csv"
            rows = "\n".join(f"{s['id']},{s['name']},021-7{round_:07d}" for s in self.pair)
            sheet.write_text(f"站点编号,站点名称,联系电话\n{rows}\n", encoding="utf-8")
            try:
                current = current_register(self.store)
                apply_plan(self.store, plan_import(sheet, current), current, actor=BENCH, reason="bench import")
                self.imports += 1
                version = self.store.get(self.edited)["version"]
                status, _, _ = _get(f"{self.base}/api/v1/stations/{self.edited}", "PATCH",
                                    {"phone": f"021-6{round_:07d}"},
                                    {"Authorization": f"Bearer {TOKEN}", "If-Match": f'"{version}"',
                                     "Content-Type": "application/merge-patch+json"})
                if status != 200:
                    self.errors.append(f"PATCH {status}")
                self.edits += 1
            except Exception as exc:  # noqa: BLE001 - a benchmark reports every failure and goes on
                self.errors.append(repr(exc))
            self.stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))

    def run_poller(self) -> None:
        """Ask nearest around the pair again and again; count answers showing half of an import."""
        ids = [s["id"] for s in self.pair]
        lon, lat = self.pair[0]["lon"], self.pair[0]["lat"]
        first = None
        while not self.stop.is_set():
            status, _, body = _get(f"{self.base}/api/v1/stations/nearest?lon={lon}&lat={lat}&k=10")
            if status != 200:
                self.errors.append(f"poll {status}")
                continue
            phones = {r["id"]: r["phone"] for r in body["results"] if r["id"] in ids}
            if len(phones) == 2:
                state = tuple(phones[i] for i in ids)
                first = first or state
                self.polls += 1
                self.mixed += state != first and len(set(state)) != 1
            time.sleep(0.05)

    def run_memory(self) -> None:
        """Sample the server's resident memory every 2 s."""
        started = time.perf_counter()
        while not self.stop.is_set():
            self.memory.append((time.perf_counter() - started, rss_mb(self.pid)))
            self.stop.wait(2.0)


def _pair(store: Store) -> tuple[list[dict], str]:
    """Two neighbouring open stations (changed together by each import) and a third (edited)."""
    frame = store.load()[0]
    frame = frame[frame["status"] == "open"].reset_index(drop=True)
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    d = (x - x[0]) ** 2 + (y - y[0]) ** 2
    order = np.argsort(d)
    pair = [{"id": frame["id"][i], "name": frame["name"][i], "lon": x[i], "lat": y[i]} for i in order[:2]]
    return pair, str(frame["id"][order[-1]])


def _lua(stations, folder: Path) -> Path:
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(stations), 5000)
    lat = stations.geometry.y.to_numpy()[pick] + rng.normal(0, 1000, 5000) / 111_320
    lon = stations.geometry.x.to_numpy()[pick] + rng.normal(0, 1000, 5000) / (111_320 * np.cos(np.radians(lat)))
    (folder / "paths.txt").write_text("".join(
        f"/api/v1/stations/nearest?lat={b:.6f}&lon={a:.6f}&k=5&radius_m=2000\n" for a, b in zip(lon, lat, strict=True)))
    lua = folder / "nearest.lua"
    lua.write_text(LUA.format(paths=folder / "paths.txt"))
    return lua


def run(url: str, stations, *, seconds: int, connections: int, workers: int, folder: Path,
        freshness: int = 3, threads: int = 2, server_cpus: set[int] | None = None) -> dict:
    """Everything above against one seeded store; returns the figures. With ``server_cpus``
    the server runs on those processors and this benchmark, its edits and wrk on the others:
    the server's throughput then depends on its own work only, swaps included.
    """
    store = Store.open(url)
    pair, edited = _pair(store)
    lua = _lua(stations, folder)
    if server_cpus:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - server_cpus)   # wrk inherits it
    with serve(url, workers, folder, server_cpus) as (base, process):
        live = [time_to_live(base, store, edited) for _ in range(freshness)]
        _wrk(base, str(lua), connections, 3, threads)                            # warm up
        spent = cpu_s(process.pid)
        baseline = _wrk(base, str(lua), connections, seconds, threads)
        baseline["server_cpu_s"] = cpu_s(process.pid) - spent
        churn = Churn(base, store, process.pid, folder, pair, edited)
        workers_ = [threading.Thread(target=t) for t in (churn.run_changes, churn.run_poller, churn.run_memory)]
        for t in workers_:
            t.start()
        try:
            spent = cpu_s(process.pid)
            loaded = _wrk(base, str(lua), connections, seconds, threads)
            loaded["server_cpu_s"] = cpu_s(process.pid) - spent
        finally:
            churn.stop.set()
            for t in workers_:
                t.join(timeout=120)
        time.sleep(3)
        settled = rss_mb(process.pid)
    store.close()
    log = (folder / "server.log").read_text(errors="replace")
    if "Traceback" in log:                     # a 500 is a bug: show the first one
        start = log.index("Traceback")
        print(log[start:start + 4000], file=sys.stderr)
    memory = [m for _, m in churn.memory]
    return {"live_s": live, "baseline": baseline, "loaded": loaded, "imports": churn.imports, "edits": churn.edits,
            "errors": churn.errors, "polls": churn.polls, "mixed": churn.mixed,
            "rss_start_mb": memory[0] if memory else float("nan"),
            "rss_max_mb": max(memory) if memory else float("nan"), "rss_after_mb": settled}


def main() -> None:
    """Seed a store, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--stations", help="stations file (default: the shipped Shanghai sample)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-cpus", help="processors for the server, e.g. 0 (the rest run wrk and the edits)")
    args = parser.parse_args()
    server_cpus = {int(c) for c in args.server_cpus.split(",")} if args.server_cpus else None
    stations = read_stations(args.stations)
    print(f"{platform.node()} · Python {platform.python_version()} · {os.cpu_count()} cores · "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="stationmap-live-") as name, store_url(args.backend, Path(name)) as url:
        store = Store.open(url, upgrade=True)
        started = time.perf_counter()
        store.seed(stations, file_name=Path(args.stations or "shanghai").name, digest="")
        print(f"seeded {len(stations):,} stations into {args.backend} in {time.perf_counter() - started:.1f} s")
        store.close()
        r = run(url, stations, seconds=args.seconds, connections=args.connections, workers=args.workers,
                folder=Path(name), server_cpus=server_cpus)
    b, lo = r["baseline"], r["loaded"]
    print(f"commit → every worker answering: median {statistics.median(r['live_s']):.2f} s, "
          f"max {max(r['live_s']):.2f} s ({len(r['live_s'])} edits)")
    print("| run | requests/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |")
    print(f"| nearest alone | {b['rps']:,.0f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} | {b['errors']} {b['kinds']} |")
    print(f"| nearest + import and edit every second | {lo['rps']:,.0f} | {lo['p50_ms']:.1f} | {lo['p99_ms']:.1f} | "
          f"{lo['errors']} {lo['kinds']} |")
    print(f"ratio under edits: {lo['rps'] / b['rps']:.2f}; imports {r['imports']}, edits {r['edits']}, "
          f"change errors {len(r['errors'])} {r['errors'][:3]}; polls {r['polls']}, half-applied answers {r['mixed']}")
    per_cpu = [w["rps"] * args.seconds / w["server_cpu_s"] for w in (b, lo)]
    print(f"server CPU: {b['server_cpu_s']:.1f} s alone, {lo['server_cpu_s']:.1f} s under edits; nearest answers "
          f"per server CPU-second {per_cpu[0]:,.0f} alone, {per_cpu[1]:,.0f} under edits: "
          f"ratio {per_cpu[1] / per_cpu[0]:.2f} (the throughput ratio of a CPU-bound server whose edits and "
          "load come from other machines)")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"server memory (all processes): {r['rss_start_mb']:.0f} MB at start, max {r['rss_max_mb']:.0f} MB, "
          f"{r['rss_after_mb']:.0f} MB after the run")


if __name__ == "__main__":
    main()
