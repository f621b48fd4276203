"""The heavy-work pool (stationmap.jobs): bounded, shared by the whole server, never a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Server, require_program, running

from stationmap import jobs, pool_service
from stationmap.errors import InputError


def _sleep(context, seconds, tag):
    jobs.progress("sleeping", 0.5)
    time.sleep(seconds)
    return f"{context}:{tag}:{os.getpid()}"


def _refuse(context):
    raise InputError("not like that", field="x")


def _grow(context):
    global _ballast
    _ballast = bytearray(50 * 2**20)
    return len(_ballast)


@pytest.fixture()
def pool():
    address, key, pid = pool_service.start_service("ctx", processes=2, queue=2, recycle_after=2, timeout_s=5)
    client = pool_service.PoolClient(address, key)
    yield client
    os.kill(pid, 15)


def test_identical_questions_in_flight_are_one_job(pool):
    first = pool.submit("same", _sleep, (0.5, "a"))
    assert pool.submit("same", _sleep, (0.5, "a")) == first
    assert pool.result(first, 10).startswith("ctx:a:")
    assert pool.submit("same", _sleep, (0.5, "a")) == first          # kept: answered at once


def test_a_full_queue_is_refused_at_once_with_a_retry_after(pool):
    ids = [pool.submit(i, _sleep, (1, i)) for i in range(2)]
    deadline = time.monotonic() + 5
    while any(pool.status(i)["state"] != "running" for i in ids) and time.monotonic() < deadline:
        time.sleep(0.02)
    ids += [pool.submit(i, _sleep, (1, i)) for i in range(2, 4)]      # 2 running + 2 queued
    started = time.monotonic()
    with pytest.raises(jobs.PoolFull) as refused:
        pool.submit("one more", _sleep, (1, "x"))
    assert time.monotonic() - started < 1 and refused.value.retry_after >= 1
    assert [pool.result(i, 10).split(":")[1] for i in ids] == ["0", "1", "2", "3"]


def test_status_cancel_and_time_limit(pool):
    job = pool.submit("slow", _sleep, (30, "s"))
    deadline = time.monotonic() + 5
    while pool.status(job)["stage"] != "sleeping" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.status(job)["progress"] == 0.5
    assert pool.cancel(job) and pool.status(job)["state"] == "cancelled"
    limited = pool.submit("limited", _sleep, (30, "t"), timeout_s=1)
    with pytest.raises(jobs.JobTimeout):
        pool.result(limited, 10)
    assert pool.alive()


def test_one_clients_cancel_withdraws_only_that_client_from_a_shared_question(pool):
    first = pool.submit("shared", _sleep, (3, "s"), ticket=True)
    second = pool.submit("shared", _sleep, (3, "s"), ticket=True)
    assert first != second and first.split(".")[0] == second.split(".")[0]    # one job, two tickets
    assert pool.cancel(first)
    assert pool.status(first)["state"] == "cancelled"                          # for the one who left
    assert pool.status(second)["state"] in ("queued", "running")               # not for the other
    with pytest.raises(jobs.JobFailed):
        pool.result(first, 1)
    assert not pool.cancel(first)                                              # once is enough
    assert pool.result(second, 10).startswith("ctx:s:")
    job = pool.submit("alone", _sleep, (30, "a"), ticket=True)
    assert pool.cancel(job) and pool.status(job)["state"] == "cancelled"
    assert pool.status(job.split(".")[0])["state"] == "cancelled"              # the last one out stops it


def test_a_ticket_that_was_never_given_out_is_not_a_job(pool):
    job = pool.submit("mine", _sleep, (0.2, "m"), ticket=True)
    for forged in (job.split(".")[0] + ".0123456789abcdef", job.split(".")[0] + "."):   # an empty ticket too
        with pytest.raises(InputError):
            pool.status(forged)
        with pytest.raises(InputError):
            pool.cancel(forged)
    assert pool.result(job, 10).startswith("ctx:m:")


def test_a_question_also_asked_inside_the_server_is_never_stopped_by_a_ticket(pool):
    inside = pool.submit("both", _sleep, (1, "b"))
    outside = pool.submit("both", _sleep, (1, "b"), ticket=True)
    assert pool.cancel(outside)
    assert pool.result(inside, 10).startswith("ctx:b:")


def test_input_errors_come_back_with_their_field(pool):
    with pytest.raises(InputError) as error:
        pool.run("refuse", _refuse, ())
    assert error.value.field == "x"


def test_workers_are_recycled_so_memory_returns(pool):
    pids = {pool.run(i, _sleep, (0, i)).split(":")[2] for i in range(6)}
    assert len(pids) >= 3                                            # 2 processes × 2 jobs each, then new ones


def _get(url: str, timeout: float = 30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_coverage_and_picture_flood_gets_503s_while_nearest_keeps_answering():
    server = Server(env={"STATIONMAP_HEAVY_QUEUE": "1", "STATIONMAP_HEAVY_PROCESSES": "1"})
    try:
        urls = [f"{server.url}/api/v1/coverage?adcode=310101&minutes={10 + i / 10}" for i in range(6)]
        urls += [f"{server.url}/api/v1/maps/image.png?width=300&adcode=310101&title=flood{i}" for i in range(6)]
        with ThreadPoolExecutor(len(urls)) as flood:
            answers = flood.map(_get, urls)
            probes = []
            for _ in range(10):
                started = time.monotonic()
                status, _, _ = _get(f"{server.url}/api/v1/stations/nearest?lon=121.47&lat=31.23", timeout=10)
                probes.append((status, time.monotonic() - started))
            answers = list(answers)
        assert all(status == 200 for status, _ in probes)
        refused = [(headers, body) for status, headers, body in answers if status == 503]
        assert refused, [a[0] for a in answers]
        for headers, body in refused:
            assert int(headers["Retry-After"]) >= 1
            assert headers["Content-Type"].startswith("application/problem+json")
            assert json.loads(body)["status"] == 503
        unexpected = [(s, b[:300]) for s, _, b in answers if s not in (200, 503)]
        assert all(status in (200, 503) for status, _, _ in answers), unexpected
    finally:
        server.stop()


def _post(url: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_a_client_past_its_limit_gets_429_problem_json_with_retry_after(tmp_path, storage):
    import subprocess

    from conftest import _free_port

    env = {"STATIONMAP_RATELIMIT_ALONG_ROUTE": "3 per minute"}
    redis = None
    if storage == "redis":
        program = require_program("redis-server", package="redis-server")
        port = _free_port()
        redis = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        env["STATIONMAP_RATELIMIT_STORAGE_URL"] = f"redis://127.0.0.1:{port}/0"
    server = Server(env=env)
    try:
        body = {"route": {"type": "LineString", "coordinates": [[121.47, 31.23], [121.48, 31.24]]}, "distance_m": 500}
        answers = [_post(f"{server.url}/api/v1/stations/along-route", body) for _ in range(8)]
        statuses = [status for status, _, _ in answers]
        # in memory each of the 2 workers counts for itself; redis counts once for the server
        assert statuses.count(200) <= (3 if storage == "redis" else 6) and 429 in statuses, statuses
        for status, headers, payload in answers:
            if status == 429:
                assert int(headers["Retry-After"]) >= 1
                assert headers["Content-Type"].startswith("application/problem+json")
                assert json.loads(payload)["status"] == 429
        assert _get(f"{server.url}/api/v1/stations/nearest?lon=121.47&lat=31.23")[0] == 200
    finally:
        server.stop()
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


@pytest.mark.parametrize("path, setting", [
    ("/api/v1/maps/image.svg?width=300", "RATELIMIT_PICTURES"),
    ("/api/v1/maps/image.png?width=300", "RATELIMIT_PICTURES"),
    ("/api/v1/coverage?adcode=310101&f=csv", "RATELIMIT_COVERAGE"),
])
def test_every_heavy_route_is_limited_by_its_setting(path, setting):
    """The limits are attached by endpoint name: a renamed route must keep its limit."""
    from stationmap.stations import default_path
    from stationmap.web import create_app

    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": True, setting: "2 per minute",
                      "STATIONS_PATH": str(default_path())})
    client = app.test_client()
    statuses = [client.get(path).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429, statuses


def test_the_pool_services_socket_folder_is_removed_when_the_server_process_exits(tmp_path):
    script = ("from stationmap import pool_service\n"
              "address, key, pid = pool_service.start_service('ctx', processes=1, queue=1, recycle_after=2,\n"
              "                                               timeout_s=5)\n"
              "print(address, flush=True)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    folder = os.path.dirname(result.stdout.strip())
    assert folder.startswith(tempfile.gettempdir()) and not os.path.exists(folder)


def test_a_pool_worker_whose_service_died_before_the_worker_began_still_ends():
    """The worker must know its service by the pid it was forked from, not by whichever
    process is its parent when it first looks: a busy machine can run the service's exit
    before the new worker's first line, and a worker that then takes init for its service
    lives for ever, holding the service's stdout open (a ``subprocess.run`` of a script that
    started the pool then never returns).
    """
    import signal

    # the service stand-in stops each worker the moment it is forked, and exits while it is stopped
    script = ("import os, signal\n"
              "from stationmap import jobs\n"
              "os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGSTOP))\n"
              "pool = jobs.JobPool('ctx', processes=1, queue=1)\n"
              "print(pool._slots[0].process.pid, flush=True)\n"
              "os._exit(0)\n")
    # its own process group, so whatever happens the test leaves no process behind (killpg below)
    with tempfile.TemporaryFile("w+") as out:
        service = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            assert service.wait(timeout=60) == 0
            out.seek(0)
            worker = int(out.read())
            os.kill(worker, signal.SIGCONT)
            deadline = time.monotonic() + 30
            while running(worker) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not running(worker), "the worker outlived its service"
        finally:
            try:
                os.killpg(service.pid, signal.SIGKILL)          # SIGKILL ends a stopped process too
            except ProcessLookupError:
                pass
            service.wait(timeout=10)
