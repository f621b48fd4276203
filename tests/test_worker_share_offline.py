"""The worker page remembers what was seen (the URL) and works with no network (service worker):
headless Chromium on a phone viewport against the real server."""

import re

from browser import Watch

LUJIAZUI = {"latitude": 31.2397, "longitude": 121.4998}
PHONE = {"width": 390, "height": 844}


def listed_ids(page):
    return page.eval_on_selector_all("li.station", "items => items.map(i => i.dataset.id)")


def located(browser, base, lang="zh"):
    context = browser.new_context(geolocation=LUJIAZUI, permissions=["geolocation"], viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base}/?lang={lang}")
    page.get_by_role("button", name="定位我" if lang == "zh" else "Locate me").click()
    page.wait_for_selector("li.station")
    return context, page, watch


def test_a_shared_link_and_a_reload_restore_the_list_the_filters_and_the_selection(browser, offline_server):
    context, page, watch = located(browser, offline_server, lang="en")
    page.get_by_role("radio", name="E-bike").check()
    page.locator("details.field summary").click()
    with page.expect_response(re.compile(r"/api/v1/stations/nearest.*amenity=drinking_water")):
        page.get_by_label("Drinking water").check()
    page.wait_for_function("() => location.search.includes('amenity=drinking_water')")
    third = page.locator("li.station").nth(2)
    chosen = third.get_attribute("data-id")
    third.locator("h2 button").click()
    page.wait_for_function("id => new URLSearchParams(location.search).get('sel') === id", arg=chosen)
    seen, url = listed_ids(page), page.url
    assert "mode=ebike" in url and "lang=en" in url and "at=" in url

    def same_view(other):
        other.wait_for_selector("li.station.selected")
        assert listed_ids(other) == seen
        assert other.locator("li.station.selected").get_attribute("data-id") == chosen
        assert other.get_by_role("radio", name="E-bike").is_checked() and other.get_by_label("Drinking water").is_checked()  # noqa: E501
        assert other.locator("html").get_attribute("lang") == "en"
        assert other.locator(".leaflet-popup-content").inner_text().startswith(
            other.locator("li.station.selected h2").inner_text().split(". ", 1)[1])   # its pin, in view

    stranger = browser.new_context(viewport=PHONE).new_page()        # no location: only the link
    stranger.goto(url)
    same_view(stranger)
    page.reload()
    same_view(page)
    assert watch.errors == []
    context.close()
    stranger.context.close()


def test_back_returns_to_the_previous_place(browser, offline_server):
    context, page, _ = located(browser, offline_server)
    first = listed_ids(page)
    page.locator("#district").select_option(label="嘉定区")
    page.wait_for_function("first => [...document.querySelectorAll('li.station')].map(i => i.dataset.id).join() !== first",  # noqa: E501
                           arg=",".join(first))
    assert "d=310114" in page.url
    page.go_back()
    page.wait_for_function("first => [...document.querySelectorAll('li.station')].map(i => i.dataset.id).join() === first",  # noqa: E501
                           arg=",".join(first))
    assert page.locator("#district").input_value() == ""
    context.close()


def test_the_language_switch_keeps_the_place(browser, offline_server):
    context, page, _ = located(browser, offline_server)
    seen = listed_ids(page)
    with page.expect_navigation(wait_until="load"):    # not the Chinese page's list, still showing
        page.get_by_role("link", name="English").click()
    page.wait_for_selector("li.station")
    assert listed_ids(page) == seen and "Union" in page.locator("h1").inner_text()
    context.close()


def test_offline_after_one_visit_the_page_opens_with_the_last_results_and_their_time(browser, offline_server):
    context, page, _ = located(browser, offline_server)
    seen = listed_ids(page)
    page.evaluate("() => navigator.serviceWorker.ready")              # the offline copy is made
    page.wait_for_function("() => caches.keys().then(k => k.length > 0)", timeout=20000)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".notice.offline", timeout=20000)
    notes = page.locator("#notices").inner_text()
    assert re.search(r"离线：显示 \d\d:\d\d 的结果", notes), notes
    assert "离线时无法查找新位置" in notes
    assert listed_ids(page) == seen
    assert "Failed to fetch" not in page.locator("body").inner_text()
    assert page.locator("h1").inner_text() == "附近的工会驿站"
    # A new place cannot be searched offline: the page says so in Chinese.
    page.locator("#district").select_option(label="嘉定区")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('离线')")
    assert "Failed" not in page.locator("#status").inner_text()
    context.close()


def test_a_repeat_visit_is_served_by_the_offline_copy(browser, offline_server):
    context, page, _ = located(browser, offline_server)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null || caches.keys().then(k => k.length > 0)")
    served = []
    page.on("response", lambda r: served.append((r.url, r.from_service_worker)))
    page.reload()
    page.wait_for_selector("li.station")
    by_worker = [url for url, sw in served if sw]
    assert any(url.endswith("/static/worker.js") or "/static/worker.js?" in url for url in by_worker), served
    assert any(re.search(r"/\?", url) or url.endswith("/") for url in by_worker), served
    context.close()


def failing(status):
    def handler(route):
        route.fulfill(status=status, content_type="application/problem+json", body='{"title": "Internal Server Error"}')
    return handler


def test_errors_are_shown_in_the_pages_language(browser, offline_server):
    for status, zh, en in [(500, "服务器暂时出错", "The server had a problem"),
                           (429, "请求太频繁", "Too many requests")]:
        for lang, words in (("zh", zh), ("en", en)):
            context = browser.new_context(viewport=PHONE, service_workers="block")
            context.route(re.compile(r".*/api/v1/stations/nearest.*"), failing(status))
            page = context.new_page()
            page.goto(f"{offline_server}/?lang={lang}&at=31.2397,121.4998&cs=wgs84")
            page.wait_for_function("w => document.querySelector('#status').textContent.includes(w)", arg=words)
            assert "Internal" not in page.locator("body").inner_text()
            context.close()
    context = browser.new_context(viewport=PHONE, service_workers="block")
    context.route(re.compile(r".*/api/v1/stations/nearest.*"), lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{offline_server}/?lang=zh&at=31.2397,121.4998&cs=wgs84")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('网络连接失败')")
    context.close()


def test_the_manifest_names_the_app_in_chinese_with_png_icons(offline_server):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{offline_server}/manifest.webmanifest") as response:
        manifest = json.loads(response.read())
    assert manifest["name"] == "附近的工会驿站" and manifest["lang"] == "zh-CN"
    for icon in manifest["icons"]:
        with urllib.request.urlopen(offline_server + icon["src"]) as response:
            body = response.read()
            assert body[:8] == b"\x89PNG\r\n\x1a\n" and len(body) < 8000
    with urllib.request.urlopen(f"{offline_server}/sw.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert "self.STATIONMAP" in response.read().decode()
