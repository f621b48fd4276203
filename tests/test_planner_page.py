"""The planner's /coverage page in a real browser (headless Chromium) against the real server."""

import json
import urllib.parse
import urllib.request

import pytest
import shapely
from browser import Watch
from conftest import Server
from playwright.sync_api import TimeoutError as PlaywrightTimeout

DESK = {"width": 1280, "height": 900}


def api(base, **query):
    with urllib.request.urlopen(f"{base}/api/v1/coverage?" + urllib.parse.urlencode(query)) as response:
        return json.loads(response.read())


def opened(browser, base, lang="zh"):
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{base}/coverage?lang={lang}")
    ready(page)
    return page, watch


def ready(page, before=None):
    """Wait until the page has drawn an answer (to different parameters than ``before``);
    if it never does, say what the page showed meanwhile.
    """
    try:
        page.wait_for_function("before => { const t = document.getElementById('table');"
                               " return t.dataset.ready && t.dataset.ready !== before"
                               " && !document.body.classList.contains('busy'); }",
                               arg=before or "", timeout=60_000)
    except PlaywrightTimeout:
        shown = page.evaluate("""() => ({status: document.getElementById('status').textContent,
                                         body: document.body.className, url: location.href,
                                         ready: document.getElementById('table').dataset.ready || null})""")
        raise AssertionError(f"the planner page drew no answer within 60 s; it showed {shown}") from None


def table_rows(page):
    return page.eval_on_selector_all("#table tbody tr", """rows => rows.map(r =>
        [r.dataset.adcode, ...[...r.children].map(c => c.textContent)])""")


def column(page, key):
    keys = page.eval_on_selector_all("#table thead th", "ths => ths.map(t => t.dataset.key)")
    return [row[1 + keys.index(key)] for row in table_rows(page)]


def shown(value):
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{round(value, 6):g}" if abs(value) < 1e6 else str(round(value, 6))
    return str(int(value)) if isinstance(value, float) else str(value)


def test_table_equals_the_api_and_nothing_leaves_localhost(browser, offline_server):
    page, watch = opened(browser, offline_server)
    expected = api(offline_server, coordsys="wgs84", lang="zh")
    rows = table_rows(page)
    assert [r[0] for r in rows] == [d["adcode"] for d in expected["districts"]]
    assert column(page, "area_covered_pct") == [shown(d["area_covered_pct"]) for d in expected["districts"]]
    assert column(page, "stations") == [str(d["stations"]) for d in expected["districts"]]
    assert column(page, "name") == [d["name"] for d in expected["districts"]]
    assert page.locator("#assumptions").inner_text() == expected["assumptions"]
    assert page.locator("#status").inner_text() == "已完成：16 个区"
    # The map: 16 districts coloured, the gaps drawn, every request to this server.
    assert page.evaluate("() => window.stationmapCoverage.gaps.getLayers().length") == 1
    page.screenshot(path="/tmp/planner.png", full_page=True)
    page.get_by_label("显示站点").check()
    page.wait_for_function("() => window.stationmapCoverage.stations.getLayers().length > 1000")
    page.screenshot(path="/tmp/planner-stations.png")
    assert watch.requests and all(url.startswith(offline_server) for url in watch.requests), watch.requests
    assert watch.errors == []


def test_clicking_a_header_sorts_the_table(browser, offline_server):
    page, watch = opened(browser, offline_server)
    header = page.locator("#table thead th[data-key='area_covered_pct']")
    unsorted = [float(v) for v in column(page, "area_covered_pct")]          # the API's order, by adcode
    header.locator("button").click()
    values = [float(v) for v in column(page, "area_covered_pct")]
    assert values == sorted(unsorted) != unsorted
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    values = [float(v) for v in column(page, "area_covered_pct")]
    assert values == sorted(values, reverse=True) and header.get_attribute("aria-sort") == "descending"
    page.locator("#table thead th[data-key='stations'] button").click()     # numbers sort as numbers, not text
    counts = [int(v) for v in column(page, "stations")]
    assert counts == sorted(counts) and header.get_attribute("aria-sort") == "none"
    assert watch.errors == []


