"""The planner's coverage map: one file that opens from disk with no network, text escaped."""

import re

import geopandas as gpd
import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import pytest
import shapely
from browser import Watch, chromium

from stationmap.coverage import Threshold, coverage_report
from stationmap.districts import load_districts
from stationmap.index import StationIndex
from stationmap.maps.html import (
    NAMED_STATIONS,
    coverage_map,
    detail_for,
    gap_cells_for_map,
    gap_shapes,
    map_html,
    parents,
    save_map,
    stations_map,
)
from stationmap.maps.picture import stations_inside
from stationmap.stations import from_frame

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
        colours = page.eval_on_selector_all(".leaflet-marker-icon",
                                            "els => els.map(e => getComputedStyle(e).backgroundColor)")
        assert len(colours) == 3 and len(set(colours)) == 2          # two types, two colours


# -- what is drawn is sized to the map, not to the data ------------------------------------------

def test_gap_cells_within_the_budget_are_drawn_as_they_are(shanghai):
    report = coverage_report(load_districts("310101"), shanghai, Threshold.radius(300))
    uncovered = report.cells[report.cells["distance_m"] > 300]
    drawn = gap_cells_for_map(report.cells, 300, limit=len(uncovered))
    assert sorted(drawn["cell"]) == sorted(uncovered["cell"])


def test_too_many_gap_cells_are_merged_into_parents_clipped_to_the_districts(shanghai):
    districts = load_districts("310115")
    report = coverage_report(districts, shanghai, Threshold.walking(15))
    cells, radius = report.cells, report.threshold.radius_m
    uncovered = cells[cells["distance_m"] > radius]
    drawn = gap_cells_for_map(cells, radius, limit=len(uncovered) // 10)
    assert len(drawn) <= len(uncovered) // 10 and drawn["merged"].all()
    res = int(drawn["resolution"].iloc[0])
    assert res < cells["resolution"].max()
    parent = np.array([h3.cell_to_parent(int(c), res) for c in cells["cell"]])
    for cell in drawn["cell"].to_numpy()[:200]:         # each parent drawn: mostly uncovered children
        children = cells["distance_m"].to_numpy()[parent == cell]
        assert (children > radius).mean() > 0.5
    # Drawn as shapes, clipped to the district, the area is the uncovered area within the
    # coarsening's error (cells on a gap's edge go one way or the other).
    shapes = gap_shapes(report, districts, limit=len(uncovered) // 10)
    equal_area = "+proj=cea +datum=WGS84"
    drawn_km2 = gpd.GeoSeries([g for _, g in shapes], crs="EPSG:4326").to_crs(equal_area).area.sum() / 1e6
    assert drawn_km2 == pytest.approx(uncovered["area_km2"].sum(), rel=0.1)
    outside = shapely.difference(shapely.union_all([g for _, g in shapes]), districts.geometry.iloc[0].buffer(0.002))
    assert outside.is_empty


def test_outline_detail_follows_the_map_extent():
    city, digits = detail_for(load_districts("310101"))
    country, country_digits = detail_for(gpd.GeoDataFrame(geometry=[shapely.box(73, 18, 135, 54)], crs="EPSG:4326"))
    assert city < 1e-4 < 0.01 < country and digits > country_digits


def test_a_map_of_very_many_stations_carries_positions_only():
    """Beyond NAMED_STATIONS the markers lose their names (a national map must stay openable);
    positions are rounded to about a metre."""
    n = NAMED_STATIONS + 1
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "name": [f"站{i}号" for i in range(n)],
                          "lon": rng.uniform(121.3, 121.6, n), "lat": rng.uniform(31.1, 31.3, n)})
    index = StationIndex(from_frame(frame))
    districts = load_districts("310101")
    text = map_html(stations_map(districts, index, np.arange(n)))
    assert "站1号" not in text and "\\u7ad91\\u53f7" not in text
    few = map_html(stations_map(districts, index, np.arange(100)))
    assert "\\u7ad91\\u53f7" in few or "站1号" in few
    assert not re.search(r"\d\.\d{6,}", text.split("var data = ")[1][:2000])


def test_vectorised_parents_equal_h3s_own():
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(18, 54, 300), rng.uniform(73, 135, 300)
    for res in (5, 9, 11):
        cells = np.array([h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)], dtype=np.uint64)
        for coarser in range(0, res):
            assert parents(cells, coarser).tolist() == [int(h3.cell_to_parent(c, coarser)) for c in cells]
