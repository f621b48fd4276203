"""Scenarios side by side on the planner's /coverage page, in a real browser against the real server."""

import json
import urllib.parse
import urllib.request

from browser import Watch

from stationmap.maps.style import DIFF_COLOURS
from stationmap.texts import PLANNER

DESK = {"width": 1280, "height": 900}


def compared(base, **query):
    with urllib.request.urlopen(f"{base}/api/v1/coverage/compare?" + urllib.parse.urlencode(query)) as response:
        return json.loads(response.read())


def ready(page, before=""):
    page.wait_for_function("before => { const t = document.getElementById('changes');"
                           " return t.dataset.ready && t.dataset.ready !== before"
                           " && !document.body.classList.contains('busy'); }", arg=before, timeout=120_000)
    return page.get_attribute("#changes", "data-ready")


def test_day_against_night_draws_the_difference_legend_and_the_district_changes(browser, offline_server):
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{offline_server}/coverage?adcode=310101&compare=1&b_at=02:00")
    ready(page)
    expected = compared(offline_server, adcode="310101", b_at="02:00", coordsys="wgs84", lang="zh")
    # The legend: the four changes, gained and lost first, in the palette's colours.
    keys = page.eval_on_selector_all("#legend .key.diff", "ks => ks.map(k => [k.dataset.change, k.dataset.colour,"
                                                          " k.textContent])")
    assert [k[0] for k in keys] == ["gained", "lost", "covered", "gap"]
    assert all(colour == DIFF_COLOURS[change] for change, colour, _ in keys)
    assert [k[2] for k in keys] == ["新增覆盖", "失去覆盖", "两者均覆盖", "两者均为空白"]
    assert page.locator("#legend strong").inner_text() == PLANNER["zh"]["diff_title"]
    # The table of changes: the API's numbers, in Chinese.
    assert page.locator("#compare-result").is_visible() and not page.locator("#table-wrap").is_visible()
    rows = page.eval_on_selector_all("#changes tbody tr", "rs => rs.map(r => [...r.children].map(c => c.textContent))")
    row = expected["districts"][0]
    assert rows[0][0] == "黄浦区"
    assert rows[0][1:4] == [f"{row['area_covered_pct_a']:.2f}", f"{row['area_covered_pct_b']:.2f}",
                            f"{row['area_covered_pct_delta']:.2f}"]
    assert rows[0][6] == f"{row['population_covered_delta']:,}"
    assert page.locator("#changes td.down").count() >= 1 and page.locator("#changes td.up").count() == 0
    # The map draws every cell of the comparison, and the downloads are the comparison's.
    assert page.evaluate("window.stationmapCoverage.heat.data().n") == len(
        compared(offline_server, adcode="310101", b_at="02:00", f="cells", coordsys="wgs84")["cells"]) // 4
    assert "/api/v1/coverage/compare?" in page.get_attribute("#dl-xlsx", "href")
    assert "b_at=02%3A00" in page.get_attribute("#dl-csv", "href")
    assert page.locator("#dl-html").is_hidden()
    assert "compare=1" in page.url and "b_at=02%3A00" in page.url
    assert watch.errors == [] and all(u.startswith(offline_server) for u in watch.requests)


def test_a_preset_asks_at_once_and_bad_b_minutes_are_explained_in_chinese(browser, offline_server):
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{offline_server}/coverage?adcode=310104&compare=1")
    before = ready(page)
    page.get_by_role("button", name=PLANNER["zh"]["preset_minutes"]).click()
    ready(page, before)
    assert "minutes=10" in page.url and "b_minutes=15" in page.url
    assert page.locator("#changes td.up").count() >= 1
    page.fill("#b_minutes", "99")
    page.click("#apply")
    page.wait_for_function("() => document.getElementById('err-b_minutes').textContent.length > 0", timeout=10_000)
    assert page.locator("#err-b_minutes").inner_text() == PLANNER["zh"]["bad_b_minutes"]
    assert page.get_attribute("#b_minutes", "aria-invalid") == "true"
    assert page.locator("#compare-result").is_hidden()
    assert watch.errors == []


def test_a_shared_link_with_a_bad_scenario_b_time_is_explained_not_dropped(browser, offline_server):
    page = browser.new_context(viewport=DESK, locale="en-GB").new_page()
    page.goto(f"{offline_server}/coverage?lang=en&adcode=310101&compare=1&b_at=25:99")
    page.wait_for_function("() => document.getElementById('err-b_at').textContent.length > 0", timeout=10_000)
    assert page.locator("#err-b_at").inner_text() == PLANNER["en"]["bad_b_at"]
