"""What an operator sees: /metrics through the real server, /readyz, the JSON access log."""

import json
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stationmap import __version__
from stationmap.web import create_app
from stationmap.web.ops import add_ready_check

NEAREST = "/api/v1/stations/nearest"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def served():
    from conftest import Server

    server = Server(workers=2)
    for i in range(40):             # spread over both workers; new connection each time
        assert _get(f"{server.url}{NEAREST}?lat=31.23{i:02d}&lon=121.47&k=3")[0] == 200
    assert _get(f"{server.url}/api/v1/stations/SH-NOT-THERE")[0] == 404
    yield server
    server.stop()


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_count_and_time_every_request_of_both_workers_per_route_template(served):
    status, text = _get(f"{served.url}/metrics")
    assert status == 200
    families = _families(text)
    latency = families["stationmap_http_request_duration_seconds"]
    assert latency.type == "histogram"
    counts = {s.labels["route"]: s.value for s in latency.samples if s.name.endswith("_count")}
    assert counts[NEAREST] == 40                                    # summed over the two workers
    assert counts["/api/v1/stations/<station_id:station_id>"] == 1  # the template, not the id
    buckets = [s for s in latency.samples if s.name.endswith("_bucket") and s.labels["route"] == NEAREST]
    assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 40
    requests = families["stationmap_http_requests"]
    assert {(s.labels["route"], s.labels["status"]) for s in requests.samples if s.name.endswith("_total")} >= {
        (NEAREST, "200"), ("/api/v1/stations/<station_id:station_id>", "404")}
    assert "lat=" not in text and "31.23" not in text


def test_metrics_carry_index_size_versions_and_pool_depth(served):
    families = _families(_get(f"{served.url}/metrics")[1])
    assert families["stationmap_index_stations"].samples[0].value == 1446
    info = families["stationmap_build_info"].samples[0]
    assert info.labels["version"] == __version__ and info.labels["dataset_version"] and info.value == 1
    assert "stationmap_pool_queue_depth" in families


def test_access_log_is_one_json_object_per_request_without_coordinates(served):
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in served.log().splitlines() if line.startswith("{")]
        records = [json.loads(line) for line in lines]
        nearest = [r for r in records if r["route"] == NEAREST]
        if len(nearest) >= 40 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(nearest) == 40
    for record in nearest:
        assert set(record) == {"time", "method", "route", "status", "duration_ms", "bytes", "pid"}
        assert record["method"] == "GET" and record["status"] == 200 and record["bytes"] > 0
        assert record["duration_ms"] >= 0 and record["time"].endswith("+00:00")
    assert len({r["pid"] for r in nearest}) >= 1
    assert "31.23" not in "\n".join(lines) and "lat" not in "\n".join(lines)
    assert any(r["route"] == "/api/v1/stations/<station_id:station_id>" and r["status"] == 404 for r in records)


def test_readyz_is_200_with_its_checks_when_the_index_is_loaded(served):
    status, body = _get(f"{served.url}/readyz")
    assert status == 200
    answer = json.loads(body)
    assert answer["status"] == "ready" and answer["checks"]["dataset"]["ok"] is True
    assert answer["checks"]["pool"] == {"ok": True, "detail": "alive"}      # stationmap serve starts the pool
    assert _get(f"{served.url}/healthz")[0] == 200


def test_readyz_is_503_problem_naming_each_failing_check():
    app = create_app({"TESTING": True})
    add_ready_check(app, "pool", lambda: (False, "no worker alive"))
    add_ready_check(app, "store", lambda: 1 / 0)          # a broken check is "not ready", never a 500
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    failing = {e["parameter"]: e["reason"] for e in response.json["errors"]}
    assert failing == {"pool": "no worker alive", "store": "ZeroDivisionError: division by zero"}
    assert "dataset" not in failing


def test_a_workers_access_lines_are_written_by_its_own_writer_started_after_the_fork():
    from conftest import Server

    server = Server(workers=1)
    try:
        for i in range(30):
            assert _get(f"{server.url}{NEAREST}?lat=31.24{i:02d}&lon=121.47&k=3")[0] == 200
    finally:
        server.stop()           # the worker's writer, started again after the fork, wrote every line
    records = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert len([r for r in records if r["route"] == NEAREST]) == 30


def test_the_app_keeps_plain_hooks_as_they_are_and_still_wraps_coroutine_functions():
    app = create_app({"TESTING": True})

    def plain():
        return "plain"

    async def coroutine():
        return "coroutine"

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError as error:                # Flask's async support (asgiref) is not installed
        assert "async" in str(error)
    else:
        assert wrapped is not coroutine and wrapped() == "coroutine"


