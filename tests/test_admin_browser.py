"""The admin pages in headless Chromium against the real server (gunicorn, two workers, a
GeoPackage store): sign in, edit with the hours preview, place a pin on the map, two people
saving the same station, sign out, a hostile name, and all of it by keyboard alone.
"""

from __future__ import annotations

import pytest
from admin_helpers import EVIL, HOSTILE, PASSWORD, SECRET, XUHUI, seeded_store
from browser import Watch
from conftest import Server

from stationmap.store import Store

DESK = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("admin-browser")
    url = seeded_store(f"sqlite:///{folder / 'register.gpkg'}")
    running = Server(env={"STATIONMAP_DATABASE_URL": url, "STATIONMAP_SECRET_KEY": SECRET, "STATIONMAP_TILES": "none",
                          "STATIONMAP_INSTANCE_PATH": str(folder / "instance")}, workers=2)
    running.store_url = url
    yield running
    running.stop()


@pytest.fixture
def store(server):
    opened = Store.open(server.store_url)
    yield opened
    opened.close()


def _page(browser, server, viewport=DESK):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    return page, Watch(page)


def _sign_in(page, server, name, path="/admin/"):
    page.goto(f"{server.url}{path}")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("p.who")


def test_sign_in_edit_the_hours_with_the_preview_and_sign_out(browser, server, store):
    page, watch = _page(browser, server)
    _sign_in(page, server, "ada", f"/admin/stations/{XUHUI}")
    assert page.url.endswith(f"/admin/stations/{XUHUI}")               # ?next= brought us back
    hours = page.get_by_label("开放时间")
    hours.fill("周一至周六 8:00-20:00")
    page.wait_for_function("() => document.getElementById('hours-expression').textContent"
                           ".includes('Mo-Sa 08:00-20:00')")
    assert page.locator("#hours-week tr").count() == 7
    page.get_by_label("修改原因（记入修改记录）").fill("夏季延长")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("p.notice.ok")
    assert "已保存，现为版本 2" in page.locator("p.notice.ok").inner_text()
    assert store.get(XUHUI)["opening_hours"] == "Mo-Sa 08:00-20:00"
    page.screenshot(path="/tmp/stationmap-admin-form.png", full_page=True)
    page.get_by_role("button", name="退出").click()
    page.wait_for_selector("text=已退出。")
    page.goto(f"{server.url}/admin/stations/{XUHUI}")
    assert "/admin/login" in page.url
    assert watch.errors == [] and all(u.startswith(server.url) for u in watch.requests), watch.requests


def test_a_station_without_coordinates_is_placed_by_clicking_the_map_then_dragged(browser, server, store):
    page, watch = _page(browser, server)
    _sign_in(page, server, "xu")
    page.goto(f"{server.url}/admin/stations/new")
    page.get_by_label("名称", exact=True).fill("徐汇区地图测试驿站")
    page.get_by_label("所在区").select_option("310104")
    page.get_by_role("button", name="创建").click()
    page.wait_for_selector("p.notice.ok")
    new_id = page.url.rsplit("/", 1)[1]
    assert store.get(new_id)["location"] is None
    page.wait_for_selector("#map[data-district='310104']", state="attached")   # opened on its district
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lon, lat = float(page.get_by_label("经度").input_value()), float(page.get_by_label("纬度").input_value())
    assert 120 < lon < 123 and 30 < lat < 32
    pin = page.locator(".leaflet-marker-icon")
    pin_box = pin.bounding_box()
    page.mouse.move(pin_box["x"] + 12, pin_box["y"] + 30)
    page.mouse.down()
    page.mouse.move(pin_box["x"] + 112, pin_box["y"] + 30, steps=8)
    page.mouse.up()
    dragged = float(page.get_by_label("经度").input_value())
    assert dragged > lon
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("p.notice.ok")
    stored = store.get(new_id)["location"]
    assert stored == pytest.approx([dragged, float(page.get_by_label("纬度").input_value())], abs=1e-7)
    assert watch.errors == []


