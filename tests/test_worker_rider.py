"""What a rider needs to know, said clearly; stations along a route: headless Chromium on a
phone viewport against the real server."""

import json
import re
import urllib.request

import pandas as pd
import pytest
from browser import Watch, wait_for_map
from conftest import Server

from stationmap import travel
from stationmap.stations import from_frame, write_stations

PHONE = {"width": 390, "height": 844}
LUJIAZUI = {"latitude": 31.2397, "longitude": 121.4998}


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """Three stations by Lujiazui: open to all, members only, the host's staff only."""
    path = tmp_path_factory.mktemp("access") / "stations.csv"
    frame = pd.DataFrame({"id": ["all", "members", "staff"], "name": ["大家的站", "会员的站", "职工的站"],
                          "lon": [121.4999, 121.5010, 121.5020], "lat": [31.2398, 31.2405, 31.2410],
                          "opening_hours": ["24/7", "Mo-Fr 09:00-17:00", ""],
                          "access": ["public", "union_members", "employees"],
                          "amenities": ["toilet;drinking_water", "wifi;microwave", ""],
                          "last_verified": ["2026-10-01", "", "2026-11-02"]})
    write_stations(from_frame(frame), path)
    server = Server("--stations", str(path), env={"STATIONMAP_TILES": "none"})
    yield server.url
    server.stop()


def page_at(browser, url, **context):
    page = browser.new_context(viewport=PHONE, locale="zh-CN", **context).new_page()
    watch = Watch(page)
    page.goto(url)
    return page, watch


def test_every_card_carries_its_access_badge_in_both_languages(browser, small_server):
    for lang, words in (("zh", ["向户外劳动者开放", "会员专用", "本单位职工专用"]),
                        ("en", ["Open to outdoor workers", "Union members only", "Host employer's staff only"])):
        page, watch = page_at(browser, f"{small_server}/?lang={lang}&at=31.2397,121.4998&cs=wgs84")
        page.wait_for_selector("li.station")
        badges = {li.get_attribute("data-id"): li.locator(".access").inner_text() for li in page.locator("li.station").all()}  # noqa: E501
        assert badges == dict(zip(["all", "members", "staff"], words, strict=True))
        assert watch.errors == []
        page.context.close()


def test_the_week_and_last_verified_are_one_tap_away_and_amenities_in_vocabulary_order(browser, small_server):
    page, _ = page_at(browser, f"{small_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84")
    card = page.locator("li.station[data-id=members]")
    card.wait_for()
    # vocabulary order: microwave before Wi-Fi
    assert card.locator(".amenity-list").inner_text().split("\n") == ["微波炉", "无线网络"]
    summary = card.locator(".week summary")
    assert "本周开放时间" in summary.inner_text() and "未记录核实日期" in summary.inner_text()
    assert "最近核实：2026-10-01" in page.locator("li.station[data-id=all] .week summary").inner_text()
    summary.click()
    rows = card.locator(".week tr").all_inner_texts()
    assert len(rows) == 7 and sum("09:00–17:00" in r for r in rows) == 5 and sum("不开放" in r for r in rows) == 2
    page.context.close()


def test_a_far_nearest_station_is_warned_about(browser, small_server):
    page, _ = page_at(browser, f"{small_server}/?lang=zh&at=31.3800,121.2500&cs=wgs84")       # Jiading, ~30 km
    page.wait_for_selector("li.station")
    warning = page.locator(".notice.warn").inner_text()
    assert warning.startswith("最近的站点也在") and "km" in warning
    page.context.close()
    near, _ = page_at(browser, f"{small_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84")
    near.wait_for_selector("li.station")
    assert near.locator(".notice.warn").count() == 0
    near.context.close()


def test_outside_the_served_area_it_says_so_and_does_not_widen(browser, small_server):
    for lang, words in (("zh", "不在本服务覆盖范围（上海市）"),
                        ("en", "outside the area this service covers (Shanghai)")):
        page, watch = page_at(browser, f"{small_server}/?lang={lang}&at=30.2741,120.1551&cs=wgs84")   # Hangzhou
        page.wait_for_selector(".notice.warn")
        assert words in page.locator(".notice.warn").inner_text()
        assert page.locator("li.station").count() == 0
        assert not any("radius_m=50000" in url for url in watch.requests), watch.requests
        page.context.close()


