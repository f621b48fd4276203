"""The planner's map in Chromium: heat legend and colours, layers, sites, a URL that remembers."""

import json
import urllib.parse
import urllib.request

from browser import Watch
from test_planner_page import DESK, ready, table_rows

from stationmap.maps.style import GAP_COLOUR, HEAT_COLOURS


def get(base, **query):
    with urllib.request.urlopen(f"{base}/api/v1/coverage?" + urllib.parse.urlencode(query)) as response:
        return response.headers, response.read()


def page_at(browser, base, query=""):
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(f"{base}/coverage?{query}")
    return page, watch


def rgb(hex_colour):
    return [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]


def test_the_heat_legend_and_the_drawn_cells_use_the_one_palette(browser, offline_server):
    page, watch = page_at(browser, offline_server)
    ready(page)
    swatches = page.eval_on_selector_all("#legend .heat-scale .key", "ks => ks.map(k => [k.dataset.colour, k.textContent, "
                                         "getComputedStyle(k.querySelector('i')).backgroundColor, k.classList.contains('edge')])")
    assert [s[0] for s in swatches] == [*HEAT_COLOURS, GAP_COLOUR]
    assert [s[2] for s in swatches] == [f"rgb({', '.join(map(str, rgb(c)))})" for c in (*HEAT_COLOURS, GAP_COLOUR)]
    assert [s[1] for s in swatches][:5] == ["0–3", "3–6", "6–9", "9–12", "12–15"]
    assert swatches[4][3] and "> 15 分钟" in swatches[5][1]                   # the threshold: one visible edge
    # Every pixel the heat layer paints is a palette colour (its opacity is the layer's, not the pixels').
    colours = page.evaluate("""() => { const seen = {};
        document.querySelectorAll('.heat-layer canvas').forEach(c => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255) seen[d[i] + ',' + d[i + 1] + ',' + d[i + 2]] = 1; });
        return Object.keys(seen); }""")
    palette = {",".join(map(str, rgb(c))) for c in (*HEAT_COLOURS, GAP_COLOUR)}
    assert set(colours) <= palette and ",".join(map(str, rgb(GAP_COLOUR))) in colours and len(colours) >= 4
    _headers, body = get(offline_server, f="cells", coordsys="wgs84")
    assert page.evaluate("() => window.stationmapCoverage.heat.data().n") == json.loads(body)["count"]
    # Districts are outlines, never filled under the heat; their share is a label.
    assert page.evaluate("() => { let f = []; window.stationmapCoverage.districts.eachLayer(g => g.eachLayer && "
                         "g.eachLayer(l => l.options && l.options.fillOpacity !== undefined && f.push(l.options.fillOpacity))); "
                         "return Math.max(...f); }") == 0
    assert page.locator(".district-label").count() == 16
    assert watch.errors == []


def test_layers_switch_on_and_off_without_a_new_question(browser, offline_server):
    page, watch = page_at(browser, offline_server)
    ready(page)
    requests = len(watch.requests)
    page.get_by_label("到最近站点的时间").uncheck()
    assert page.locator(".heat-layer").count() == 0
    page.get_by_role("checkbox", name="各区覆盖率").uncheck()
    assert page.locator(".district-label").count() == 0
    page.get_by_label("到最近站点的时间").check()
    page.get_by_role("checkbox", name="各区覆盖率").check()
    assert page.locator(".heat-layer").count() == 1 and page.locator(".district-label").count() == 16
    assert not [u for u in watch.requests[requests:] if "/api/v1/coverage" in u]
    assert watch.errors == []


def test_a_site_s_list_entry_zooms_to_it_and_its_popup_says_what_to_act_on(browser, offline_server):
    page, watch = page_at(browser, offline_server, "adcode=310112&recommend=3")     # also: the URL is restored
    ready(page)
    assert page.locator("#area").input_value() == "310112" and page.locator("#recommend").input_value() == "3"
    _, body = get(offline_server, adcode="310112", recommend=3, coordsys="wgs84", lang="zh")
    sites = json.loads(body)["recommendations"]
    assert len(sites) == 3 and all(s["district"] == "闵行区" and s["nearest_station_m"] > 0 for s in sites)
    assert page.locator(".site-marker").count() == 3
    page.locator("#sites li").nth(1).get_by_role("button").click()
    centre = page.evaluate("() => { const c = window.stationmapCoverage.map.getCenter(); "
                           "return [c.lng, c.lat, window.stationmapCoverage.map.getZoom()]; }")
    assert abs(centre[0] - sites[1]["lon"]) < 1e-4 and abs(centre[1] - sites[1]["lat"]) < 1e-4 and centre[2] >= 15
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "建议站点 2" in text and "闵行区" in text and sites[1]["nearest_station"] in text
    assert f"{sites[1]['wgs84_lat']:.6f}, {sites[1]['wgs84_lon']:.6f}" in text
    assert f"{sites[1]['gcj02_lat']:.6f}, {sites[1]['gcj02_lon']:.6f}" in text
    assert popup.get_by_role("link").get_attribute("href") == sites[1]["amap"]
    href = page.locator("#dl-sites-csv").get_attribute("href")
    headers, data = get(offline_server, **dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query)))
    assert 'filename="recommended-sites-310112-walk-15min.csv"' in headers["Content-Disposition"]
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and sites[1]["nearest_station"] in lines[2]
    assert watch.errors == []


def test_bad_minutes_are_explained_in_chinese_and_the_old_answer_is_cleared(browser, offline_server):
    page, watch = page_at(browser, offline_server)
    ready(page)
    page.locator("#minutes").fill("90")
    page.locator("#minutes").dispatch_event("change")
    page.wait_for_function("() => document.getElementById('err-minutes').textContent")
    assert page.locator("#err-minutes").inner_text() == "分钟须为 1 到 60 之间的数字。"
    assert page.locator("#minutes").get_attribute("aria-invalid") == "true"
    assert table_rows(page) == [] and page.locator("#table").get_attribute("data-ready") is None
    assert "minutes=90" in page.url
    page2, watch2 = page_at(browser, offline_server, "minutes=abc")
    page2.wait_for_function("() => document.getElementById('err-minutes').textContent")
    assert page2.locator("#status").inner_text().startswith("请先修改标出的项目")
    assert watch.errors == [] and watch2.errors == []


def test_a_shared_url_opens_the_same_answer(browser, offline_server):
    page, watch = page_at(browser, offline_server, "adcode=310101&mode=ebike&minutes=10&at=02:00")
    ready(page)
    assert [page.locator(s).input_value() for s in ("#area", "#mode", "#minutes", "#at")] == ["310101", "ebike", "10", "02:00"]
    _, body = get(offline_server, adcode="310101", mode="ebike", minutes=10, at="02:00", coordsys="wgs84", lang="zh")
    expected = json.loads(body)
    assert [r[0] for r in table_rows(page)] == ["310101"]
    assert page.locator("#assumptions").inner_text() == expected["assumptions"]
    assert "0–2" in page.locator("#legend").inner_text() and "> 10" in page.locator("#legend").inner_text()
    assert watch.errors == []