def test_two_pages_saving_the_same_station_the_second_sees_both(browser, server, store):
    station = "SH-310104-0005"
    first, _ = _page(browser, server)
    second, _ = _page(browser, server)
    _sign_in(first, server, "ada", f"/admin/stations/{station}")
    _sign_in(second, server, "xu", f"/admin/stations/{station}")
    first.get_by_label("电话").fill("021-10000001")
    first.get_by_role("button", name="保存").click()
    first.wait_for_selector("p.notice.ok")
    second.get_by_label("电话").fill("021-20000002")
    second.get_by_role("button", name="保存").click()
    second.wait_for_selector("table.conflict")
    caption = second.locator("table.conflict caption").inner_text()
    assert "user:ada" in caption
    row = second.locator("table.conflict tbody tr", has_text="电话")
    assert row.locator("td.yours").inner_text() == "021-20000002"
    assert row.locator("td.theirs").inner_text() == "021-10000001"
    assert store.get(station)["phone"] == "021-10000001"
    second.get_by_role("button", name="保存").click()                 # having seen both, keep mine
    second.wait_for_selector("p.notice.ok")
    assert store.get(station)["phone"] == "021-20000002"


def test_a_hostile_name_is_text_in_the_list_and_the_form(browser, server):
    page, watch = _page(browser, server)
    _sign_in(page, server, "ada")
    page.goto(f"{server.url}/admin/?q={EVIL}")
    assert page.locator("td.name a").inner_text() == HOSTILE
    page.locator("td.name a").click()
    page.wait_for_selector("#station-form")
    assert page.get_by_label("名称", exact=True).input_value() == HOSTILE
    assert page.locator("#title").inner_text().startswith(HOSTILE)
    assert page.locator('img[src="x"]').count() == 0 and watch.dialogs == []


def _tab_to(page, predicate: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return {predicate}; }}"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def test_keyboard_only_sign_in_search_edit_and_sign_out(browser, server, store):
    page, watch = _page(browser, server)
    page.goto(f"{server.url}/admin/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")  # autofocus
    page.keyboard.type("vera")                               # the name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("p.who")
    page.goto(f"{server.url}/admin/login?next=/admin/")
    page.wait_for_selector("p.who")                          # signed in already: straight on
    # A viewer reaches everything but cannot change it; sign out and come back as the editor.
    _tab_to(page, "e.textContent === '退出'")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=已退出。")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")
    page.keyboard.type("xu")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("p.who")
    _tab_to(page, "e.name === 'q'")
    page.keyboard.type("SH-310104-0007")
    page.keyboard.press("Enter")
    page.wait_for_selector("td.id:text-is('SH-310104-0007')")
    _tab_to(page, "e.closest && !!e.closest('td.name')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#station-form")
    _tab_to(page, "e.id === 'f-phone'")
    page.keyboard.press("Control+A")
    page.keyboard.type("021-30000003")
    _tab_to(page, "e.id === 'save'")
    page.keyboard.press("Enter")
    page.wait_for_selector("p.notice.ok")
    assert store.get("SH-310104-0007")["phone"] == "021-30000003"
    _tab_to(page, "e.id === 'verified'")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=已记录今天")
    assert watch.errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_axe_finds_no_serious_violation_on_the_admin_pages(browser, server, lang):
    from readability import axe_violations

    # bypass_csp: axe is injected as an inline script (the test's, not the page's).
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=True).new_page()
    page.goto(f"{server.url}/admin/login?lang={lang}")
    assert axe_violations(page) == []
    page.locator("#name").fill("ada")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_selector("p.who")
    for path in ("/admin/?needs_location=1", f"/admin/stations/{XUHUI}", "/admin/stations/new"):
        page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert axe_violations(page) == [], path
    page.context.close()
