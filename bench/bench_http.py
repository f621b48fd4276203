"""HTTP benchmark: nearest under the production server against a bare Flask ceiling.

Both run under the same gunicorn settings and worker count (``stationmap.web.serve.run_wsgi``),
one after the other, loaded by wrk over loopback. The bare endpoint returns a small JSON
object: it is what Flask + gunicorn cost before stationmap does anything. Queries cycle
through points near stations (jitter sd 1 km), k=5 within 2 km.

    python bench/bench_http.py --stations national.parquet --connections 32 --seconds 20
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

run_wsgi(app, host="127.0.0.1", port={port}, workers={workers})
'''
STATIONMAP = '''
from stationmap.web import create_app
from stationmap.web.serve import run_wsgi
run_wsgi(create_app({{"STATIONS_PATH": {stations!r}}}), host="127.0.0.1", port={port}, workers={workers})
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


def _wrk(url: str, lua: str | None, connections: int, seconds: int, threads: int) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if lua:
        command += ["-s", lua]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total_errors = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": requests, "p50_ms": latency("50"), "p99_ms": latency("99"), "errors": total_errors}


def _run(script: str, probe: str, lua: str | None, target: str, args) -> dict[str, float]:
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(probe, server)
        _wrk(target, lua, args.connections, 3, args.threads)              # warm up
        return _wrk(target, lua, args.connections, args.seconds, args.threads)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Start the server, drive it with wrk, and print requests per second and latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", help="stations file (default: the shipped Shanghai sample)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    from stationmap.stations import read_stations

    stations = read_stations(args.stations)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(stations), 5000)
    lat = stations.geometry.y.to_numpy()[pick] + rng.normal(0, 1000, 5000) / 111_320
    lon = stations.geometry.x.to_numpy()[pick] + rng.normal(0, 1000, 5000) / (111_320 * np.cos(np.radians(lat)))
    work = Path(tempfile.mkdtemp(prefix="stationmap-bench-"))
    (work / "paths.txt").write_text("".join(
        f"/api/v1/stations/nearest?lat={y:.6f}&lon={x:.6f}&k=5&radius_m=2000\n" for x, y in zip(lon, lat, strict=True)))
    lua = work / "nearest.lua"
    lua.write_text(LUA.format(paths=work / "paths.txt"))
    base = f"http://127.0.0.1:{args.port}"

    bare = _run(BARE.format(port=args.port, workers=args.workers), f"{base}/ping", None, f"{base}/ping", args)
    path = os.path.abspath(args.stations) if args.stations else None
    near = _run(STATIONMAP.format(stations=path, port=args.port, workers=args.workers), f"{base}/healthz",
                str(lua), base, args)
    print(f"{len(stations):,} stations; gunicorn {args.workers} workers; wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds}s on the same 2-core machine")
    print("| endpoint | requests/s | p50 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in (("bare Flask /ping (ceiling)", bare), ("/api/v1/stations/nearest", near)):
        print(f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
    print(f"nearest reaches {near['rps'] / bare['rps']:.0%} of the ceiling's throughput")


if __name__ == "__main__":
    main()
