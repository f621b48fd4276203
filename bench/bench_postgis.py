"""Benchmark: stationmap's nearest engine against PostGIS on the same stations and queries.

Starts PostgreSQL 15 + PostGIS 3 from the Debian packages (``postgresql-15``,
``postgresql-15-postgis-3``) in a temporary directory (initdb + pg_ctl, a free loopback port,
the unix socket in the same directory; as root the server runs as the ``postgres`` user),
loads the stations, and runs, for k = 5 within 2 km:

* **geography KNN**: ``WHERE ST_DWithin(geog, q, r) ORDER BY geog <-> q LIMIT k``: what a GIS
  engineer writes first. ``<->`` on geography orders by *sphere* distance, so it is not exact
  on the WGS-84 spheroid;
* **exact two-step**: KNN candidates (2k) re-ranked by ``ST_Distance(geog, q, true)``
  (spheroid), accepted when the k-th spheroid distance is within the last candidate's sphere
  distance shrunk by 0.5 % (sphere and spheroid distances differ by less), else repeated with
  four times the candidates;
* both one query at a time (prepared statements over the unix socket) and as one
  ``CROSS JOIN LATERAL`` batch of 100,000 points;

and the same with :class:`stationmap.index.StationIndex` (``nearest`` and ``nearest_batch``).
Every answer on a sample is compared with brute force (Karney's geodesic to every station,
pyproj). The server is stopped and its directory removed at the end, also on error.

    stationmap sample national --n 186100 --out /tmp/national.parquet
    python bench/bench_postgis.py --stations /tmp/national.parquet
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

PG_BIN = Path("/usr/lib/postgresql/15/bin")
K, RADIUS_M = 5, 2000.0
#: Sphere (R = 6,371,008.8 m) and WGS-84 geodesic distances differ by well under 0.5 %.
SPHERE_SLACK = 0.005


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A throwaway PostgreSQL + PostGIS server in a temporary directory."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="stationmap-postgis-"))
        self.data, self.socket_dir, self.port = self.root / "data", self.root / "run", _free_port()
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-locale"]),
                       check=True, capture_output=True, timeout=120)
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                   "-c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c jit=off")
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                                     "-l", str(self.root / "server.log"), "-w", "-t", "60", "start"]),
                       check=True, capture_output=True, timeout=90)

    def connect(self):
        """An autocommit connection over the unix socket (no TCP cost in the per-query figures)."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname="postgres",
                               autocommit=True)

    def stop(self) -> None:
        """Stop the server and delete its directory; quiet if it never started, so it is safe in ``finally``."""
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=60, check=False)   # already stopped is fine
        shutil.rmtree(self.root, ignore_errors=True)


def _queries(lon: np.ndarray, lat: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(lon), count)
    qlat = lat[pick] + rng.normal(0, 1000, count) / 111_320.0
    qlon = lon[pick] + rng.normal(0, 1000, count) / (111_320.0 * np.cos(np.radians(qlat)))
    return qlon, qlat


KNN = ("SELECT pos FROM stations WHERE ST_DWithin(geog, ST_MakePoint(%(x)s, %(y)s)::geography, %(r)s) "
       "ORDER BY geog <-> ST_MakePoint(%(x)s, %(y)s)::geography LIMIT %(k)s")
TWO_STEP = ("WITH q AS (SELECT ST_MakePoint(%(x)s, %(y)s)::geography AS g), "
            "c AS (SELECT pos, geog, geog <-> q.g AS sphere FROM stations, q "
            "      WHERE ST_DWithin(geog, q.g, %(r)s) ORDER BY geog <-> q.g LIMIT %(m)s) "
            "SELECT pos, ST_Distance(c.geog, q.g, true) AS d, (SELECT count(*) FROM c), (SELECT max(sphere) FROM c) "
            "FROM c, q ORDER BY d, pos LIMIT %(k)s")
KNN_BATCH = ("SELECT q.id, s.pos FROM queries q CROSS JOIN LATERAL ("
             " SELECT pos FROM stations WHERE ST_DWithin(stations.geog, q.geog, %(r)s)"
             " ORDER BY stations.geog <-> q.geog LIMIT %(k)s) s")
