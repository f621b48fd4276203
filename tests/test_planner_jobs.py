"""Long planner questions as jobs in the server's pool: progress, reload, cancel (real server, Chromium)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from browser import Watch
from conftest import Server, children, running
from test_planner_page import DESK

#: A deliberately large question: 5 minutes' walk over the whole city with a cell budget ten
#: times the default (about 4 million cells), then ten sites: a minute or more of work.
LARGE = "minutes=5&recommend=10"


@pytest.fixture(scope="module")
def server():
    server = Server(env={"STATIONMAP_TILES": "none", "STATIONMAP_HEAVY_PROCESSES": "1",
                         "STATIONMAP_COVERAGE_MAX_CELLS": "4000000", "STATIONMAP_RATELIMIT_ENABLED": "false"})
    yield server
    server.stop()


def _call(url: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _pool_workers(server: Server) -> set[int]:
    """The pool's worker processes: children of the one child of the server that has children."""
    return {worker for child in children(server.process.pid) for worker in children(child)}


def _until(check, seconds: float = 120, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_a_job_reports_its_stages_answers_its_parts_and_refuses_what_is_not_there(server):
    status, headers, body = _call(f"{server.url}/api/v1/coverage/jobs?adcode=310101&recommend=2", "POST")
    job = json.loads(body)
    assert status == 202 and headers["Location"] == f"/api/v1/coverage/jobs/{job['id']}"
    seen = set()

    def finished():
        now = json.loads(_call(f"{server.url}/api/v1/coverage/jobs/{job['id']}")[2])
        seen.add(now["stage"])
        return now if now["state"] == "done" else None

    done = _until(finished, what="a small job to finish")
    assert done["links"]["cells"].endswith("/cells")
    answer = json.loads(_call(server.url + done["links"]["json"])[2])
    direct = json.loads(_call(f"{server.url}/api/v1/coverage?adcode=310101&recommend=2")[2])
    assert answer["districts"] == direct["districts"] and answer["recommendations"] == direct["recommendations"]
    assert json.loads(_call(server.url + done["links"]["cells"])[2])["count"] > 0
    assert seen <= {"districts", "sampling", "solver", "coverage", "formatting", "done", "running"}
    missing = _call(f"{server.url}/api/v1/coverage/jobs/no-such-job")
    assert missing[0] == 404 and missing[1]["Content-Type"] == "application/problem+json"
    bad = _call(f"{server.url}/api/v1/coverage/jobs?minutes=99", "POST")
    assert bad[0] == 400 and "minutes" in bad[2].decode()


def test_two_planners_asking_the_same_question_each_cancel_only_their_own_wait(server):
    ask = f"{server.url}/api/v1/coverage/jobs?adcode=310115&mode=ebike&minutes=15&recommend=10"
    mine = json.loads(_call(ask, "POST")[2])
    theirs = json.loads(_call(ask, "POST")[2])
    assert mine["id"] != theirs["id"] and mine["id"].split(".")[0] == theirs["id"].split(".")[0]   # one job
    bare = mine["id"].split(".")[0]                  # readable off one's own id: never enough to act
    for method in ("GET", "DELETE"):
        for forged in (bare, bare + "."):
            refused = _call(f"{server.url}/api/v1/coverage/jobs/{forged}", method)
            assert refused[0] == 404 and refused[1]["Content-Type"] == "application/problem+json"
    assert _call(f"{server.url}/api/v1/coverage/jobs/{bare}./json")[0] == 404
    forged = _call(f"{server.url}/api/v1/coverage/jobs/{bare}.0123456789abcdef", "DELETE")
    assert forged[0] == 404
    withdrawn = json.loads(_call(f"{server.url}/api/v1/coverage/jobs/{mine['id']}", "DELETE")[2])
    assert withdrawn["cancelled"] and withdrawn["state"] == "cancelled"
    still = json.loads(_call(f"{server.url}/api/v1/coverage/jobs/{theirs['id']}")[2])
    assert still["state"] in ("queued", "running", "done")
    gone = json.loads(_call(f"{server.url}/api/v1/coverage/jobs/{theirs['id']}", "DELETE")[2])   # the last one out
    assert gone["state"] == "cancelled" or still["state"] == "done"


def test_a_large_question_shows_progress_survives_a_reload_and_cancel_stops_the_work_in_the_pool(browser, server):
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(f"{server.url}/coverage?{LARGE}")
    # Progress: districts done and cells sampled, a bar that moves, the job's id in the URL.
    page.wait_for_function("() => { const b = document.getElementById('job-bar');"
                           " return !document.getElementById('job').hidden && b.value > 0; }", timeout=180_000)
    text = page.locator("#job-stage").inner_text()
    assert "取样：已完成" in text and "个网格" in text, text
    job_id = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["job"][0]
    assert len(posts) == 1 and "/api/v1/coverage/jobs?" in posts[0]
    # A reload watches the same job: no new question is asked.
    page.reload()
    page.wait_for_function("() => !document.getElementById('job').hidden"
                           " && document.getElementById('job-stage').textContent", timeout=60_000)
    assert f"job={job_id}" in page.url and len(posts) == 1
    workers = _pool_workers(server)
    assert len(workers) == 1                                 # HEAVY_PROCESSES=1: the one running the job
    # Cancel: the page says so and forgets the job; the pool killed the process doing the work.
    page.get_by_role("button", name="取消计算").click()
    page.wait_for_function("() => document.getElementById('status').textContent === '已取消计算。'", timeout=30_000)
    assert page.locator("#job").is_hidden() and "job=" not in page.url
    status = json.loads(_call(f"{server.url}/api/v1/coverage/jobs/{job_id}")[2])
    assert status["state"] == "cancelled"
    assert _call(f"{server.url}/api/v1/coverage/jobs/{job_id}/json")[0] == 410
    _until(lambda: not any(running(pid) for pid in workers), 30, "the cancelled job's worker to be gone")
    assert page.locator("#table tbody tr").count() == 0          # no half answer left on the page
    assert watch.errors == []


#: Demand where the stations are not: a GBK sheet with a title row, Chinese headers, GCJ-02 (the default).
DEMAND = "崇明区外卖骑手订单（示例）\n经度,纬度,人数\n121.50,31.62,1000\n121.40,31.70,800\n121.47,31.23,100\n"
BAD_DEMAND = "经度,纬度,人数\n121.50,31.62,很多\n,31.70,3\n"


def _totals(page) -> dict[str, str]:
    return dict(zip(page.locator("#totals dt").all_inner_texts(), page.locator("#totals dd").all_inner_texts(),
                    strict=True))


def test_a_demand_upload_changes_population_covered_and_the_sites_and_a_bad_one_is_refused_by_row_and_column(
        browser, server):
    from test_planner_page import ready

    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{server.url}/coverage?recommend=2")
    ready(page)
    assert page.locator("#demand-note").inner_text() == "未上传需求数据：人口按各区面积均匀分布。"
    before = _totals(page)
    sites_before = page.locator("#sites li").all_inner_texts()
    page.locator("#demand").set_input_files(files=[{"name": "骑手订单.csv", "mimeType": "text/csv",
                                                    "buffer": DEMAND.encode("gbk")}])
    page.wait_for_function("() => document.getElementById('demand-note').textContent.includes('骑手订单.csv')"
                           " && !document.body.classList.contains('busy')", timeout=120_000)
    after = _totals(page)
    assert "合计 · 人口覆盖率" in before and "合计 · 需求覆盖率" in after
    # 1,900 riders' orders, 100 of them where stations are (the city centre): 5.3 % covered.
    assert after["合计 · 需求覆盖率"] == "5.3%" != before["合计 · 人口覆盖率"]
    assert "3 个点，其中 3 个在范围内" in page.locator("#demand-note").inner_text()
    sites_after = page.locator("#sites li").all_inner_texts()
    assert sites_after != sites_before and all("崇明区" in s for s in sites_after)
    assert "/api/v1/coverage/jobs/" in page.locator("#dl-xlsx").get_attribute("href")
    # A bad file: refused with every problem's row and column, nothing computed, the old answer cleared.
    page.locator("#demand").set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv",
                                                    "buffer": BAD_DEMAND.encode("utf-8")}])
    page.wait_for_function("() => document.getElementById('err-demand').textContent", timeout=60_000)
    problems = page.locator("#err-demand").inner_text()
    assert "第 2 行“人数”列" in problems and "第 3 行“经度”列" in problems
    assert page.locator("#status").inner_text() == "需求文件无法使用，未计算。"
    assert page.locator("#table tbody tr").count() == 0
    assert [e for e in watch.errors if "400" not in e] == []        # the refusal's 400 is logged by Chromium
