"""Against the real server on loopback: hostile-but-valid questions stay bounded in memory."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from conftest import Server, children


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _request_workers(server: Server) -> list[int]:
    """gunicorn's workers: the master's children that are not the heavy-work pool's service
    (the one with children of its own, the pool's worker processes)."""
    return [pid for pid in children(server.process.pid) if not children(pid)]


def _call(url: str, body: dict | None = None, timeout: float = 60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def server():
    server = Server(env={"STATIONMAP_RATELIMIT_ENABLED": "false", "STATIONMAP_HEAVY_KEEP_BYTES": str(4 * 2**20)})
    yield server
    server.stop()


def test_a_ten_thousand_vertex_zigzag_at_fifty_kilometres_answers_without_the_memory_blowing_up(server):
    x = np.linspace(121.3, 121.6, 10_000)
    y = 31.2 + 0.02 * (np.arange(10_000) % 2)
    body = {"route": {"type": "LineString", "coordinates": np.column_stack([x, y]).round(6).tolist()},
            "distance_m": 50_000}
    workers = _request_workers(server)
    before = sum(_rss_mb(pid) for pid in workers)
    status, payload = _call(f"{server.url}/api/v1/stations/along-route", body, timeout=60)
    after = sum(_rss_mb(pid) for pid in workers)
    assert status in (200, 400), payload[:300]
    assert after - before < 300


def test_request_workers_stay_flat_after_varied_requests(server):
    """Distinct ?v= strings, distinct picture titles (small), coverage questions, nearest: the
    request workers' memory after a warm-up stays within 10 %."""
    def varied(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            _call(f"{server.url}/static/coverage.js?v={i}")
            _call(f"{server.url}/api/v1/stations/nearest?lon={121.3 + (i % 97) / 300}&lat={31.1 + (i % 89) / 300}")
            if i % 50 == 0:
                _call(f"{server.url}/api/v1/maps/image.png?width=300&adcode=310101&title=t{i}")
            if i % 100 == 0:
                _call(f"{server.url}/api/v1/coverage?adcode=310101&radius_m={300 + i}")

    static = _call(f"{server.url}/static/coverage.js")
    if static[0] != 200:
        pytest.skip("no static/coverage.js")
    varied(300, 0)
    workers = _request_workers(server)
    before = {pid: _rss_mb(pid) for pid in workers}
    varied(1500, 300)
    after = {pid: _rss_mb(pid) for pid in _request_workers(server) if pid in before}
    assert after, "the workers were replaced during the test"
    for pid, rss in after.items():
        assert rss <= before[pid] * 1.10, (pid, before[pid], rss)


def test_two_questions_for_twenty_new_sites_answer_and_say_which_method_gave_them():
    """Once both workers were held until gunicorn killed them (the solver had no time limit).
    The job limit is raised here so that a loaded test machine measures the solver's bound,
    not its own speed."""
    from concurrent.futures import ThreadPoolExecutor

    server = Server(env={"STATIONMAP_RATELIMIT_ENABLED": "false", "STATIONMAP_HEAVY_TIMEOUT_S": "150"})
    urls = [f"{server.url}/api/v1/coverage?minutes={m}&recommend=20" for m in (12, 12.5)]
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda url: _call(url, timeout=160), urls))
    finally:
        server.stop()
    for status, payload in answers:
        assert status == 200, payload[:300]
        sites = json.loads(payload)["recommendations"]
        assert len(sites) == 20
        assert {site["method"] for site in sites} <= {"mclp-highs", "greedy", "greedy-after-time-limit"}