TWO_STEP_BATCH = ("SELECT q.id, s.pos, s.d, s.n, s.far FROM queries q CROSS JOIN LATERAL ("
                  " SELECT c.pos, ST_Distance(c.geog, q.geog, true) AS d, count(*) OVER () AS n,"
                  "        max(c.sphere) OVER () AS far FROM ("
                  "  SELECT pos, geog, geog <-> q.geog AS sphere FROM stations"
                  "  WHERE ST_DWithin(stations.geog, q.geog, %(r)s) ORDER BY geog <-> q.geog LIMIT %(m)s) c"
                  " ORDER BY d, c.pos LIMIT %(k)s) s")


def _two_step(cur, x: float, y: float) -> list[int]:
    m = 2 * K
    while True:
        rows = cur.execute(TWO_STEP, {"x": x, "y": y, "r": RADIUS_M, "m": m, "k": K}, prepare=True).fetchall()
        if not rows:
            return []
        count, far = rows[0][2], rows[0][3]
        kth = rows[-1][1]
        if count < m or (len(rows) == K and kth <= far * (1 - SPHERE_SLACK)):
            return [r[0] for r in rows if r[1] <= RADIUS_M]
        m *= 4


def _timed(call, xs, ys) -> tuple[np.ndarray, list]:
    times, answers = np.empty(len(xs)), []
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        start = time.perf_counter_ns()
        answers.append(call(x, y))
        times[i] = (time.perf_counter_ns() - start) / 1000
    return times, answers


def _load(cur, index, bx: np.ndarray, by: np.ndarray) -> str:
    """Create PostGIS, copy in the stations (GiST-indexed) and the batch's query points; the server's name."""
    version = cur.execute("SELECT version()").fetchone()[0].split(" on ")[0]
    cur.execute("CREATE EXTENSION postgis")
    postgis = cur.execute("SELECT postgis_lib_version()").fetchone()[0]
    cur.execute("CREATE TABLE stations (pos integer PRIMARY KEY, geog geography(Point, 4326) NOT NULL)")
    with cur.copy("COPY stations (pos, geog) FROM STDIN") as copy:
        for p, (x, y) in enumerate(zip(index.lon.tolist(), index.lat.tolist(), strict=True)):
            copy.write_row((p, f"SRID=4326;POINT({x!r} {y!r})"))
    cur.execute("CREATE INDEX ON stations USING gist (geog)")
    cur.execute("CREATE TABLE queries (id integer PRIMARY KEY, geog geography(Point, 4326) NOT NULL)")
    with cur.copy("COPY queries (id, geog) FROM STDIN") as copy:
        for i, (x, y) in enumerate(zip(bx.tolist(), by.tolist(), strict=True)):
            copy.write_row((i, f"SRID=4326;POINT({x!r} {y!r})"))
    cur.execute("ANALYZE")
    return f"{version}, PostGIS {postgis}"


def _singles(cur, index, every, sx: np.ndarray, sy: np.ndarray) -> dict[str, tuple[np.ndarray, list]]:
    """Each engine's per-query times (µs) and answers, one query at a time, after a warm-up of 50."""

    def knn(x: float, y: float) -> list[int]:
        return [r[0] for r in cur.execute(KNN, {"x": x, "y": y, "r": RADIUS_M, "k": K}, prepare=True).fetchall()]

    def two_step(x: float, y: float) -> list[int]:
        return _two_step(cur, x, y)

    def ours(x: float, y: float) -> list[int]:
        return index.nearest(x, y, k=K, radius_m=RADIUS_M, filters=every).positions.tolist()

    for call in (knn, two_step, ours):      # warm up caches and plans
        _timed(call, sx[:50], sy[:50])
    t_ours = _timed(ours, sx, sy)
    t_knn = _timed(knn, sx, sy)
    t_two = _timed(two_step, sx, sy)
    return {"stationmap": t_ours, "PostGIS KNN": t_knn, "PostGIS two-step": t_two}