def test_tapping_a_station_brings_its_pin_into_view(browser, offline_server):
    page, _ = page_at(browser, f"{offline_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84")
    page.wait_for_selector("li.station")
    wait_for_map(page)
    page.evaluate("() => window.stationmapPage.map.setView([31.10, 121.20], 13, {animate: false})")   # look away
    last = page.locator("li.station").last
    last.locator("h2 button").click()
    page.wait_for_selector(".leaflet-popup-content")
    inside = page.evaluate("""id => { const p = window.stationmapPage;
        return p.map.getBounds().contains(p.markers[id].getLatLng()); }""", last.get_attribute("data-id"))
    assert inside
    page.context.close()


def test_a_station_tapped_before_the_map_arrives_opens_on_the_map_once_it_does(browser, offline_server):
    # On a weak signal the list is there seconds before the map: a tap then must not be lost.
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    held = []
    context.route(re.compile(r"/static/worker_map\.js"), lambda route: held.append(route))   # the map waits
    page = context.new_page()
    watch = Watch(page)
    # The page's "load" waits for the held script: the list is there long before it.
    page.goto(f"{offline_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84", wait_until="domcontentloaded")
    page.wait_for_selector("li.station")
    last = page.locator("li.station").last
    last.locator("h2 button").click()
    assert page.evaluate("() => window.stationmapPage === undefined")        # no map yet
    for _ in range(100):                                                     # bounded: 10 s
        if held:
            break
        page.wait_for_timeout(100)
    assert held
    for route in held:
        route.continue_()
    page.wait_for_selector(".leaflet-popup-content")
    assert page.locator(".leaflet-popup-content strong").inner_text() in last.locator("h2").inner_text()
    inside = page.evaluate("""id => { const p = window.stationmapPage;
        return p.map.getBounds().contains(p.markers[id].getLatLng()); }""", last.get_attribute("data-id"))
    assert inside and watch.errors == []
    context.close()


def along_route(base, start, end, distance_m, mode="walk"):
    body = json.dumps({"route": {"type": "LineString", "coordinates": [start, end]}, "distance_m": distance_m,
                       "mode": mode, "lang": "zh"}).encode()
    request = urllib.request.Request(f"{base}/api/v1/stations/along-route", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def test_stations_along_my_route_in_order_with_their_detours(browser, offline_server):
    context = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE)
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{offline_server}/?lang=zh")
    page.get_by_role("button", name="定位我").click()
    page.wait_for_selector("li.station")
    page.locator("#route summary").click()
    page.locator("#route-within").select_option("300")
    page.get_by_role("button", name="选择目的地").click()
    # Tap People's Square on the map.
    # Zoomed out (below 13 the other stations are not drawn), so the tap meets the map, not a pin.
    # The map in view first: on a phone the controls (now with the search box) push it down.
    page.locator("#map").scroll_into_view_if_needed()
    wait_for_map(page)
    page.evaluate("() => window.stationmapPage.map.setView([31.236, 121.487], 12, {animate: false})")
    page.wait_for_function("() => window.stationmapPage.around.getLayers().length === 0")
    x, y = page.evaluate("() => { const p = window.stationmapPage.map.latLngToContainerPoint([31.2304, 121.4737]);"
                         " return [p.x, p.y]; }")
    box = page.locator("#map").bounding_box()
    with page.expect_response(re.compile(r"/api/v1/stations/along-route")):
        page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector(".notice.info")
    to = page.evaluate("() => new URLSearchParams(location.search).get('to')").split(",")
    expected = along_route(offline_server, [LUJIAZUI["longitude"], LUJIAZUI["latitude"]],
                           [float(to[1]), float(to[0])], 300)
    assert expected["count"] > 1
    ids = page.eval_on_selector_all("li.station", "items => items.map(i => i.dataset.id)")
    assert ids == [r["id"] for r in expected["results"]]
    along = [r["along_m"] for r in expected["results"]]
    assert along == sorted(along)                                          # in the order the route meets them
    first = page.locator("li.station").first.inner_text()
    minutes = max(1, round(travel.minutes(2 * expected["results"][0]["distance_m"], "walk")))
    assert f"绕行约 {minutes} 分钟" in first
    assert "按经过顺序" in page.locator(".notice.info").inner_text()
    assert "within=300" in page.url and "to=" in page.url
    # The link restores the route too.
    other = browser.new_context(viewport=PHONE).new_page()
    other.goto(page.url)
    other.wait_for_selector(".notice.info")
    assert other.eval_on_selector_all("li.station", "items => items.map(i => i.dataset.id)") == ids
    assert watch.errors == []
    context.close()
    other.context.close()


