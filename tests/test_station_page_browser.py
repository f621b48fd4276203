"""The station page in headless Chromium on a phone, served by the real server (gunicorn)."""

import pandas as pd
import pytest
from browser import Watch
from conftest import Server

from stationmap.stations import from_frame, write_stations

PHONE = {"width": 390, "height": 844}
BASE = "https://stations.example.cn"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    frame = pd.DataFrame({
        "id": ["members-1", "evil-1"], "name": ["测试职工之家", HOSTILE],
        "lon": [121.48, 121.50], "lat": [31.23, 31.23],
        "type": ["worker_home", "outdoor_worker_station"], "access": ["union_members", "public"],
        "amenities": ["wifi;books;drinking_water", "toilet"], "opening_hours": ["Mo-Sa 08:00-20:00", "24/7"],
        "address": ["上海市黄浦区人民路1号", ""], "adcode": ["310101", "310101"], "last_verified": ["2026-11-01", ""],
    })
    path = tmp_path_factory.mktemp("stations") / "stations.csv"
    write_stations(from_frame(frame), path)
    running = Server(env={"STATIONMAP_STATIONS_PATH": str(path), "STATIONMAP_TILES": "none",
                          "STATIONMAP_PUBLIC_BASE_URL": BASE}, workers=1)
    yield running.url
    running.stop()


def _page(browser, url):
    page = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    watch = Watch(page)
    page.goto(url)
    return page, watch


def test_a_phone_sees_name_week_badge_and_the_preview_tags(browser, server):
    page, watch = _page(browser, f"{server}/s/members-1")
    assert page.locator("#name").inner_text() == "测试职工之家"
    assert page.locator("#badge").inner_text() == "会员专用" and page.locator("#badge").is_visible()
    assert page.locator("#hours tr").count() == 7 and page.locator("#hours tr.today").count() == 1
    assert page.locator("#facilities li").all_inner_texts() == ["饮用水", "无线网络", "书报"]
    assert page.title().startswith("测试职工之家")
    meta = {key: page.locator(f'meta[property="{key}"]').get_attribute("content")
            for key in ("og:title", "og:description", "og:url", "og:image")}
    assert meta["og:title"] == "测试职工之家" and "会员专用" in meta["og:description"]
    assert meta["og:url"] == f"{BASE}/s/members-1" and meta["og:image"] == f"{BASE}/s/members-1/poster.png"
    assert page.locator('meta[name="description"]').get_attribute("content") == meta["og:description"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]      # no sideways scrolling
    page.screenshot(path="/tmp/stationmap-station-page.png", full_page=True)
    assert watch.errors == [] and all(u.startswith(server) for u in watch.requests)


def test_english_and_a_hostile_name_shown_as_text_without_running(browser, server):
    page, watch = _page(browser, f"{server}/s/evil-1?lang=en")
    assert page.locator("#name").inner_text() == HOSTILE
    assert page.locator("main img").count() == 0 and watch.dialogs == []
    assert page.locator("#hours tr").first.inner_text().endswith("open 24 hours")
    missing, _ = _page(browser, f"{server}/s/nothing?lang=en")
    assert "Station not found" in missing.locator("main").inner_text()
