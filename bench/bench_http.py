"""HTTP benchmark: nearest under the production server against a bare Flask ceiling.

Both run under the same gunicorn settings and worker count (``stationmap.web.serve.run_wsgi``),
one after the other, loaded by wrk over loopback. The bare endpoint returns a small JSON
object: it is what Flask + gunicorn cost before stationmap does anything. Queries cycle
through points near stations (jitter sd 1 km), k=5 within 2 km.

    python bench/bench_http.py --stations national.parquet --connections 32 --seconds 20
    python bench/bench_http.py --stations national.parquet --in-process --request-threads 16 --access-log /tmp/a.log
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

BARE = '''
from flask import Flask, jsonify
from stationmap.web.serve import run_wsgi
app = Flask("bare")

@app.get("/ping")
def ping():
    return jsonify(status="ok", stations=0)

run_wsgi(app, host="127.0.0.1", port={port}, workers={workers}, **{settings!r})
'''
STATIONMAP = '''
import os, tempfile
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp())   # as `stationmap serve` runs
try:
    from stationmap.web.serve import _access_log
    _access_log({access_log!r})
except ImportError:
    pass                                       # a version without metrics and access log
from stationmap.web import create_app
from stationmap.web.serve import run_wsgi
app = create_app({{"STATIONS_PATH": {stations!r}}})
try:
    from stationmap.web.serve import _warm
    _warm(app)                                 # as `stationmap serve` does before the workers fork
except ImportError:
    pass                                       # a version that does not
run_wsgi(app, host="127.0.0.1", port={port}, workers={workers}, **{settings!r})
'''
LUA = '''
paths = {{}}
for line in io.lines("{paths}") do paths[#paths + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
'''


def _wait(url: str, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("server exited") from None
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, those already ended and
    waited for included (a parent's ``cutime``/``cstime``): the server's own work, whatever else
    runs on the machine.
    """
    tick, total, pending = os.sysconf("SC_CLK_TCK"), 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])          # utime, stime, cutime, cstime
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(c) for c in children.read().split()]
        except OSError:
            continue
    return total / tick


def _wrk(url: str, lua: str | None, connections: int, seconds: int, threads: int) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if lua:
        command += ["-s", lua]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total_errors = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": requests, "p50_ms": latency("50"), "p99_ms": latency("99"), "errors": total_errors}


def _run(script: str, probe: str, lua: str | None, target: str, args) -> dict[str, float]:
    """One server under wrk: requests/s, latency, and the server's own CPU per request (every
    process of it: steadier than requests/s when wrk and others share the machine's cores).
    """
    cpus = args.server_cpus
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)))
    try:
        _wait(probe, server)
        _wrk(target, lua, args.connections, 3, args.threads)              # warm up
        spent = cpu_s(server.pid)
        figures = _wrk(target, lua, args.connections, args.seconds, args.threads)
        figures["cpu_us"] = (cpu_s(server.pid) - spent) / (figures["rps"] * args.seconds) * 1e6
        return figures
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)             # gthread workers finish their requests (graceful_timeout 30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _in_process(paths: list[str], stations: str | None, rounds: int = 5, *, threads: int = 1,
                access_log: str | None = None) -> None:
    """CPU seconds per request through each app's WSGI callable, no network: the server's own
    cost, far steadier than wrk's figures on a shared machine. Alternates the two apps.

    ``threads``: that many threads share each round's requests, as gunicorn's gthread worker
    shares a process's (what the access log's writer costs shows only then). ``access_log``: a
    file, as ``stationmap serve`` writes it, or ``off``; default none set up.
    """
    import threading

    from flask import Flask, jsonify
    from werkzeug.test import EnvironBuilder

    from stationmap.web import create_app

    if access_log:
        from stationmap.web.serve import _access_log

        _access_log(access_log)

    bare = Flask("bare")
    bare.get("/ping")(lambda: jsonify(status="ok", stations=0))
    app = create_app({"STATIONS_PATH": stations} if stations else {})

    def environs(urls):
        return [EnvironBuilder(path=u.split("?")[0], query_string=u.partition("?")[2]).get_environ() for u in urls]

    near_envs, ping_envs = environs(paths[:2000]), environs(["/ping"] * 2000)
    health_envs = environs(["/healthz"] * 2000)       # the app's common cost, without a view

    def answer(wsgi, envs) -> None:
        for env in envs:
            b"".join(wsgi(dict(env), lambda status, headers, exc=None: None))

    def cost(wsgi, envs) -> float:
        share = [envs[i::threads] for i in range(threads)]
        runners = [threading.Thread(target=answer, args=(wsgi, part)) for part in share]
        start = time.process_time()
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
        return (time.process_time() - start) / len(envs) * 1e6
    cost(app, near_envs[:200])
    cost(bare, ping_envs[:200])
    samples = [(cost(bare, ping_envs), cost(app, near_envs), cost(app, health_envs)) for _ in range(rounds)]
    b, n, h = (float(np.median([row[i] for row in samples])) for i in range(3))
    print(f"in process, {threads} thread(s), access log {access_log or 'not set up'}; CPU µs per request "
          f"(median of {rounds}): bare {b:.0f}, stationmap /healthz {h:.0f}, nearest {n:.0f}; "
          f"bare/nearest = {b / n:.0%}")