def held_requests(page, pattern):
    """Requests to `pattern` held until the test lets each go (route.continue_())."""
    held = []
    page.route(re.compile(pattern), lambda route: held.append(route))
    return held


def wait_until(page, condition, watch=None):
    """Wait (at most 20 s) until ``condition()``; if it never holds, say where the page was and,
    with ``watch``, which API requests it had made (a request made but never held means it
    went past the test's route).
    """
    for _ in range(200):                                                       # bounded: 20 s
        if condition():
            return
        page.wait_for_timeout(100)
    asked = [url for url in watch.requests if "/api/" in url] if watch is not None else "(not watched)"
    raise AssertionError(f"the page did not get there in 20 s; it is at {page.url}, its API requests: {asked}")


def drawn_route_start(page):
    return page.evaluate("""() => { let start = null;
        window.stationmapPage.map.eachLayer(l => {
            if (l.getLatLngs && l.options.dashArray) start = l.getLatLngs()[0]; });
        return start && [start.lat, start.lng]; }""")


def test_overlapping_route_answers_draw_the_newer_one_from_its_own_start(browser, offline_server):
    # Two taps while a route is on: the first's start arrives last and must not be lent to the
    # second's drawing (the list and the line come from one answer).
    page, watch = page_at(browser, f"{offline_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84"
                                   "&to=31.2304,121.4737&within=300")
    page.wait_for_selector("li.station")
    wait_for_map(page)
    nearest = held_requests(page, r"/api/v1/stations/nearest")
    along = held_requests(page, r"/api/v1/stations/along-route")
    page.evaluate("() => stationmapWorker.tapped({lon: 121.4800, lat: 31.2200})")      # A
    wait_until(page, lambda: len(nearest) == 1, watch)
    page.evaluate("() => stationmapWorker.tapped({lon: 121.5000, lat: 31.2500})")      # B
    wait_until(page, lambda: len(nearest) == 2, watch)
    nearest[1].continue_()                                                     # B's start known
    wait_until(page, lambda: len(along) == 1, watch)
    nearest[0].continue_()                                                     # A's start, late
    wait_until(page, lambda: len(along) == 2, watch)
    with page.expect_response(re.compile(r"/along-route")):
        along[0].continue_()                                                   # B's answer: drawn
    with page.expect_response(re.compile(r"/along-route")):
        along[1].continue_()                                                   # A's: too late, dropped
    page.wait_for_timeout(300)
    start = drawn_route_start(page)
    assert start == pytest.approx([31.25, 121.50], abs=1e-6)
    assert watch.errors == []
    page.context.close()


def test_an_answer_arriving_after_the_back_button_cleared_the_page_is_not_shown(browser, offline_server):
    page, watch = page_at(browser, f"{offline_server}/?lang=zh")
    wait_until(page, lambda: page.evaluate("() => window.stationmapPage !== undefined"))
    nearest = held_requests(page, r"/api/v1/stations/nearest")
    page.evaluate("() => stationmapWorker.tapped({lon: 121.4998, lat: 31.2397})")
    wait_until(page, lambda: len(nearest) == 1, watch)
    page.go_back()                                                             # to the page with no point
    wait_until(page, lambda: "at=" not in page.url)
    with page.expect_response(re.compile(r"/nearest")):
        nearest[0].continue_()
    page.wait_for_timeout(300)
    assert page.locator("li.station").count() == 0
    assert watch.errors == []
    page.context.close()


def test_a_station_can_be_the_destination(browser, offline_server):
    page, _ = page_at(browser, f"{offline_server}/?lang=en&at=31.2397,121.4998&cs=wgs84")
    page.wait_for_selector("li.station")
    with page.expect_response(re.compile(r"/api/v1/stations/along-route")):
        page.locator("li.station").nth(9).get_by_role("button", name="Set as destination").click()
    page.wait_for_selector(".notice.info")
    assert "in the order you pass them" in page.locator(".notice.info").inner_text()
    page.get_by_role("button", name="Clear route").click()
    page.wait_for_function("() => !location.search.includes('to=')")
    page.context.close()


def test_the_legend_names_pins_and_clusters(browser, offline_server):
    page, _ = page_at(browser, f"{offline_server}/?lang=zh")
    page.locator("details.legend summary").click()
    text = page.locator("details.legend").inner_text()
    for words in ("开放中", "未开放", "时间不详", "附近其他站点", "你的位置", "该处的站点数"):
        assert words in text
    page.context.close()