def test_a_process_that_exits_with_access_lines_still_held_writes_them_all(tmp_path):
    import subprocess
    import sys

    log = tmp_path / "access.log"
    script = f"""
import logging, os
from stationmap.web import log_writer, serve
log_writer.EVERY = 3600                    # the writer waits: every line is still held at exit
serve._access_log({str(log)!r})
for i in range(5000):
    logging.getLogger("stationmap.access").info('{{"n": %d}}', i)
print(os.path.getsize({str(log)!r}))
"""
    done = subprocess.run([sys.executable, "-c", script], check=True, timeout=60, capture_output=True, text=True)
    assert done.stdout.split() == ["0"]
    assert [json.loads(line)["n"] for line in log.read_text().splitlines()] == list(range(5000))


def test_the_master_builds_the_column_lists_before_the_workers_fork_and_freezes_its_objects():
    import gc

    from stationmap.web.serve import _warm

    app = create_app({"TESTING": True})
    index = app.extensions["stationmap"].current.index
    assert "columns" not in index._memo
    try:
        _warm(app)
        assert "columns" in index._memo and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_setting_the_access_log_twice_leaves_one_writer_and_writes_each_line_once(tmp_path):
    import subprocess
    import sys

    first, second = tmp_path / "first.log", tmp_path / "second.log"
    script = f"""
import logging
from stationmap.web import serve
from stationmap.web.log_writer import BatchedLines
serve._access_log({str(first)!r})
earlier = serve._ACCESS_WRITER["lines"]
serve._access_log({str(second)!r})
for i in range(100):
    logging.getLogger("stationmap.access").info('{{"n": %d}}', i)
writers = [h for h in logging.getLogger("stationmap.access").handlers if isinstance(h, BatchedLines)]
print(len(writers), len(earlier._held), earlier.stream.closed)
"""
    done = subprocess.run([sys.executable, "-c", script], check=True, timeout=60, capture_output=True, text=True)
    assert done.stdout.split() == ["1", "0", "True"]   # no second writer holding lines nobody writes
    assert first.read_text() == ""
    assert [json.loads(line)["n"] for line in second.read_text().splitlines()] == list(range(100))


def test_a_hook_that_cannot_be_a_dictionary_key_runs_as_flask_runs_it():
    from dataclasses import dataclass

    @dataclass
    class Hook:                                          # __eq__ and no __hash__: unhashable
        calls: int = 0

        def __call__(self) -> None:
            self.calls += 1

    app = create_app({"TESTING": True})
    hook = Hook()
    app.before_request(hook)
    assert app.test_client().get("/healthz").status_code == 200 and hook.calls == 1



def test_an_app_served_by_another_server_logs_its_access_lines_as_records_on_the_access_logger(caplog):
    from stationmap.web.log_writer import DIRECT

    assert DIRECT == []                    # only `stationmap serve` hands lines to its writer
    app = create_app({"TESTING": True})
    with caplog.at_level("INFO", logger="stationmap.access"):
        assert app.test_client().get(f"{NEAREST}?lat=31.2304&lon=121.4737&k=2").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "stationmap.access"]
    assert len(lines) == 1 and json.loads(lines[0])["route"] == NEAREST
    assert "31.2304" not in lines[0]


def test_with_serves_writer_the_access_line_goes_to_it_and_not_to_the_logger(caplog):
    import io

    from stationmap.web.log_writer import DIRECT, BatchedLines

    out = io.StringIO()
    writer = BatchedLines(out)
    DIRECT.append(writer)
    try:
        app = create_app({"TESTING": True})
        with caplog.at_level("INFO", logger="stationmap.access"):
            assert app.test_client().get(f"{NEAREST}?lat=31.2304&lon=121.4737&k=2").status_code == 200
            assert app.test_client().get("/healthz").status_code == 200
    finally:
        DIRECT.clear()
    writer.stop()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["route"] for r in records] == [NEAREST, "/healthz"]
    assert all(set(r) == {"time", "method", "route", "status", "duration_ms", "bytes", "pid"} for r in records)
    assert not [r for r in caplog.records if r.name == "stationmap.access"]


def test_requests_lines_follow_the_access_log_when_it_is_set_again_and_stop_when_it_is_off(tmp_path):
    import subprocess
    import sys

    first, second = tmp_path / "first.log", tmp_path / "second.log"
    script = f"""
from stationmap.web import create_app, serve
from stationmap.web.log_writer import DIRECT
serve._access_log({str(first)!r})
client = create_app({{"TESTING": True}}).test_client()
client.get("/healthz")
serve._access_log({str(second)!r})
for i in range(5):
    client.get("{NEAREST}?lat=31.23{{:02d}}&lon=121.47".format(i))
serve._access_log("off")
client.get("/api/v1/meta")
print(len(DIRECT))
"""
    done = subprocess.run([sys.executable, "-c", script], check=True, timeout=120, capture_output=True, text=True)
    assert done.stdout.split() == ["0"]
    assert [json.loads(line)["route"] for line in first.read_text().splitlines()] == ["/healthz"]
    lines = second.read_text().splitlines()
    assert [json.loads(line)["route"] for line in lines] == [NEAREST] * 5 and "31.23" not in "".join(lines)
