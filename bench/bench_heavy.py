"""Heavy work against the lookup: nearest latency with and without a coverage flood, and memory
after many varied requests, on the real ``stationmap serve`` (2 workers) over loopback.

    PYTHONPATH=$PWD python bench/bench_heavy.py --requests 20000 --flood 8

Run it on a baseline checkout too (``PYTHONPATH=/path/to/old python bench/bench_heavy.py``) for
ratios. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import Server  # noqa: E402


def _get(url: str, timeout: float = 30) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0                                           # timed out / refused
    return status, time.perf_counter() - started


def _probe(base: str, n: int) -> dict:
    times, failures = [], 0
    for i in range(n):
        lon, lat = 121.3 + (i % 97) / 300, 31.1 + (i % 89) / 300
        status, seconds = _get(f"{base}/api/v1/stations/nearest?lon={lon}&lat={lat}", timeout=10)
        times.append(seconds)
        failures += status != 200
    ms = np.array(times) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "failed": failures, "probes": n}


def _flood(base: str, threads: int, stop: threading.Event, counts: dict) -> list[threading.Thread]:
    def run(k: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            url = (f"{base}/api/v1/coverage?minutes={10 + (k * 1000 + i) / 1000:.3f}" if i % 2 else
                   f"{base}/api/v1/maps/image.png?width=600&title=flood{k}-{i}")
            status, _ = _get(url, timeout=90)
            counts[status] = counts.get(status, 0) + 1
    workers = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(threads)]
    for worker in workers:
        worker.start()
    return workers


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def _tree(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        return []
    return children + [g for c in children for g in _tree(c)]


def _varied(base: str, n: int) -> None:
    for i in range(n):
        _get(f"{base}/static/coverage.js?v={i}")
        _get(f"{base}/api/v1/stations/nearest?lon={121.3 + (i % 97) / 300}&lat={31.1 + (i % 89) / 300}")
        if i % 200 == 0:
            _get(f"{base}/api/v1/maps/image.png?width=300&adcode=310101&title=m{i}", timeout=90)
        if i % 500 == 0:
            _get(f"{base}/api/v1/coverage?adcode=310101&radius_m={300 + i}", timeout=90)


def main() -> None:
    """Probe the nearest-station answer quiet and under a flood of heavy requests, then measure memory over many."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--flood", type=int, default=8, help="concurrent coverage/picture clients")
    parser.add_argument("--requests", type=int, default=20_000, help="varied requests for the memory figure "
                        "(each loop is 2 requests, so this many / 2 loops)")
    args = parser.parse_args()
    server = Server(env={"STATIONMAP_RATELIMIT_ENABLED": "false"})
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    try:
        result["quiet"] = _probe(server.url, args.probes)
        stop, counts = threading.Event(), {}
        flood = _flood(server.url, args.flood, stop, counts)
        time.sleep(3)
        result["flood"] = _probe(server.url, args.probes)
        stop.set()
        for worker in flood:
            worker.join(120)
        result["flood"]["heavy_answers"] = counts
        _varied(server.url, 200)
        before = {pid: _rss_mb(pid) for pid in _tree(server.process.pid)}
        started = time.perf_counter()
        _varied(server.url, args.requests // 2)
        after = {pid: _rss_mb(pid) for pid in _tree(server.process.pid)}
        result["memory"] = {"requests": args.requests, "seconds": round(time.perf_counter() - started),
                            "rss_mb_before": {p: round(v) for p, v in before.items()},
                            "rss_mb_after": {p: round(v) for p, v in after.items()}}
    finally:
        server.stop()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