def test_night_view_and_downloads_carry_the_parameters(browser, offline_server):
    page, watch = opened(browser, offline_server)
    before = page.locator("#table").get_attribute("data-ready")
    page.locator("#at").fill("02:00")
    ready(page, before)
    night = api(offline_server, at="02:00", coordsys="wgs84", lang="zh")
    day = api(offline_server, coordsys="wgs84", lang="zh")
    assert column(page, "stations") == [str(d["stations"]) for d in night["districts"]]
    assert column(page, "stations") != [str(d["stations"]) for d in day["districts"]]
    assert "02:00" in page.locator("#assumptions").inner_text()
    types = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "geojson": "application/geo+json", "html": "text/html"}
    for f, mimetype in types.items():
        href = page.locator(f"#dl-{f}").get_attribute("href")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
        assert (query["at"] == ["02:00"] and query["f"] == [f] and query["minutes"] == ["15"]
                and query["adcode"] == ["310100"])
        with urllib.request.urlopen(offline_server + href) as response:
            assert response.status == 200 and response.headers.get_content_type() == mimetype
    assert watch.errors == []


def test_one_district_by_ebike_with_new_sites(browser, offline_server):
    page, watch = opened(browser, offline_server)
    before = page.locator("#table").get_attribute("data-ready")
    page.locator("#area").select_option("310112")
    ready(page, before)
    before = page.locator("#table").get_attribute("data-ready")
    page.locator("#recommend").fill("3")
    page.locator("#recommend").dispatch_event("change")
    ready(page, before)
    expected = api(offline_server, adcode="310112", recommend=3, coordsys="wgs84", lang="zh")
    assert [r[0] for r in table_rows(page)] == ["310112"]
    assert page.evaluate("() => window.stationmapCoverage.sites.getLayers().length") == 3
    assert page.locator("#sites li").count() == 3 and page.locator("#sites-head").is_visible()
    drawn = page.evaluate("() => window.stationmapCoverage.sites.getLayers()"
                          ".map(m => [m.getLatLng().lng, m.getLatLng().lat])")
    assert drawn == [[s["lon"], s["lat"]] for s in expected["recommendations"]]
    assert watch.errors == []


def test_english(browser, offline_server):
    page, watch = opened(browser, offline_server, lang="en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Union station coverage"
    assert page.locator("#table thead th").first.inner_text() == "Adcode"
    assert page.locator("#assumptions").inner_text().startswith("Covered: within a 15-minute walk")
    assert "Minhang" in column(page, "name")
    assert page.locator("#dl-xlsx").inner_text() == "Excel table"
    assert "lang=en" in page.locator("#dl-xlsx").get_attribute("href")
    assert watch.errors == []


def test_amap_tiles_get_gcj02_overlays(browser):
    server = Server(env={"STATIONMAP_TILES": "amap"})
    try:
        context = browser.new_context(viewport=DESK)
        context.route("**/*",
                      lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_())
        page = context.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{server.url}/coverage")
        ready(page)
        assert any("/api/v1/coverage?" in u and "coordsys=gcj02" in u and "f=geojson" in u for u in requests)
        assert "coordsys=gcj02" in page.locator("#dl-geojson").get_attribute("href")
        # Where the gaps are drawn: GCJ-02 positions (about 500 m from the WGS-84 ones).
        drawn = page.evaluate("""() => {
                                         const b = L.featureGroup(window.stationmapCoverage.gaps.getLayers())
                                             .getBounds();
                                         return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }""")
        def bounds(system):
            with urllib.request.urlopen(f"{server.url}/api/v1/coverage?f=geojson&coordsys={system}") as response:
                gaps = json.loads(response.read())
            return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in gaps["features"]]).bounds
        assert drawn == pytest.approx(list(bounds("gcj02")), abs=1e-6)
        assert max(abs(a - b) for a, b in zip(drawn, bounds("wgs84"), strict=True)) > 0.003
    finally:
        server.stop()