def _batches(cur, index, every, bx: np.ndarray, by: np.ndarray, repeat: int = 3) -> tuple[dict[str, float], int]:
    """Each engine's best seconds of ``repeat`` runs of the whole batch, taken in turn (the
    machine is shared: the best run is the least disturbed), and how many two-step batch
    queries were not proven complete.
    """
    best = {"stationmap": np.inf, "PostGIS KNN": np.inf, "PostGIS two-step": np.inf}
    rows: list = []
    for _ in range(repeat):
        start = time.perf_counter()
        index.nearest_batch(bx, by, k=K, radius_m=RADIUS_M, filters=every)
        best["stationmap"] = min(best["stationmap"], time.perf_counter() - start)
        start = time.perf_counter()
        cur.execute(KNN_BATCH, {"r": RADIUS_M, "k": K}).fetchall()
        best["PostGIS KNN"] = min(best["PostGIS KNN"], time.perf_counter() - start)
        start = time.perf_counter()
        rows = cur.execute(TWO_STEP_BATCH, {"r": RADIUS_M, "m": 2 * K, "k": K}).fetchall()
        best["PostGIS two-step"] = min(best["PostGIS two-step"], time.perf_counter() - start)
    unproven = len({r[0] for r in rows if r[3] == 2 * K and r[2] > r[4] * (1 - SPHERE_SLACK)})
    return best, unproven


def _agreement(index, every, sx: np.ndarray, sy: np.ndarray, singles: dict, check: int) -> dict[str, int]:
    """How many of the first ``check`` single answers each engine got exactly right (brute force decides)."""
    from stationmap.testing import brute_force_nearest

    agree = dict.fromkeys(singles, 0)
    for i in range(check):
        truth = brute_force_nearest(index, sx[i], sy[i], k=K, radius_m=RADIUS_M, filters=every)[0].tolist()
        for name, (_, answers) in singles.items():
            agree[name] += answers[i] == truth
    return agree


def main() -> None:
    """Load the stations into a throwaway PostGIS, race the engines, and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", help="stations file (default: the shipped Shanghai sample)")
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--check", type=int, default=200, help="queries compared with brute force")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each batch; the best counts")
    args = parser.parse_args()

    from stationmap.index import StationIndex
    from stationmap.stations import read_stations

    index = StationIndex(read_stations(args.stations))
    sx, sy = _queries(index.lon, index.lat, args.singles, seed=1)
    bx, by = _queries(index.lon, index.lat, args.batch, seed=2)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {len(index):,} stations, k={K} within {RADIUS_M:g} m")

    pg = Postgres()
    try:
        with pg.connect() as conn, conn.cursor() as cur:
            print(f"server: {_load(cur, index, bx, by)}")

            # Only open stations count in stationmap's default; PostGIS is given every station, so
            # stationmap runs with include_closed to answer the same question.
            from stationmap.index import Filters

            every = Filters(include_closed=True)
            singles = _singles(cur, index, every, sx, sy)
            batches, unproven = _batches(cur, index, every, bx, by, args.repeat)
    finally:
        pg.stop()

    check = min(args.check, len(sx))
    agree = _agreement(index, every, sx, sy, singles, check)
    t_ours, b_ours = singles["stationmap"][0], batches["stationmap"]

    def row(name: str, single: np.ndarray, batch: float) -> str:
        return (f"| {name} | {np.median(single):,.0f} | {np.percentile(single, 99):,.0f} | "
                f"{np.median(single) / np.median(t_ours):.1f}× | {batch:.2f} | {batch / b_ours:.1f}× | "
                f"{agree[name]}/{check} |")

    print("| engine | single median (µs) | single p99 (µs) | single vs stationmap | "
          f"{args.batch:,} batch (s) | batch vs stationmap | same answer as brute force |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("stationmap", "PostGIS KNN", "PostGIS two-step"):
        print(row(name, singles[name][0], batches[name]))
    print(f"two-step batch: {unproven} of {args.batch:,} queries not proven complete by their 2k candidates "
          "(the single two-step repeats those)")


if __name__ == "__main__":
    main()
