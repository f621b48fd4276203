"""Heavy answers follow the living register: the pool answers from the request's register version.

The heavy-work pool (issue 13) is forked once per server; the register changes while it runs
(issue 10). A coverage answer asked after `stationmap station set` must come *through the pool*
and name the new register version, within the 5 s the live register promises.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Server
from test_live import BOUND_S, _edit, _seeded

from stationmap import pool_service


class _Register:
    """A stand-in context with a version, as the pool service holds the app's LiveDataset."""

    def __init__(self) -> None:
        self.version = 1


def _version_of(context: _Register) -> int:
    return context.version


def _catch_up(context: _Register, needed: int) -> None:
    context.version = needed + 1                 # the store moved on again meanwhile: the pool is ahead


def _which(context: _Register, tag: str) -> tuple[int, int, str]:
    return context.version, os.getpid(), tag


def test_a_job_is_never_answered_from_an_older_version_than_it_asked():
    address, key, pid = pool_service.start_service(_Register(), processes=1, queue=2, timeout_s=10,
                                           version_of=_version_of, catch_up=_catch_up)
    pool = pool_service.PoolClient(address, key)
    try:
        first, first_pid, _ = pool.run("q", _which, ("a",), 10, version=1)
        assert first == 1
        newer, newer_pid, _ = pool.run("q", _which, ("a",), 10, version=2)     # same question, newer register
        assert newer == 3 and newer_pid != first_pid                           # caught up, a fresh worker
        assert pool.run("q", _which, ("a",), 10, version=1)[0] == 1            # the kept answer for version 1
        assert pool.run("other", _which, ("b",), 10, version=2)[0] == 3        # pool ahead: the newer one
        stats = pool.stats()
        assert stats["version"] == 3 and stats["versions"] == [3]
    finally:
        os.kill(pid, 15)


_SHARED = _Register()


def _bump_soon() -> None:
    """In the service: the register moves on to version 2 half a second after start, with no job."""
    import threading

    threading.Timer(0.5, lambda: setattr(_SHARED, "version", 2)).start()


def _idle_workers_after_an_edit(renew_idle_s: float, seconds: float) -> tuple[list, list, pool_service.PoolClient, int]:
    address, key, pid = pool_service.start_service(_SHARED, on_start=_bump_soon, processes=1, queue=2, timeout_s=10,
                                           version_of=_version_of, catch_up=_catch_up, renew_idle_s=renew_idle_s)
    pool = pool_service.PoolClient(address, key)
    first = pool.stats()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:                    # bounded: a few seconds
        now = pool.stats()
        if now["version"] == 2 and now["versions"] == [2]:
            break
        time.sleep(0.1)
    return first["processes"], now["processes"], pool, pid


def test_an_idle_worker_is_renewed_after_an_edit_once_it_is_old_enough():
    before, after, pool, pid = _idle_workers_after_an_edit(renew_idle_s=0, seconds=20)
    try:
        assert pool.stats()["versions"] == [2] and after != before       # replaced within the bound
    finally:
        os.kill(pid, 15)


def test_while_edits_stream_an_idle_worker_is_not_forked_again_for_each_but_a_job_still_gets_the_new_register():
    before, after, pool, pid = _idle_workers_after_an_edit(renew_idle_s=3600, seconds=3)
    try:
        stats = pool.stats()
        assert stats["version"] == 2 and stats["versions"] == [1] and after == before   # the idle fork is kept
        version, worker, _ = pool.run("q", _which, ("a",), 10, version=2)
        assert version == 2 and worker not in before                                    # a fresh fork for the job
    finally:
        os.kill(pid, 15)


def _coverage(url: str, radius_m: float) -> tuple[int, float, dict]:
    started = time.monotonic()
    request = urllib.request.Request(f"{url}/api/v1/coverage?adcode=310101&radius_m={radius_m}",
                                     headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, started, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, started, json.loads(error.read())


def _check_pool_follows_the_register(url: str) -> None:
    server = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_HEAVY_QUEUE": "1",
                         "STATIONMAP_HEAVY_PROCESSES": "1"}, workers=2)
    try:
        status, _, body = _coverage(server.url, 800)
        assert status == 200 and body["dataset"]["version"] == "r00000000001", body
        _edit(url, "重活池测试站")
        edited = time.monotonic()
        while True:                                      # bounded: by the live bound, then one answer's time
            status, started, body = _coverage(server.url, 800)
            assert started - edited <= BOUND_S, f"no coverage answer named register version 2 within {BOUND_S} s"
            if status == 200 and body["dataset"]["version"] == "r00000000002":
                break
            time.sleep(0.1)
        # Through the pool, not in the request: distinct questions at once overflow its one
        # process and one queue place (503), where request workers would answer them all.
        with ThreadPoolExecutor(6) as flood:
            answers = list(flood.map(lambda r: _coverage(server.url, r), [300 + 50 * i for i in range(6)]))
        assert any(status == 503 for status, _, _ in answers), [status for status, _, _ in answers]
        done = [body for status, _, body in answers if status == 200]
        assert done and all(b["dataset"]["version"] == "r00000000002" for b in done)
        assert all(status in (200, 503) for status, _, _ in answers)
    finally:
        server.stop()


@pytest.mark.slow
def test_after_an_edit_on_sqlite_coverage_comes_through_the_pool_from_the_new_register(tmp_path):
    _check_pool_follows_the_register(_seeded(f"sqlite:///{tmp_path / 'register.gpkg'}"))


@pytest.mark.slow
def test_after_an_edit_on_postgresql_coverage_comes_through_the_pool_from_the_new_register(postgres):
    _check_pool_follows_the_register(_seeded(postgres.database()))


def test_in_file_mode_heavy_answers_still_come_from_the_pool_unversioned():
    from stationmap.dataset import Dataset
    from stationmap.stations import default_path

    server = Server("--stations", str(default_path()), env={"STATIONMAP_HEAVY_QUEUE": "1",
                                                           "STATIONMAP_HEAVY_PROCESSES": "1"}, workers=1)
    try:
        status, _, body = _coverage(server.url, 800)
        assert status == 200 and body["dataset"]["version"] == Dataset.load().version
        with ThreadPoolExecutor(6) as flood:
            answers = list(flood.map(lambda r: _coverage(server.url, r), [300 + 50 * i for i in range(6)]))
        assert any(status == 503 for status, _, _ in answers), [status for status, _, _ in answers]
    finally:
        server.stop()
