"""The worker page in a real browser (headless Chromium) against the real server."""

import gzip
import json
import re
import urllib.request

import pandas as pd
from browser import Watch, wait_for_map
from conftest import Server

from stationmap import coords
from stationmap.stations import from_frame, write_stations

LUJIAZUI = {"latitude": 31.2397, "longitude": 121.4998}
PHONE = {"width": 390, "height": 844}


def api(base, **query):
    query = {"k": 10, "radius_m": 5000, "mode": "walk", "lang": "zh", **query}
    url = f"{base}/api/v1/stations/nearest?" + "&".join(f"{k}={v}" for k, v in query.items())
    with urllib.request.urlopen(url) as response:
        return json.loads(response.read())


def located_page(browser, base, lang="zh", **context):
    page = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE,
                               locale="zh-CN", **context).new_page()
    watch = Watch(page)
    page.goto(f"{base}/?lang={lang}")
    page.get_by_role("button", name="定位我" if lang == "zh" else "Locate me").click()
    page.wait_for_selector("li.station")
    return page, watch


def listed_ids(page):
    return page.eval_on_selector_all("li.station", "items => items.map(i => i.dataset.id)")


def test_list_matches_the_api_and_nothing_leaves_localhost(browser, offline_server):
    page, watch = located_page(browser, offline_server)
    expected = api(offline_server, lat=LUJIAZUI["latitude"], lon=LUJIAZUI["longitude"])
    assert listed_ids(page) == [r["id"] for r in expected["results"]]
    first = page.locator("li.station").first
    assert expected["results"][0]["name"] in first.inner_text()
    assert page.locator("#assumptions").inner_text() == expected["assumptions"]
    page.screenshot(path="/tmp/stationmap-worker-page.png", full_page=True)
    assert watch.requests and all(url.startswith(offline_server) for url in watch.requests), watch.requests
    assert watch.errors == []


def test_a_filter_changes_the_list(browser, offline_server):
    page, watch = located_page(browser, offline_server)
    before = listed_ids(page)
    page.locator("details.field summary").click()
    with page.expect_response(re.compile(r"/api/v1/stations/nearest.*amenity=ebike_charging")):
        page.get_by_label("电动车充电").check()
    page.wait_for_function("before => [...document.querySelectorAll('li.station')].map(i => i.dataset.id).join()"
                           " !== before",
                           arg=",".join(before))
    expected = api(offline_server, lat=LUJIAZUI["latitude"], lon=LUJIAZUI["longitude"], amenity="ebike_charging")
    assert listed_ids(page) == [r["id"] for r in expected["results"]] != before
    assert watch.errors == []


def test_navigation_link_carries_gcj02(browser, offline_server):
    page, _ = located_page(browser, offline_server)
    first = api(offline_server, lat=LUJIAZUI["latitude"], lon=LUJIAZUI["longitude"])["results"][0]
    href = page.locator("li.station a.go").first.get_attribute("href")
    gcj_lon, gcj_lat = (float(v) for v in coords.wgs84_to_gcj02(first["lon"], first["lat"]))
    assert href.startswith("https://uri.amap.com/navigation?to=")
    assert f"{gcj_lon:.6f}%2C{gcj_lat:.6f}" in href and "coordinate=gaode" in href
    assert abs(gcj_lon - first["lon"]) > 0.003          # and it really is shifted, not WGS-84


def test_english_switch_and_keyboard(browser, offline_server):
    page = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE).new_page()
    page.goto(f"{offline_server}/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    with page.expect_navigation(wait_until="load"):    # the page's script is wired before the key
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("#locate").focus()
    page.keyboard.press("Enter")                           # operable without a mouse
    page.wait_for_selector("li.station")
    assert "min" in page.locator("li.station").first.inner_text()


def test_station_text_is_escaped_everywhere(browser, tmp_path_factory):
    hostile = "<img src=x onerror=alert(1)>"
    path = tmp_path_factory.mktemp("xss") / "stations.csv"
    frame = pd.DataFrame({"id": ["evil", "plain"], "name": [hostile, "正常站"],
                          "lon": [121.4999, 121.51], "lat": [31.2398, 31.24], "opening_hours": ["24/7", "24/7"],
                          "address": ["<script>alert(2)</script>", "路"]})
    write_stations(from_frame(frame), path)
    server = Server("--stations", str(path), env={"STATIONMAP_TILES": "none"})
    try:
        page, watch = located_page(browser, server.url)
        first = page.locator("li.station").first
        assert hostile in first.inner_text() and "<script>alert(2)</script>" in first.inner_text()
        first.locator("h2 button").click()                 # opens the map popup
        page.wait_for_selector(".leaflet-popup-content")
        assert hostile in page.locator(".leaflet-popup-content").inner_text()
        page.wait_for_timeout(300)
        assert page.locator("img[src='x']").count() == 0
        assert watch.dialogs == [] and watch.errors == []
    finally:
        server.stop()


def test_amap_tiles_get_gcj02_overlays(browser):
    server = Server(env={"STATIONMAP_TILES": "amap"})
    try:
        context = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE)
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())   # no tiles here
        page = context.new_page()
        page.goto(f"{server.url}/")
        page.get_by_role("button", name="定位我").click()
        page.wait_for_selector("li.station")
        first = api(server.url, lat=LUJIAZUI["latitude"], lon=LUJIAZUI["longitude"])["results"][0]
        wait_for_map(page)
        drawn = page.evaluate("""() => { const out = [];
            window.stationmapPage.stations.eachLayer(m => out.push([m.getLatLng().lng, m.getLatLng().lat]));
            return out; }""")
        assert any(abs(x - first["gcj02"][0]) < 1e-9 and abs(y - first["gcj02"][1]) < 1e-9 for x, y in drawn)
        assert not any(abs(x - first["lon"]) < 1e-6 and abs(y - first["lat"]) < 1e-6 for x, y in drawn)
    finally:
        server.stop()


def test_first_load_weighs_under_300_kb_gzipped(offline_server):
    def fetch(path):
        request = urllib.request.Request(offline_server + path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            body = response.read()
            assert response.headers.get("Content-Encoding") == "gzip" or len(body) < 500, path   # tiny files stay plain
            return body

    page = fetch("/")
    html = gzip.decompress(page).decode()
    assert len(page) < len(html.encode()) / 2
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) >= 5
    answer = fetch("/api/v1/stations/nearest?lat=31.2397&lon=121.4998&k=10&radius_m=5000")
    total = len(page) + sum(len(fetch(a)) for a in assets) + len(answer)
    assert total <= 300 * 1024, total
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)       # nothing from a CDN


def test_other_stations_in_view_are_drawn_too(browser, offline_server):
    page, watch = located_page(browser, offline_server)
    wait_for_map(page)
    page.wait_for_function("() => window.stationmapPage.around.getLayers().length > 0")
    ids_drawn = page.evaluate("() => window.stationmapPage.around.getLayers().length")
    listed = set(listed_ids(page))
    assert ids_drawn > 0 and len(listed) == 10
    assert any("/api/v1/stations?bbox=" in url for url in watch.requests)
    assert watch.errors == []


def test_api_docs_page_renders_from_local_assets(browser, offline_server):
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    watch = Watch(page)
    page.goto(f"{offline_server}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/stations/nearest" in p for p in paths), paths
    assert all(url.startswith(offline_server) for url in watch.requests), watch.requests
    assert watch.errors == []
