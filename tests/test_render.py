"""The planner's coverage map: one file that opens from disk with no network, text escaped."""

import re

import pandas as pd
import pytest

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.render import coverage_map, save_map
from stationmap.stations import from_frame

from browser import Watch, chromium

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    districts = load_districts("310101")
    frame = pd.DataFrame({"id": ["a", "b"], "name": [HOSTILE, "正常站"], "lon": [121.4737, 121.49],
                          "lat": [31.2304, 31.22], "opening_hours": ["24/7", "24/7"]})
    index = StationIndex(from_frame(frame))
    report = coverage_report(districts, index, Threshold.walking(15))
    path = tmp_path_factory.mktemp("map") / "map.html"
    return save_map(coverage_map(report, districts, index, lang="zh"), path)


def test_nothing_is_loaded_from_outside(map_file):
    text = map_file.read_text(encoding="utf-8")
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', text)
    assert "cdn" not in text.lower()


def test_opens_from_disk_with_the_network_blocked(map_file):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.route(re.compile(r"^https?://"), lambda route: route.abort())
        page = context.new_page()
        watch = Watch(page)
        page.goto(map_file.as_uri())
        page.wait_for_selector(".leaflet-interactive")
        page.wait_for_timeout(500)
        assert watch.errors == [] and watch.dialogs == []
        assert [u for u in watch.requests if u.startswith("http")] == []
        assert "覆盖" in page.locator("body").inner_text()                 # legend, in Chinese
        assert page.locator("img[src='x']").count() == 0
        page.locator(".leaflet-marker-icon").first.hover()
        page.wait_for_selector(".leaflet-tooltip")
        tooltips = page.locator(".leaflet-tooltip").all_inner_texts()
        assert any(HOSTILE in t or "正常站" in t for t in tooltips)


# -- the stations map (export-html --layer stations) ---------------------------------------

@pytest.fixture(scope="module")
def stations_file(tmp_path_factory):
    from stationmap.picture import stations_inside
    from stationmap.render import stations_map

    districts = load_districts("310101")
    frame = pd.DataFrame({"id": ["a", "b", "c"], "name": [HOSTILE, "正常站", "司机之家一号"],
                          "lon": [121.4737, 121.49, 121.48], "lat": [31.2304, 31.22, 31.225],
                          "type": ["outdoor_worker_station", "outdoor_worker_station", "driver_home"]})
    index = StationIndex(from_frame(frame))
    path = tmp_path_factory.mktemp("stations") / "stations.html"
    m = stations_map(districts, index, stations_inside(districts, index), lang="zh",
                     title="<b>黄浦区</b>驿站", caption="数据：mine.csv")
    return save_map(m, path)


def test_stations_map_inlines_everything(stations_file):
    text = stations_file.read_text(encoding="utf-8")
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', text)
    assert "&lt;b&gt;黄浦区&lt;/b&gt;驿站" in text               # a typed title is escaped too


def test_stations_map_opens_from_disk_with_markers_by_type_and_names_as_text(stations_file):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.route(re.compile(r"^https?://"), lambda route: route.abort())
        page = context.new_page()
        watch = Watch(page)
        page.goto(stations_file.as_uri())
        page.wait_for_selector(".leaflet-marker-icon")
        page.wait_for_timeout(500)
        assert watch.errors == [] and watch.dialogs == []
        assert [u for u in watch.requests if u.startswith("http")] == []
        body = page.locator("body").inner_text()
        assert "<b>黄浦区</b>驿站" in body and "数据：mine.csv" in body
        assert "户外劳动者服务站点 (2)" in body and "司机之家 (1)" in body       # legend by type
        assert page.locator("img[src='x']").count() == 0
        page.locator(".leaflet-marker-icon").first.hover()
        page.wait_for_selector(".leaflet-tooltip")
        assert page.locator(".leaflet-tooltip").first.inner_text() in (HOSTILE, "正常站", "司机之家一号")
        colours = page.eval_on_selector_all(".leaflet-marker-icon div", "els => els.map(e => e.style.background)")
        assert len(colours) == 3 and len(set(colours)) == 2          # two types, two colours
