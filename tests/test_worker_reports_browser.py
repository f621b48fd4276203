"""The worker page's reports, search box and district links: headless Chromium on a phone
viewport against the real server (gunicorn) and a real GeoPackage store."""

from __future__ import annotations

import json
import urllib.request

import pytest
from browser import Watch
from conftest import Server

from stationmap.stations import read_stations
from stationmap.store import Store

PHONE = {"width": 390, "height": 844}
HOSTILE = '<img src=x onerror="alert(1)"><b id="bold">粗</b>'


def _seeded_server(folder, **env) -> Server:
    """The real server on a GeoPackage seeded with the shipped register (one worker, no tiles)."""
    url = f"sqlite:///{folder / 'register.gpkg'}"
    store = Store.open(url, upgrade=True)
    store.seed(read_stations(), file_name="shanghai_stations.geojson", digest="")
    store.close()
    return Server("--database", url, env={"STATIONMAP_TILES": "none", "STATIONMAP_REPORTS_REFRESH_S": "0.05", **env},
                  workers=1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = _seeded_server(tmp_path_factory.mktemp("reports"), STATIONMAP_REPORTS_CLOSED_MIN="1")
    yield running.url
    running.stop()


def _page(browser, url):
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    watch = Watch(page)
    page.goto(url)
    return page, watch


def test_a_rider_reports_a_closure_from_a_card_and_the_summary_appears(browser, server):
    page, watch = _page(browser, f"{server}/?at=31.2304,121.4737&cs=wgs84")
    card = page.locator("li.station").first
    card.wait_for()
    station = card.get_attribute("data-id")
    card.locator(".report-problem summary").click()
    assert card.locator("input[value=closed]").is_checked()
    card.locator("textarea[name=note]").fill(HOSTILE)
    card.locator(".report-send").click()
    card.locator(".report-result.ok").wait_for(timeout=10_000)
    assert "谢谢" in card.locator(".report-result").inner_text()
    summary = card.locator(".report-summary")
    words = summary.inner_text()
    assert words.startswith("近 24 小时 1 人报告关闭") and "排在距离相近的站点之后" in words
    assert page.locator("#bold").count() == 0 and watch.dialogs == [] and watch.errors == []
    # The same phone again, the same day: told so, not counted.
    card.locator(".report-open").click()
    page.wait_for_function("() => document.querySelector('li.station .report-result')"
                           ".textContent.includes('已经报告过')", timeout=10_000)
    answer = json.load(urllib.request.urlopen(f"{server}/api/v1/stations/{station}", timeout=10))
    assert answer["reports"]["closed_reports"] == 1 and answer["reports"]["confirmations"] == 0
    # Reloaded: the card says it was reported closed; it is still listed, never hidden.
    page.reload()
    flagged = page.locator(f"li.station[data-id='{station}'] .report-summary.flagged")
    flagged.wait_for(timeout=10_000)
    page.context.close()


def test_its_open_is_one_tap_and_english_speaks_english(browser, server):
    page, watch = _page(browser, f"{server}/?lang=en&at=31.2200,121.4500&cs=wgs84")
    card = page.locator("li.station").nth(1)
    card.wait_for()
    card.locator(".report-open").click()
    card.locator(".report-result.ok").wait_for(timeout=10_000)
    assert card.locator(".report-result").inner_text() == "Thanks for confirming!"
    assert card.locator(".report-summary").inner_text() == "Last verified today · 1 worker confirmed it open"
    assert watch.errors == []
    page.context.close()


def test_the_station_page_has_the_report_buttons(browser, server):
    page, watch = _page(browser, f"{server}/s/SH-310104-0001")
    box = page.locator("#report .reports")
    box.wait_for()
    assert box.locator(".report-open").inner_text() == "还开着"
    assert box.locator(".report-problem summary").inner_text() == "有问题"
    box.locator(".report-open").click()
    box.locator(".report-result.ok").wait_for(timeout=10_000)
    assert "1 人确认开放" in page.locator("#reports-summary").inner_text()
    assert watch.errors == []
    page.context.close()


def test_the_search_box_finds_a_district_by_pinyin_and_lists_the_stations_there_by_keyboard(browser, server):
    page, watch = _page(browser, f"{server}/")
    box = page.locator("#search")
    box.focus()
    page.keyboard.type("xuhui")
    page.locator("#search-results li[role=option]").first.wait_for(timeout=10_000)
    assert box.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "search-results-0"
    assert "徐汇" in page.locator("#search-results-0").inner_text()
    page.keyboard.press("Enter")
    page.locator("li.station").first.wait_for(timeout=10_000)
    assert "d=310104" in page.url or "at=" in page.url
    assert page.locator("#search-results").is_hidden()
    assert "徐汇" in page.locator("#status").inner_text() or page.locator("li.station").count() > 0
    assert watch.errors == []
    page.context.close()


def test_choosing_a_station_in_the_search_centres_on_it_and_marks_its_card(browser, server):
    page, _ = _page(browser, f"{server}/")
    page.locator("#search").fill("爱心接力站")
    first = page.locator("#search-results li[role=option]").first
    first.wait_for(timeout=10_000)
    first.click()
    page.locator("li.station.selected").wait_for(timeout=10_000)
    chosen = page.locator("li.station.selected").get_attribute("data-id")
    assert f"sel={chosen}" in page.url and page.locator("li.station").first.get_attribute("data-id") == chosen
    page.context.close()


def test_the_district_posters_qr_link_opens_the_page_on_that_district(browser, server):
    page, watch = _page(browser, f"{server}/?district=310104")
    page.locator("li.station").first.wait_for(timeout=10_000)
    assert page.locator("#district").input_value() == "310104"
    assert watch.errors == []
    page.context.close()


def test_a_phone_reporting_too_often_is_told_to_wait_in_its_language_and_nothing_is_counted(browser, tmp_path):
    """The rate limit seen from the page, not only the API: the third report within the hour (the
    limit lowered to two) gets the page's own sentence, and the station's summary is unchanged."""
    limited = _seeded_server(tmp_path, STATIONMAP_RATELIMIT_REPORTS="2 per hour")
    try:
        told = {"zh": "报告太频繁，请过一会儿再试。", "en": "Too many reports: please try again later."}
        for lang, words in told.items():
            page, watch = _page(browser, f"{limited.url}/?lang={lang}&at=31.2304,121.4737&cs=wgs84")
            cards = page.locator("li.station")
            cards.first.wait_for()
            third = cards.nth(2)
            if lang == "zh":
                for n in (0, 1):
                    cards.nth(n).locator(".report-open").click()
                    cards.nth(n).locator(".report-result.ok").wait_for(timeout=10_000)
            station = third.get_attribute("data-id")
            third.locator(".report-open").click()
            third.locator(".report-result").get_by_text(words, exact=True).wait_for(timeout=10_000)
            answer = json.load(urllib.request.urlopen(f"{limited.url}/api/v1/stations/{station}", timeout=10))
            assert answer["reports"]["confirmations"] == 0
            assert all("status of 429" in e for e in watch.errors), watch.errors   # Chromium logs the 429 itself
            page.context.close()
    finally:
        limited.stop()
