"""Scenarios side by side on the planner's /coverage page, in a real browser against the real server."""

import json
import urllib.parse
import urllib.request

import pytest
from browser import Watch
from conftest import Server

from stationmap.accounts import Account
from stationmap.maps.style import DIFF_COLOURS
from stationmap.stations import read_stations
from stationmap.store import Store
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


@pytest.fixture(scope="module")
def edited_server(tmp_path_factory):
    """The real server (gunicorn and its heavy-work pool) on a register with a history: the sample
    (version 1), then four of Huangpu's stations closed and one opened in a gap (versions 2–6)."""
    folder = tmp_path_factory.mktemp("versions")
    url = f"sqlite:///{folder / 'register.gpkg'}"
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    frame = store.load()[0]
    actor = Account.operator("tests")
    for station_id in frame[frame["adcode"] == "310101"]["id"].tolist()[:4]:
        store.delete(station_id, expected_version=None, actor=actor)
    store.create("NEW-310101-1", {"name": "新站", "lon": 121.4736, "lat": 31.1955, "adcode": "310101"}, actor=actor)
    newest = store.register_version()
    store.close()
    server = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_INSTANCE_PATH": str(folder / "instance"),
                         "STATIONMAP_TILES": "none"}, workers=1)
    yield server.url, newest
    server.stop()


def test_today_against_an_earlier_version_compares_the_registers_and_a_bad_version_is_explained(browser,
                                                                                             edited_server):
    base, newest = edited_server
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{base}/coverage?adcode=310101&minutes=5&compare=1")
    before = ready(page)
    assert page.locator("#b_version-now").inner_text() == f"当前为第 {newest} 版"
    # The preset asks today against the version before today's at once, and the URL carries it.
    page.get_by_role("button", name=PLANNER["zh"]["preset_version"]).click()
    before = ready(page, before)
    assert f"b_version={newest - 1}" in page.url and page.input_value("#b_version") == str(newest - 1)
    # Another version in the field: the map, the table and the downloads are that comparison's.
    page.fill("#b_version", "1")
    page.click("#apply")
    ready(page, before)
    assert "b_version=1" in page.url and "b_version=1" in page.get_attribute("#dl-csv", "href")
    expected = compared(base, adcode="310101", minutes=5, b_version=1, coordsys="wgs84", lang="zh")
    assert expected["totals"]["cells"]["gained"] > 0 and expected["totals"]["cells"]["lost"] > 0
    assert "第 1 版登记册" in page.locator("#compare-scenarios").inner_text()
    rows = page.eval_on_selector_all("#changes tbody tr", "rs => rs.map(r => [...r.children].map(c => c.textContent))")
    row = expected["districts"][0]
    delta = row["area_covered_pct_delta"]
    assert rows[0][1:4] == [f"{row['area_covered_pct_a']:.2f}", f"{row['area_covered_pct_b']:.2f}",
                            ("+" if delta > 0 else "") + f"{delta:.2f}"]
    assert page.evaluate("window.stationmapCoverage.heat.data().n") == len(
        compared(base, adcode="310101", minutes=5, b_version=1, f="cells", coordsys="wgs84")["cells"]) // 4
    # A version the register never had: explained next to its field, in Chinese; the answer cleared.
    page.fill("#b_version", str(newest + 5))
    page.click("#apply")
    page.wait_for_function("() => document.getElementById('err-b_version').textContent.length > 0", timeout=10_000)
    assert page.locator("#err-b_version").inner_text() == PLANNER["zh"]["bad_b_version"].format(n=newest)
    assert page.get_attribute("#b_version", "aria-invalid") == "true"
    assert page.locator("#compare-result").is_hidden()
    assert watch.errors == []
    # A shared link with a bad version opens explained, in English.
    english = browser.new_context(viewport=DESK, locale="en-GB").new_page()
    english.goto(f"{base}/coverage?lang=en&adcode=310101&compare=1&b_version=0")
    english.wait_for_function("() => document.getElementById('err-b_version').textContent.length > 0",
                              timeout=10_000)
    assert english.locator("#err-b_version").inner_text() == PLANNER["en"]["bad_b_version"].format(n=newest)