def _print(rows: list[tuple[str, dict[str, float]]], title: str) -> None:
    print(title)
    print("| endpoint | requests/s | p50 ms | p99 ms | errors | server CPU µs per request |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in rows:
        print(f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} "
              f"| {r['cpu_us']:,.0f} |")
    if len(rows) == 2:
        print(f"nearest reaches {rows[1][1]['rps'] / rows[0][1]['rps']:.0%} of the ceiling's throughput, "
              f"{rows[0][1]['cpu_us'] / rows[1][1]['cpu_us']:.0%} of its requests per server CPU-second")


def main() -> None:
    """Start the server, drive it with wrk, and print requests per second and latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", help="stations file (default: the shipped Shanghai sample)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--worker-class", default=None,
                        help="gunicorn worker class for both servers (default: stationmap's own setting)")
    parser.add_argument("--worker-threads", type=int, default=None, help="threads per worker (gthread)")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="gunicorn's max_requests for both servers (0: workers are never recycled)")
    parser.add_argument("--server-cpus", help="processors for the servers, e.g. 0 (wrk runs on the rest)")
    parser.add_argument("--only", choices=("bare", "nearest"), help="run one of the two servers")
    parser.add_argument("--in-process", action="store_true", help="CPU per request through WSGI, no server")
    parser.add_argument("--request-threads", type=int, default=1, help="--in-process: threads sharing the requests")
    parser.add_argument("--access-log", help="--in-process: the access log's file, or off (default: none set up)")
    args = parser.parse_args()
    args.server_cpus = {int(c) for c in args.server_cpus.split(",")} if args.server_cpus else None
    if args.server_cpus:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - args.server_cpus)    # wrk inherits it
    settings = {}
    if args.worker_class:
        settings["worker_class"] = args.worker_class
    if args.worker_threads:
        settings["threads"] = args.worker_threads
    if args.max_requests is not None:
        settings["max_requests"] = args.max_requests

    from stationmap.stations import read_stations

    stations = read_stations(args.stations)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(stations), 5000)
    lat = stations.geometry.y.to_numpy()[pick] + rng.normal(0, 1000, 5000) / 111_320
    lon = stations.geometry.x.to_numpy()[pick] + rng.normal(0, 1000, 5000) / (111_320 * np.cos(np.radians(lat)))
    work = Path(tempfile.mkdtemp(prefix="stationmap-bench-"))
    (work / "paths.txt").write_text("".join(
        f"/api/v1/stations/nearest?lat={y:.6f}&lon={x:.6f}&k=5&radius_m=2000\n" for x, y in zip(lon, lat, strict=True)))
    if args.in_process:
        _in_process((work / "paths.txt").read_text().splitlines(), args.stations, threads=args.request_threads,
                    access_log=args.access_log)
        return
    lua = work / "nearest.lua"
    lua.write_text(LUA.format(paths=work / "paths.txt"))
    base = f"http://127.0.0.1:{args.port}"

    rows = []
    if args.only != "nearest":
        bare = BARE.format(port=args.port, workers=args.workers, settings=settings)
        rows.append(("bare Flask /ping (ceiling)", _run(bare, f"{base}/ping", None, f"{base}/ping", args)))
    path = os.path.abspath(args.stations) if args.stations else None
    if args.only != "bare":
        rows.append(("/api/v1/stations/nearest", _run(STATIONMAP.format(stations=path, port=args.port,
                                                                        workers=args.workers, settings=settings,
                                                                        access_log=str(work / "access.log")),
                                                      f"{base}/healthz", str(lua), base, args)))
    _print(rows, f"{len(stations):,} stations; gunicorn {args.workers} workers {settings or ''}; "
                 f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s on the same 2-core machine; "
                 f"{time.strftime('%Y-%m-%d %H:%M %Z')}")


if __name__ == "__main__":
    main()
